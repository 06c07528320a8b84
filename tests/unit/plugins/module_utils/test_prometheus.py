# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prometheus client (plugins/module_utils/_prometheus.py) and the capacity report built on it."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance
from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, Response
from ansible_collections.cloudos.ops.plugins.module_utils._prometheus import (
    PROMETHEUS_COMMON_ARGS, PrometheusClient, PrometheusError, effective_step, prometheus_argument_spec)

URL = 'http://prom.test:9090/prefix'


class Send:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, url, method='GET', data=None, **options):
        self.calls.append((method, url, data, options))
        answer = self.answers[len(self.calls) - 1] if isinstance(self.answers, list) else self.answers
        if isinstance(answer, Exception):
            raise answer
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return Response(url, 200, {}, body, 1, method)


def matrix(*series):
    return {'status': 'success', 'data': {'resultType': 'matrix', 'result': list(series)}}


def test_query_range_posts_a_form_and_caps_points():
    send = Send(matrix({'metric': {'mountpoint': '/'}, 'values': [[0, '1']]}))
    client = PrometheusClient(URL, timeout=5, send=send)
    series = client.query_range('up', 0, 86400, 1)
    method, url, data, options = send.calls[0]
    assert (method, url) == ('POST', URL + '/api/v1/query_range')
    assert b'step=9' in data and b'query=up' in data
    assert options['headers'] == {'Content-Type': 'application/x-www-form-urlencoded'} and options['timeout'] == 5
    assert series == [{'metric': {'mountpoint': '/'}, 'values': [[0, '1']]}]
    assert effective_step(0, 86400, 1) == 9 and effective_step(0, 86400, 3600) == 3600


def test_instant_query_and_health():
    send = Send([{'status': 'success', 'data': {'resultType': 'vector', 'result': []}}, b'Prometheus is Healthy.\n'])
    client = PrometheusClient(URL, send=send)
    assert client.query('up', at=10) == {'resultType': 'vector', 'result': []}
    assert b'time=10' in send.calls[0][2]
    assert client.healthy().text.startswith('Prometheus is Healthy')
    assert send.calls[1][:2] == ('GET', URL + '/-/healthy')


@pytest.mark.parametrize('answer, fragment', [
    (b'<html>login</html>', 'not JSON'),
    ([1, 2], 'not a Prometheus success'),
    (None, 'not a Prometheus success'),
    ({'status': 'error', 'errorType': 'bad_data', 'error': 'parse error'}, 'parse error'),
    ({'status': 'success', 'data': []}, 'expected data.result'),
    ({'status': 'success', 'data': {'result': 'x'}}, 'expected data.result'),
    (matrix('not a series'), 'not {metric, values}'),
    (matrix({'metric': [], 'values': []}), 'not {metric, values}'),
])
def test_wrong_shaped_answers_name_the_endpoint(answer, fragment):
    with pytest.raises(PrometheusError) as err:
        PrometheusClient(URL, send=Send(answer)).query_range('up', 0, 60, 15)
    assert fragment in err.value.message and URL + '/api/v1/query_range' in err.value.message
    assert err.value.kind == 'invalid' and isinstance(err.value, HttpError)


def test_http_errors_keep_kind_and_status():
    refused = HttpError('POST %s/api/v1/query_range: connection refused' % URL, kind='refused')
    with pytest.raises(PrometheusError) as err:
        PrometheusClient(URL, send=Send(refused)).query_range('up', 0, 60, 15)
    assert err.value.kind == 'refused' and 'connection refused' in err.value.message
    gone = HttpError('GET %s/-/healthy answered HTTP 503: not ready' % URL, status=503, kind='http')
    with pytest.raises(PrometheusError) as err:
        PrometheusClient(URL, send=Send(gone)).healthy()
    assert err.value.status == 503 and err.value.url == URL + '/-/healthy'


def test_from_params_refuses_a_bad_url_before_sending():
    send = Send([])
    with pytest.raises(PrometheusError) as err:
        PrometheusClient.from_params({'prometheus_url': 'localhost:9090'}, send=send)
    assert err.value.message.startswith("prometheus_url='localhost:9090' must start with http://")
    assert send.calls == []
    spec = prometheus_argument_spec(days=dict(type='int'))
    assert set(spec) == set(PROMETHEUS_COMMON_ARGS) | {'days'}


PARAMS = {'days': 1, 'step': 60, 'queries': None, 'series_label': 'mountpoint', 'warn_days': 30, 'critical_days': 7,
          'min_span_days': 0}


def test_capacity_names_series_and_finds_rising_ones():
    rising = {'metric': {'mountpoint': '/var'}, 'values': [[0, '50'], [86400, '60']]}
    send = Send([matrix(rising), matrix({'metric': {}, 'values': [[0, '40'], [86400, '40']]})])
    report = _maintenance.capacity(PrometheusClient(URL, send=send), PARAMS, 86400)
    assert sorted(report['series']) == ['disk:/var', 'memory'] and report['step'] == 60
    assert report['series']['disk:/var']['days_to_full'] == 4.0
    assert [(f['metric'], f['severity']) for f in report['findings']] == [('disk:/var', 'critical')]


def test_capacity_errors_name_the_query():
    with pytest.raises(_maintenance.MaintenanceError, match='^Prometheus query disk failed: POST .*not JSON'):
        _maintenance.capacity(PrometheusClient(URL, send=Send(b'<html/>')), PARAMS, 86400)
    with pytest.raises(_maintenance.MaintenanceError, match='^days must be positive, got 0'):
        _maintenance.capacity(PrometheusClient(URL, send=Send([])), dict(PARAMS, days=0), 86400)


def _files_mentioning(pattern):
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins')
    found = []
    for folder, dummy, files in os.walk(root):
        for name in files:
            if name.endswith('.py') and os.path.basename(folder) != 'modules':  # modules only document paths
                with open(os.path.join(folder, name), encoding='utf-8') as handle:
                    if re.search(pattern, handle.read()):
                        found.append(name)
    return sorted(found)


def test_only_the_clients_know_the_api_paths():
    assert _files_mentioning(r"['\"]/?api/v1/query") == ['_prometheus.py']
    assert _files_mentioning(r"['\"]/?api/v2/(alerts|silences?)") == ['_alertmanager.py']
