"""playbooks/daily_health.yml with a cluster: the kubernetes section runs once, on the cluster host.

Three hosts run on this machine (``ansible_connection: local``); one of them has a kubeconfig
(``daily_health_kubeconfig`` as a host variable) pointing at the fixture kube-apiserver
(tests/fixtures/fixture_server.py kubernetes). The cluster's findings are reported once, in the
entry ``cluster``; the hosts' own entries show the kubernetes section as not run there.
"""

from __future__ import annotations

import json
import os

from tests.integration.health.health_helpers import ROOT, write_kubeconfig
from tests.integration.lib import run_playbook

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'daily_health.yml')
CLUSTER = {
    'nodes': [{'name': 'cp-1'}, {'name': 'worker-1'}, {'name': 'worker-2', 'ready': False}],
    'pods': [{'namespace': 'cloudos', 'name': 'cloudos-ai-engine-0', 'waiting_reason': 'CrashLoopBackOff', 'restarts': 14}],
}
CALM = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}


def inventory(tmp_path, kubeconfig):
    hosts = dict(('node-%d' % n, {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'})
                 for n in (1, 2, 3))
    hosts['node-2']['daily_health_kubeconfig'] = kubeconfig
    path = tmp_path / 'hosts.json'
    path.write_text(json.dumps({'all': {'hosts': hosts}}))
    return str(path)


def play(tmp_path, fixtures, **extra):
    k8s = fixtures('kubernetes', CLUSTER)
    kubeconfig = write_kubeconfig(str(tmp_path / 'kubeconfig'), k8s.url)
    report_dir = tmp_path / 'run'
    extra_vars = {'daily_health_report_dir': str(report_dir), 'daily_health_thresholds': CALM,
                  'daily_health_checks': ['system', 'kubernetes'], 'daily_health_fail_on': 'never'}
    extra_vars.update(extra)
    proc = run_playbook(PLAYBOOK, inventory=inventory(tmp_path, kubeconfig), extra_vars=extra_vars)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(str(report_dir / 'report.json')) as handle:
        report = json.load(handle)
    calls = [task['hosts'] for playrec in json.loads(proc.stdout)['plays'] for task in playrec['tasks']
             if task['task']['name'].split(' : ')[-1].startswith(('Check CloudOS', 'Check the cluster'))]
    return report, calls


def kube_findings(entry):
    return [f for f in entry['findings'] if f['check'] == 'kubernetes']


def test_the_cluster_is_checked_once_on_the_host_with_the_kubeconfig(tmp_path, fixtures):
    report, calls = play(tmp_path, fixtures)
    entries = dict((h['host'], h) for h in report['hosts'])
    assert sorted(entries) == ['cluster', 'node-1', 'node-2', 'node-3']
    assert report['run']['metadata']['cluster host'] == 'node-2'
    for name in ('node-1', 'node-2', 'node-3'):
        assert entries[name]['checks']['kubernetes']['status'] == 'skipped'
        assert entries[name]['checks']['system']['status'] == 'ok'
        assert kube_findings(entries[name]) == []
    cluster = entries['cluster']
    assert cluster['checks']['kubernetes']['status'] == 'critical'
    assert cluster['checks']['system']['status'] == 'skipped'
    messages = ' '.join(f['message'] for f in kube_findings(cluster))
    assert 'worker-2' in messages and 'cloudos-ai-engine-0' in messages
    # one module run per host, and one for the cluster, delegated to node-2
    host_run, cluster_run = calls
    assert sorted(host_run) == ['node-1', 'node-2', 'node-3']
    assert all(r['health']['checks']['kubernetes']['status'] == 'skipped' for r in host_run.values())
    assert len(cluster_run) == 1 and list(cluster_run.values())[0]['health']['host'] == 'cluster'


def test_without_cluster_checks_every_host_runs_every_section(tmp_path, fixtures):
    report, dummy = play(tmp_path, fixtures, daily_health_cluster_checks=[])
    entries = dict((h['host'], h) for h in report['hosts'])
    assert sorted(entries) == ['node-1', 'node-2', 'node-3']
    assert entries['node-2']['checks']['kubernetes']['status'] == 'critical'
    assert kube_findings(entries['node-2'])
    assert entries['node-1']['checks']['kubernetes']['status'] == 'absent'
