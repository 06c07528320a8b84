# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kubernetes``: node and pod rules, evaluated on real-shaped objects, and end to end through the
real ``kubernetes`` client, a real kubeconfig file and a fixture API server.

Kubernetes cannot be installed here: tests/fixtures/fixture_server.py (``kubernetes`` kind) imitates
a kube-apiserver's core/v1 ``/api/v1/nodes`` and ``/api/v1/pods`` answers (NodeList/PodList with
``status.conditions`` and ``containerStatuses[].state``); the probe reaches it exactly as it would reach a
real cluster.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._health import core, kubernetes

from health_fakes import THRESHOLDS, FakeHost, fixture_server, params


@pytest.fixture
def apiserver(tmp_path):
    """A fixture kube-apiserver on 127.0.0.1 and a kubeconfig for it; yields (state_path, kubeconfig)."""
    state = tmp_path / 'k8s.json'
    with fixture_server('kubernetes', state) as url:
        kubeconfig = tmp_path / 'kubeconfig'
        kubeconfig.write_text(json.dumps({
            'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'fixture',
            'clusters': [{'name': 'fixture', 'cluster': {'server': url}}],
            'users': [{'name': 'ops', 'user': {'token': 's3cret'}}],
            'contexts': [{'name': 'fixture', 'context': {'cluster': 'fixture', 'user': 'ops'}}],
        }))
        yield state, str(kubeconfig)


def write(state, **data):
    state.write_text(json.dumps(data))


def run(kubeconfig, **p):
    return kubernetes.probe(core.Host(timeout=5), params(kubeconfig=kubeconfig, **p), THRESHOLDS)


def test_healthy_cluster(apiserver):
    state, kubeconfig = apiserver
    write(state, token='s3cret', nodes=[{'name': 'n1'}, {'name': 'n2'}],
          pods=[{'namespace': 'cloudos', 'name': 'api-1'},
                {'namespace': 'batch', 'name': 'job-1', 'phase': 'Succeeded', 'terminated_reason': 'Completed'}])
    sec = run(kubeconfig)
    assert sec.status == 'ok', sec.findings
    assert sec.summary == '2/2 nodes Ready, 2 pods, 0 in trouble'
    assert sec.metrics['nodes'] == 2 and sec.metrics['pods'] == 2


def test_notready_crashloop_pending(apiserver):
    state, kubeconfig = apiserver
    write(state, token='s3cret', nodes=[{'name': 'n1'}, {'name': 'n2', 'ready': False}, {'name': 'n3', 'ready': 'Unknown'}],
          pods=[{'namespace': 'cloudos', 'name': 'api-1'},
                {'namespace': 'cloudos', 'name': 'ai-engine-0', 'waiting_reason': 'CrashLoopBackOff', 'restarts': 12,
                 'container': 'engine'},
                {'namespace': 'cloudos', 'name': 'worker-1', 'phase': 'Running', 'terminated_reason': 'Error'},
                {'namespace': 'batch', 'name': 'report-1', 'phase': 'Pending'}])
    sec = run(kubeconfig)
    got = dict((f['message'], f['severity']) for f in sec.findings)
    assert got['node n2 is NotReady (KubeletNotReady)'] == 'critical'
    assert got['node n3 is NotReady (status Unknown: kubelet stopped reporting) (KubeletNotReady)'] == 'critical'
    assert got['pod cloudos/ai-engine-0 is CrashLoopBackOff (container engine)'] == 'critical'
    assert got['pod cloudos/worker-1 is Error (container main)'] == 'warning'
    assert got['pod batch/report-1 is Pending'] == 'warning'
    assert len(got) == 5
    crash = [f for f in sec.findings if 'CrashLoop' in f['message']][0]
    assert crash['action'].startswith('kubectl -n cloudos logs ai-engine-0 -c engine --previous')
    assert sec.metrics == {'nodes': 3, 'nodes_not_ready': 2, 'pods': 4, 'pods_crashloop': 1, 'pods_pending': 1,
                           'pods_error': 1}
    assert sec.status == 'critical'


def test_bad_credentials_are_a_finding(apiserver):
    state, kubeconfig = apiserver
    write(state, token='other')
    sec = run(kubeconfig)
    assert sec.status == 'critical'
    assert 'HTTP 401' in sec.findings[0]['message'] and kubeconfig in sec.findings[0]['message']


def test_api_server_down_is_a_finding(apiserver, tmp_path):
    state, kubeconfig = apiserver
    config = json.loads(open(kubeconfig).read())
    config['clusters'][0]['cluster']['server'] = 'http://127.0.0.1:1'
    dead = tmp_path / 'dead-kubeconfig'
    dead.write_text(json.dumps(config))
    sec = run(str(dead))
    assert sec.status == 'critical' and 'cannot list nodes and pods' in sec.findings[0]['message']


def test_slow_api_server_within_timeout_budget(apiserver):
    state, kubeconfig = apiserver
    write(state, delay_seconds=1.5)
    sec = kubernetes.probe(core.Host(timeout=0.5), params(kubeconfig=kubeconfig, timeout=0.5), THRESHOLDS)
    assert sec.status == 'critical' and 'cannot list' in sec.findings[0]['message']


def test_no_kubeconfig_is_absent(monkeypatch, tmp_path):
    monkeypatch.delenv('KUBECONFIG', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path))
    sec = kubernetes.probe(FakeHost(), params(), THRESHOLDS)
    assert sec.status == 'absent' and 'no kubeconfig' in sec.summary
    sec = kubernetes.probe(FakeHost(), params(required=['kubernetes']), THRESHOLDS)
    assert sec.status == 'critical'


def test_kubeconfig_from_environment(monkeypatch):
    monkeypatch.setenv('KUBECONFIG', '/nope:/etc/kube/admin.conf')
    host = FakeHost(files={'/etc/kube/admin.conf': 'x'})
    assert kubernetes.find_kubeconfig(host, None) == '/etc/kube/admin.conf'
    assert kubernetes.find_kubeconfig(host, '/given') == '/given'


def test_rules_on_raw_objects():
    node = {'metadata': {'name': 'n'}, 'spec': {'unschedulable': True},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True'}]}}
    assert kubernetes.node_problems([node]) == [('warning', 'node n is cordoned (SchedulingDisabled)',
                                                 'kubectl uncordon n once its maintenance is over')]
    pod = {'metadata': {'namespace': 'a', 'name': 'b'},
           'status': {'phase': 'Pending', 'containerStatuses': [{'name': 'c', 'state': {'waiting': {'reason': 'ImagePullBackOff'}}}]}}
    assert kubernetes.pod_problem(pod) == ('warning', 'ImagePullBackOff', 'c')
    done = {'status': {'phase': 'Succeeded', 'containerStatuses': [{'name': 'c', 'state': {'terminated': {'reason': 'Completed'}}}]}}
    assert kubernetes.pod_problem(done) is None
    init = {'status': {'phase': 'Pending', 'initContainerStatuses': [{'name': 'i', 'state': {'waiting': {'reason': 'CrashLoopBackOff'}}}]}}
    assert kubernetes.pod_problem(init) == ('critical', 'CrashLoopBackOff', 'i')
