"""Host CPU of one ``cloudos_health`` run, before and after, side by side on one fleet host.

    .venv/bin/python bench/fleet_scale/host_cpu.py --before <checkout of the older commit> --after . [--runs 7]

Starts one fleet host (label ``cloudos.bench=host_cpu``), starts dockerd in it, runs
``cloudos_health`` (every section, no kubeconfig) and ``ansible.builtin.ping`` once through
Ansible with ``ANSIBLE_KEEP_REMOTE_FILES=1`` from each checkout (``--before``, ``--after``: the
root of a checkout with its ``.collections`` link), keeps the AnsiballZ payloads, then runs
them inside the host, alternating, ``--runs`` times each. Per run: CPU-seconds (user + sys of
the Python process and its children, from ``getrusage(RUSAGE_CHILDREN)`` of a parent that only
waits) and, in a separate run with ``-X importtime``, the sum of the import self times. Prints
the medians and the ratios to ping. Removes the host at the end (``--keep`` keeps it).

``--split`` also prints where each payload's CPU goes (medians): the Python process itself, of
which the compiling of the modules it imports from the payload's zip (nothing is cached between
runs: AnsiballZ imports from a fresh zip each time), and the programs it runs (``systemctl``
and the like); and the import self time by origin (standard library, ansible-core, this
collection, other packages).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.fleet.hosts import fleet_image, remove_hosts, start_hosts, wait_booted, write_inventory  # noqa: E402

LABEL = 'cloudos.bench=host_cpu'
HOST = 'cloudos-bench-cpu'
ARGS = 'checks=all timeout=5'

MEASURE = r'''
import resource, subprocess, sys
subprocess.run([sys.executable] + sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime)
'''

IMPORTS = r'''
import re, subprocess, sys
proc = subprocess.run([sys.executable, '-X', 'importtime'] + sys.argv[1:], stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, text=True, check=False)
rows = [re.match(r'import time:\s+(\d+) \|\s+\d+ \| *(\S+)$', line) for line in proc.stderr.splitlines()]
rows = [m for m in rows if m]
print(sum(int(m.group(1)) for m in rows) / 1000.0, ' '.join(sorted(set(
    m.group(2).split('.')[0] for m in rows if m.group(2).split('.')[0] in ('docker', 'requests', 'urllib3')))))
'''

SPLIT = r'''
import atexit, base64, io, json, os, re, resource, runpy, sys, time, zipfile
path = sys.argv[1]
with open(path) as handle:
    blob = base64.b64decode(re.search(r"zip_data='([^']*)'", handle.read()).group(1))


def report():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    archive, loaded = zipfile.ZipFile(io.BytesIO(blob)), set(sys.modules)
    started, count = time.process_time(), 0
    for name in archive.namelist():
        module = name[:-3].replace('/', '.')
        module = module[:-len('.__init__')] if module.endswith('.__init__') else module
        if name.endswith('.py') and module in loaded:
            compile(archive.read(name), name, 'exec')
            count += 1
    took = time.process_time() - started
    os.write(2, ('\nSPLIT %s\n' % json.dumps({'process': me.ru_utime + me.ru_stime, 'compile': took, 'modules': count,
                                                'children': kids.ru_utime + kids.ru_stime})).encode())


atexit.register(report)
sys.argv = [path]
runpy.run_path(path, run_name='__main__')
'''

ORIGINS = r'''
import json, re, subprocess, sys
proc = subprocess.run([sys.executable, '-X', 'importtime'] + sys.argv[1:], stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, text=True, check=False)
groups = {}
for line in proc.stderr.splitlines():
    m = re.match(r'import time:\s+(\d+) \|\s+\d+ \| *(\S+)$', line)
    if not m:
        continue
    name = m.group(2)
    if name.startswith('ansible_collections.cloudos.'):
        group = 'collection'
    elif name.startswith(('ansible.', 'ansible_collections')) or name == 'ansible':
        group = 'ansible-core'
    elif name.split('.')[0] in sys.stdlib_module_names or name.startswith('_'):
        group = 'stdlib'
    else:
        group = 'other'
    groups[group] = groups.get(group, 0) + int(m.group(1)) / 1000.0
print(json.dumps(groups))
'''


def sh(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def in_host(*argv):
    return sh(['docker', 'exec', HOST] + list(argv))


def keep_payload(checkout, module, args, tag, inventory):
    """Run ``module`` once through Ansible from ``checkout``; copy its kept payload to /var/tmp/bench/<tag>.py."""
    remote_tmp = '/var/tmp/keep-%s' % tag
    in_host('rm', '-rf', remote_tmp)
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=remote_tmp, ANSIBLE_PIPELINING='0',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(os.path.abspath(checkout), '.collections'),
               ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_STDOUT_CALLBACK='json')
    proc = sh([os.path.join(ROOT, '.venv', 'bin', 'ansible'), '-i', inventory, HOST, '-m', module] +
              (['-a', args] if args else []), env=env, cwd=os.path.abspath(checkout))
    if proc.returncode not in (0, 2):
        raise SystemExit('%s from %s failed: %s %s' % (module, checkout, proc.stdout[-1500:], proc.stderr[-1500:]))
    found = in_host('sh', '-c', 'ls %s/ansible-tmp-*/AnsiballZ_*.py' % remote_tmp).stdout.split()
    if len(found) != 1:
        raise SystemExit('expected one kept payload in %s, found %s' % (remote_tmp, found))
    in_host('mkdir', '-p', '/var/tmp/bench')
    in_host('cp', found[0], '/var/tmp/bench/%s.py' % tag)
    return '/var/tmp/bench/%s.py' % tag


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--before', required=True)
    parser.add_argument('--after', required=True)
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--split', action='store_true', help='where the CPU of each payload goes')
    opts = parser.parse_args()
    remove_hosts(LABEL)
    start_hosts(fleet_image(), [HOST], LABEL)
    try:
        if wait_booted([HOST]):
            raise SystemExit('%s did not boot' % HOST)
        started = in_host('systemctl', 'start', 'docker')
        if started.returncode != 0 or in_host('test', '-S', '/var/run/docker.sock').returncode != 0:
            raise SystemExit('dockerd did not start in %s: %s' % (HOST, started.stderr))
        with tempfile.TemporaryDirectory() as work:
            inventory = write_inventory(os.path.join(work, 'hosts.yml'), [HOST])
            payloads = {
                'ping': keep_payload(opts.after, 'ansible.builtin.ping', '', 'ping', inventory),
                'before': keep_payload(opts.before, 'cloudos.ops.cloudos_health', ARGS, 'before', inventory),
                'after': keep_payload(opts.after, 'cloudos.ops.cloudos_health', ARGS, 'after', inventory),
            }
        for tag, path in payloads.items():  # one warm-up each (page cache, dockerd)
            in_host('python3', '-c', MEASURE, path)
        cpu = dict((tag, []) for tag in payloads)
        imports = dict((tag, []) for tag in payloads)
        loaded = {}
        for dummy in range(opts.runs):
            for tag, path in payloads.items():
                cpu[tag].append(float(in_host('python3', '-c', MEASURE, path).stdout.strip()))
                out = in_host('python3', '-c', IMPORTS, path).stdout.split(' ', 1)
                imports[tag].append(float(out[0]))
                loaded[tag] = out[1].strip() if len(out) > 1 else ''
        check = json.loads(in_host('python3', payloads['after']).stdout)['health']['checks']['containers']
        medians = dict((tag, statistics.median(values)) for tag, values in cpu.items())
        self_ms = dict((tag, statistics.median(values)) for tag, values in imports.items())
        print('fleet image %s, %d alternating runs each, dockerd running, Docker socket present, no kubeconfig'
              % (fleet_image(), opts.runs))
        print('containers section (after): %s' % check['summary'])
        print('%-7s %12s %10s %16s  %s' % ('', 'CPU s (med)', '/ ping', 'import self ms', 'SDK libraries imported'))
        for tag in payloads:
            print('%-7s %12.3f %10.2f %16.1f  %s' % (tag, medians[tag], medians[tag] / medians['ping'], self_ms[tag],
                                                     loaded[tag] or '-'))
        ratios = (medians['after'] / medians['before'], self_ms['after'] / self_ms['before'])
        print('after / before: CPU %.2f, import self time %.2f' % ratios)
        print('raw CPU s: %s' % json.dumps(cpu))
        if opts.split:
            split(payloads, opts.runs)
    finally:
        if not opts.keep:
            remove_hosts(LABEL)


def split(payloads, runs):
    """Print, per payload, the medians of the CPU split and of the import self time by origin."""
    rows = dict((tag, {}) for tag in payloads)
    for dummy in range(runs):
        for tag, path in payloads.items():
            err = in_host('python3', '-c', SPLIT, path).stderr
            line = [x for x in err.splitlines() if x.startswith('SPLIT ')]
            for key, value in (json.loads(line[-1][6:]) if line else {}).items():
                rows[tag].setdefault(key, []).append(value)
            for key, value in json.loads(in_host('python3', '-c', ORIGINS, path).stdout or '{}').items():
                rows[tag].setdefault('import ' + key, []).append(value)
    keys = ['process', 'compile', 'children', 'modules', 'import stdlib', 'import ansible-core', 'import collection',
            'import other']
    print('where it goes (medians; CPU s, compile = compiling the modules imported from the payload, '
          'included in process; import self time in ms)')
    print('%-7s' % '' + ''.join('%21s' % key for key in keys))
    for tag, values in rows.items():
        print('%-7s' % tag + ''.join('%21.3f' % statistics.median(values[key]) if values.get(key) else '%21s' % '-'
                                     for key in keys))


if __name__ == '__main__':
    main()
