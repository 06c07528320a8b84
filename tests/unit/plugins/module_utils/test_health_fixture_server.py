# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/fixtures/fixture_server.py itself: the stand-ins for Grafana, Kubernetes and the AI engine
answer like the real APIs, honour injected faults, and persist the AI engine configuration."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request

import pytest

from health_fakes import fixture_server


@pytest.fixture
def serve(tmp_path):
    """``serve(kind, state=None) -> (url, state_path)``; every server stops after the test."""
    with contextlib.ExitStack() as stack:
        def start(kind, state=None):
            path = tmp_path / ('%s.json' % kind)
            if state is not None:
                path.write_text(json.dumps(state))
            return stack.enter_context(fixture_server(kind, path)), path
        yield start


def get(url, data=None):
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                 method='POST' if data is not None else 'GET', headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_missing_state_file_means_healthy(serve):
    url, dummy = serve('grafana')
    status, body = get(url + '/api/health')
    assert status == 200 and json.loads(body)['database'] == 'ok'
    url, dummy = serve('ai-engine')
    assert json.loads(get(url + '/health')[1])['status'] == 'healthy'
    assert len(json.loads(get(url + '/api/v1/models')[1])['loaded_models']) == 2


def test_state_is_reread_on_every_request(serve):
    url, path = serve('grafana', {'database': 'ok'})
    assert get(url + '/api/health')[0] == 200
    path.write_text(json.dumps({'database': 'failing'}))
    status, body = get(url + '/api/health')
    assert status == 503 and json.loads(body)['database'] == 'failing'
    path.write_text(json.dumps({'garbage': True}))
    assert get(url + '/api/health')[1].startswith('<html>')
    path.write_text(json.dumps({'http_status': 502}))
    assert get(url + '/api/health')[0] == 502


def test_ai_engine_config_is_merged_and_stored(serve):
    url, path = serve('ai-engine', {'status': 'healthy'})
    status, body = get(url + '/api/v1/config', {'inference': {'batch_size': 8, 'max_workers': 4}})
    assert status == 200 and json.loads(body) == {'inference': {'batch_size': 8, 'max_workers': 4}}
    get(url + '/api/v1/config', {'inference': {'batch_size': 16}, 'memory': {'optimization_level': 'high'}})
    expected = {'inference': {'batch_size': 16, 'max_workers': 4}, 'memory': {'optimization_level': 'high'}}
    assert json.loads(get(url + '/api/v1/config')[1]) == expected
    stored = json.loads(path.read_text())
    assert stored['status'] == 'healthy' and stored['config']['inference']['batch_size'] == 16
    assert get(url + '/api/v1/config', ['not', 'an', 'object'])[0] == 422


def test_kubernetes_lists_are_real_shaped(serve):
    url, dummy = serve('kubernetes', {'nodes': [{'name': 'n1', 'ready': False}],
                                      'pods': [{'namespace': 'a', 'name': 'p', 'waiting_reason': 'CrashLoopBackOff'},
                                               {'namespace': 'b', 'name': 'q'}]})
    nodes = json.loads(get(url + '/api/v1/nodes')[1])
    assert nodes['kind'] == 'NodeList' and nodes['apiVersion'] == 'v1' and 'resourceVersion' in nodes['metadata']
    ready = [c for c in nodes['items'][0]['status']['conditions'] if c['type'] == 'Ready'][0]
    assert ready['status'] == 'False'
    pods = json.loads(get(url + '/api/v1/pods')[1])
    assert pods['kind'] == 'PodList'
    assert pods['items'][0]['status']['containerStatuses'][0]['state']['waiting']['reason'] == 'CrashLoopBackOff'
    assert [p['metadata']['name'] for p in json.loads(get(url + '/api/v1/namespaces/b/pods')[1])['items']] == ['q']
    status, body = get(url + '/api/v1/secrets')
    assert status == 404 and json.loads(body)['kind'] == 'Status'
    assert json.loads(get(url + '/version')[1])['major'] == '1'
