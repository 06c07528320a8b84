# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry points of alertmanager_silence and alertmanager_alert_info, with the network replaced.

The HTTP layer is replaced by a recorder that fails the test if the module sends a request
it should not; the real-server behaviour is covered by tests/integration/alertmanager/.
"""

from __future__ import annotations

import json

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.module_utils import _alertmanager
from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import alertmanager_argument_spec
from ansible_collections.cloudos.ops.plugins.modules import alertmanager_alert_info, alertmanager_silence


class Response:
    def __init__(self, data):
        self.data = data

    def json(self):
        return self.data


class Server:
    """Answers GET /api/v2/silences with ``silences``; records everything."""

    def __init__(self, silences=None):
        self.silences = silences or []
        self.calls = []

    def __call__(self, url, method='GET', data=None, **options):
        self.calls.append((method, url))
        if method == 'GET' and url.endswith('/api/v2/silences'):
            return Response(self.silences)
        if method == 'GET' and '/api/v2/alerts' in url:
            return Response([])
        raise AssertionError('unexpected request %s %s' % (method, url))


def run(module, args, capsys, monkeypatch, server=None):
    server = server if server is not None else Server()
    monkeypatch.setattr(_alertmanager, 'request', server)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out), server


BASE = {'url': 'http://127.0.0.1:9', 'matchers': ['alertname="HighCPUUsage"'], 'created_by': 'ops',
        'comment': 'window', 'duration': '2h'}


@pytest.mark.parametrize('override, fragment', [
    ({'matchers': []}, 'matchers'),
    ({'matchers': ['instance=""']}, 'only alerts that lack these labels'),
    ({'matchers': ['alertname=~".*"']}, 'every alert'),
    ({'matchers': ['instance=~"web-(?=1)"']}, 'lookahead'),
    ({'matchers': ['instance=~"web-["']}, 'invalid regular expression'),
    ({'duration': '2fortnights'}, "unknown unit 'fortnights'"),
    ({'duration': None, 'ends_at': '2001-01-01T00:00:00Z'}, 'ends_at=2001-01-01T00:00:00Z is in the past'),
    ({'duration': None, 'starts_at': '2999-01-02T00:00:00Z', 'ends_at': '2999-01-01T00:00:00Z'},
     'must be after starts_at'),
    ({'url': 'alertmanager:9093'}, "url='alertmanager:9093'"),
    ({'comment': None}, 'comment'),
    ({'duration': None}, 'ends_at, duration'),
])
def test_bad_input_fails_before_any_request(override, fragment, capsys, monkeypatch):
    args = dict(BASE)
    args.update(override)
    args = dict((k, v) for k, v in args.items() if v is not None)
    result, server = run(alertmanager_silence, args, capsys, monkeypatch)
    assert result['failed'] is True
    assert fragment in result['msg']
    assert server.calls == []


def test_check_mode_reads_but_never_writes(capsys, monkeypatch):
    args = dict(BASE, _ansible_check_mode=True, _ansible_diff=True)
    result, server = run(alertmanager_silence, args, capsys, monkeypatch)
    assert result['changed'] is True and result['action'] == 'created'
    assert result['silence_id'] is None
    assert result['diff']['before'] == '' and 'matchers:\n  - \'alertname="HighCPUUsage"\'\n' in result['diff']['after']
    assert server.calls == [('GET', 'http://127.0.0.1:9/api/v2/silences')]


def test_no_diff_key_without_diff_mode(capsys, monkeypatch):
    result, _server = run(alertmanager_silence, dict(BASE, _ansible_check_mode=True), capsys, monkeypatch)
    assert 'diff' not in result


def test_secrets_are_no_log_and_hidden_from_invocation(capsys, monkeypatch):
    spec = alertmanager_argument_spec()
    assert spec['url_password']['no_log'] and spec['bearer_token']['no_log']
    args = dict(BASE, url_username='ops', url_password='s3cr3t-pw', bearer_token='t0ken-value',
                _ansible_check_mode=True)
    _result, _server = run(alertmanager_silence, args, capsys, monkeypatch)
    # The module printed its result already; re-run to capture the raw text.
    monkeypatch.setattr(_alertmanager, 'request', Server())
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            alertmanager_silence.main()
    raw = capsys.readouterr().out
    assert 's3cr3t-pw' not in raw and 't0ken-value' not in raw


def test_url_from_environment(capsys, monkeypatch):
    monkeypatch.setenv('CLOUDOS_ALERTMANAGER_URL', 'http://127.0.0.1:7/am')
    args = dict(BASE, _ansible_check_mode=True)
    args.pop('url')
    _result, server = run(alertmanager_silence, args, capsys, monkeypatch)
    assert server.calls == [('GET', 'http://127.0.0.1:7/am/api/v2/silences')]


def test_alert_info_bad_receiver_regex_fails_before_request(capsys, monkeypatch):
    result, server = run(alertmanager_alert_info, {'url': 'http://127.0.0.1:9', 'receiver': 'ops(?!x)'},
                         capsys, monkeypatch)
    assert result['failed'] and result['msg'].startswith("receiver='ops(?!x)'") and server.calls == []


def test_alert_info_allows_unselective_filters(capsys, monkeypatch):
    result, server = run(alertmanager_alert_info, {'url': 'http://127.0.0.1:9', 'matchers': ['team=~".*"']},
                         capsys, monkeypatch)
    assert result['changed'] is False and result['count'] == 0
    assert 'filter=team%3D~%22.%2A%22' in server.calls[0][1]
