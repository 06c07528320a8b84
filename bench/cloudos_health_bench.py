"""Cost of one cloudos_health run on localhost, and its answer time when every component hangs.

Prints ratios; asserts nothing. Run: .venv/bin/python bench/cloudos_health_bench.py [runs]

* health vs ping: median wall time of ``ansible localhost -m cloudos.ops.cloudos_health`` over
  median ``ansible localhost -m ping``; the target is health <= 1.3 x ping + cpu_sample_seconds.
* all hanging: every HTTP endpoint, the Docker host, the Kubernetes API and a TLS endpoint point at
  a listener that accepts and never answers; the target is about ``timeout`` (+ the CPU window),
  not the sum of the timeouts.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
CPU_WINDOW = 1.0


def ansible(module, args=None):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_STDOUT_CALLBACK='json',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    cmd = [os.path.join(BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-m', module]
    if args is not None:
        cmd += ['-a', json.dumps(args)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    return elapsed, result


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    ping = statistics.median(ansible('ping')[0] for dummy in range(runs))
    health_times = []
    for dummy in range(runs):
        elapsed, result = ansible('cloudos.ops.cloudos_health', {'cpu_sample_seconds': CPU_WINDOW})
        health_times.append(elapsed)
    health = statistics.median(health_times)
    target = 1.3 * ping + CPU_WINDOW
    print('ping            median %.2fs over %d runs' % (ping, runs))
    print('cloudos_health  median %.2fs (module duration_ms %s)' % (health, result['health']['duration_ms']))
    print('ratio health/ping %.2f; target <= 1.3 x ping + %.1fs = %.2fs -> %s'
          % (health / ping, CPU_WINDOW, target, 'met' if health <= target else 'NOT met'))

    hole = socket.socket()
    hole.bind(('127.0.0.1', 0))
    hole.listen(64)
    port = hole.getsockname()[1]
    url = 'http://127.0.0.1:%d' % port
    timeout = 2.0
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = os.path.join(tmp, 'kubeconfig')
        with open(kubeconfig, 'w') as handle:
            json.dump({'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'c',
                       'clusters': [{'name': 'c', 'cluster': {'server': url}}], 'users': [{'name': 'u', 'user': {}}],
                       'contexts': [{'name': 'c', 'context': {'cluster': 'c', 'user': 'u'}}]}, handle)
        elapsed, result = ansible('cloudos.ops.cloudos_health', {
            'prometheus_url': url, 'grafana_url': url, 'alertmanager_url': url, 'ai_engine_url': url,
            'kubeconfig': kubeconfig, 'docker_host': 'tcp://127.0.0.1:%d' % port,
            'certificate_endpoints': ['127.0.0.1:%d' % port], 'timeout': timeout, 'cpu_sample_seconds': CPU_WINDOW})
    hole.close()
    module_s = result['health']['duration_ms'] / 1000.0
    hanging = sum(1 for c in result['health']['checks'].values() if c['status'] in ('critical', 'warning'))
    print('all hanging     module %.2fs, wall %.2fs with timeout=%.1fs (%d sections reporting); '
          'module/timeout %.2f; sum of sequential timeouts would be >= %.0fs'
          % (module_s, elapsed, timeout, hanging, module_s / timeout, timeout * 9))


if __name__ == '__main__':
    main()
