# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input for everything that talks over the network (issue 13, rules 3, 7 and 8).

Rule 3: the HTTP client against small servers on 127.0.0.1 that answer wrongly on purpose
(``tests/fixtures/hostile_servers.py``), and every JSON consumer against answers of the wrong
shape. Rule 7: extreme durations, dates and numbers are refused before anything is sent,
naming the parameter. Rule 8: a re-run with ``duration`` never shortens a silence.
Each case asserts what a user would see: the message (naming the URL or the parameter), that
no secret appears in it, and what reached the server.
"""

from __future__ import annotations

import json
import resource
import time

from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import hostile_servers as hs
from tests.unit.compat import patch_module_args
from tests.unit.plugins.module_utils import health_fakes

from ansible_collections.cloudos.ops.plugins.module_utils import _alertmanager, _http, _notify, _silences
from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import (
    AlertmanagerClient, AlertmanagerError, ValidationError)
from ansible_collections.cloudos.ops.plugins.module_utils._silences import build_silence_spec, plan_present
from ansible_collections.cloudos.ops.plugins.module_utils._health import ai_engine, alerts, kubernetes, monitoring
from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, Response
from ansible_collections.cloudos.ops.plugins.module_utils._prometheus import PrometheusClient, PrometheusError
from ansible_collections.cloudos.ops.plugins.modules import (
    alertmanager_alert_info, alertmanager_silence, cloudos_capacity_info, cloudos_health, cloudos_notify)

TOKEN = 'tok-6f1d2c-SECRET'
PASSWORD = 'pa55-SECRET-w0rd'


def no_secret(text):
    return TOKEN not in text and PASSWORD not in text and 'SECRET' not in text


# =========================================================================== rule 3: origin

@pytest.mark.parametrize('auth, header', [
    (dict(bearer_token=TOKEN), 'authorization'),
    (dict(url_username='ops', url_password=PASSWORD), 'authorization'),
    (dict(headers={'Authorization': 'Bearer ' + TOKEN}), 'authorization'),
    (dict(headers={'Cookie': 'session=' + TOKEN}), 'cookie'),
    (dict(headers={'Proxy-Authorization': 'Basic ' + TOKEN}), 'proxy-authorization'),
])
def test_redirect_to_another_port_carries_no_credentials(auth, header):
    with hs.HostileServer(hs.answer(200, {'where': 'other'})) as other, \
            hs.HostileServer(hs.redirect(other.url('/landed'))) as home:
        assert _http.request(home.url('/away'), **auth).json() == {'where': 'other'}
    assert header in home.requests[0].headers               # the origin got them
    received = other.requests[0].headers
    assert not any(TOKEN in v or PASSWORD in v for v in received.values())
    assert header not in received


def test_redirect_to_another_host_name_carries_no_credentials():
    # 127.0.0.1 and localhost are different origins even on the same port.
    with hs.HostileServer({'/start': hs.redirect(lambda r: 'http://localhost:%d/end' % home.port),
                           None: hs.answer(200, {'ok': True})}) as home:
        assert _http.request(home.url('/start'), bearer_token=TOKEN).json() == {'ok': True}
    first, second = home.requests
    assert first.headers['authorization'] == 'Bearer ' + TOKEN
    assert 'authorization' not in second.headers and second.path == '/end'


def test_same_origin_redirect_keeps_credentials():
    with hs.HostileServer({'/a': hs.redirect('/b'), '/b': hs.answer(200, {'at': 'b'})}) as srv:
        assert _http.request(srv.url('/a'), bearer_token=TOKEN).json() == {'at': 'b'}
    assert [r.headers.get('authorization') for r in srv.requests] == ['Bearer ' + TOKEN] * 2


def test_redirect_back_after_leaving_the_origin_stays_without_credentials():
    with hs.HostileServer(hs.answer(200, {'back': True})) as home_end, \
            hs.HostileServer(hs.redirect(home_end.url('/end'))) as other:
        with hs.HostileServer(hs.redirect(other.url('/bounce'))) as home:
            _http.request(home.url('/start'), bearer_token=TOKEN)
    assert 'authorization' not in other.requests[0].headers
    assert 'authorization' not in home_end.requests[0].headers


def test_redirect_loop_stops_after_five():
    with hs.HostileServer(hs.redirect('/loop')) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/loop'), bearer_token=TOKEN, timeout=5)
    assert err.value.message == 'GET %s: more than 5 redirects (the last to /loop)' % srv.url('/loop')
    assert len(srv.requests) == 6


@pytest.mark.parametrize('target', ['file:///etc/shadow', 'ftp://127.0.0.1/pub', 'gopher://127.0.0.1:70/x',
                                    'http://ops:%s@127.0.0.1:1/' % PASSWORD])
def test_redirect_to_another_scheme_or_with_credentials_is_refused(target):
    with hs.HostileServer(hs.redirect(target)) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/x'), url_username='ops', url_password=PASSWORD)
    assert err.value.kind == 'invalid'
    assert err.value.message.startswith('GET %s was redirected to ' % srv.url('/x'))
    assert err.value.message.endswith(', which cannot be followed') and no_secret(err.value.message)


def test_redirect_of_a_write_is_not_followed():
    with hs.HostileServer(hs.redirect('/elsewhere', status=307)) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/api/v2/silences'), method='POST', data={'a': 1}, bearer_token=TOKEN)
    assert err.value.status == 307 and len(srv.requests) == 1
    assert err.value.message.startswith('POST %s answered HTTP 307' % srv.url('/api/v2/silences'))


# =========================================================================== rule 3: deadline, size

def test_one_byte_a_second_ends_at_the_timeout():
    with hs.HostileServer(hs.drip(interval=1.0, total=100), lifetime=8) as srv:
        started = time.monotonic()
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/drip'), timeout=3)
        elapsed = time.monotonic() - started
    assert 2.9 <= elapsed < 3.6, elapsed
    assert err.value.kind == 'timeout'
    assert err.value.message == 'GET %s timed out after 3s (timed out)' % srv.url('/drip')


def test_headers_that_never_end_hit_the_timeout():
    with hs.HostileServer(hs.drip_headers(interval=0.1), lifetime=5) as srv:
        started = time.monotonic()
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/h'), timeout=0.8)
    assert time.monotonic() - started < 1.3 and err.value.kind == 'timeout'


def test_server_that_never_answers_hits_the_timeout():
    with hs.HostileServer(hs.hang(), lifetime=5) as srv:
        started = time.monotonic()
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/hang'), timeout=0.5)
    assert time.monotonic() - started < 1.0 and err.value.kind == 'timeout'


MB = 1024 * 1024


def test_600_mb_answer_announced_is_refused_before_reading():
    with hs.HostileServer(hs.endless(600 * MB, content_length=True)) as srv:
        started = time.monotonic()
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/big'), max_bytes=MB)
    assert time.monotonic() - started < 2
    assert err.value.message == 'GET %s: the answer is %d bytes, more than the %d bytes accepted' % (
        srv.url('/big'), 600 * MB, MB)


@pytest.mark.parametrize('chunked', [False, True])
def test_600_mb_answer_unannounced_stops_at_the_cap_with_bounded_memory(chunked):
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, peak so far
    with hs.HostileServer(hs.endless(600 * MB, content_length=False, chunked=chunked)) as srv:
        started = time.monotonic()
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/big'), max_bytes=4 * MB, timeout=10)
        elapsed = time.monotonic() - started
        time.sleep(0.2)
        sent = srv.bytes_sent
    assert err.value.message == 'GET %s: the answer is larger than the %d bytes accepted' % (srv.url('/big'), 4 * MB)
    assert elapsed < 2
    assert sent < 40 * MB                                     # the client stopped reading
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert growth < 64 * 1024, growth                         # KiB: far below 600 MB


def test_content_length_longer_than_the_body_is_an_error():
    with hs.HostileServer(hs.length_lie(1000, b'{"status": "success"}')) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/lie'))
    assert err.value.kind == 'connection'
    assert err.value.message == ('GET %s failed: the answer ended after 21 of the 1000 bytes its Content-Length '
                                 'announced' % srv.url('/lie'))


def test_content_length_longer_than_the_body_on_an_open_connection_times_out():
    with hs.HostileServer(hs.length_lie(1000, b'{}', hold=3)) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/lie'), timeout=0.5)
    assert err.value.kind == 'timeout'


def test_content_length_shorter_than_the_body_is_not_json():
    with hs.HostileServer(hs.length_lie(5, b'{"status": "success"}')) as srv:
        response = _http.request(srv.url('/lie'))
    assert response.body == b'{"sta'
    with pytest.raises(HttpError) as err:
        response.json()
    assert err.value.kind == 'invalid'
    assert err.value.message.startswith('GET %s answered HTTP 200 with a body that is not JSON' % srv.url('/lie'))


@pytest.mark.parametrize('wire', [
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',          # not hex
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',                          # cut short
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n',      # absurd size
    b'HTTP/1.1 2OO OK\r\n\r\n{}',                                                             # bad status line
])
def test_broken_framing_is_an_error_naming_the_url(wire):
    with hs.HostileServer(hs.raw(wire)) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/frame'), max_bytes=MB, timeout=3)
    assert err.value.message.startswith('GET %s' % srv.url('/frame'))
    assert err.value.kind in ('connection', 'invalid')


def test_gzip_bomb_is_never_inflated():
    with hs.HostileServer(hs.gzip_bomb(64 * MB)) as srv:
        response = _http.request(srv.url('/bomb'), max_bytes=MB)
        with pytest.raises(HttpError) as err:
            response.json()
    assert 'gzip' not in srv.requests[0].headers.get('accept-encoding', '')
    assert len(response.body) < MB                           # the compressed bytes, as sent
    assert err.value.kind == 'invalid' and 'not JSON' in err.value.message


# =========================================================================== rule 3: TLS

@pytest.mark.parametrize('expired', [False, True])
def test_tls_with_a_wrong_name_or_expired_is_refused_naming_the_url(tmp_path, expired):
    cert, key = hs.make_cert(tmp_path, hostname='127.0.0.1' if expired else 'wrong.example',
                             ip='127.0.0.1' if expired else None, expired=expired)
    with hs.HostileServer(hs.answer(200, {'ok': True}), tls=(cert, key)) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/api/health'), ca_path=cert, bearer_token=TOKEN)
        assert _http.request(srv.url('/api/health'), validate_certs=False).json() == {'ok': True}
    assert err.value.kind == 'tls'
    assert err.value.message.startswith('GET %s failed TLS verification or handshake: ' % srv.url('/api/health'))
    assert ('certificate has expired' if expired else "IP address mismatch, certificate is not valid for '127.0.0.1'") \
        in err.value.message
    assert len(srv.requests) == 1                           # only the validate_certs=false one got through


def test_alertmanager_tls_failure_gives_the_hint(tmp_path):
    cert, key = hs.make_cert(tmp_path, hostname='wrong.example')
    with hs.HostileServer(hs.answer(200, []), tls=(cert, key)) as srv:
        client = AlertmanagerClient(srv.url(''), ca_path=cert, timeout=3)
        with pytest.raises(AlertmanagerError) as err:
            client.list_silences()
    assert srv.url('/api/v2/silences') in err.value.message
    assert err.value.message.endswith('(check ca_path, or validate_certs=false for a test server)')


# =========================================================================== rule 3: secrets

@pytest.mark.parametrize('kwargs, field', [
    (dict(bearer_token=TOKEN + '\n'), 'bearer_token'),
    (dict(bearer_token=TOKEN + '\r\nX-Injected: 1'), 'bearer_token'),
    (dict(bearer_token='two ' + TOKEN), 'bearer_token'),
    (dict(headers={'X-Api-Key': TOKEN + '\r\nX-Injected: 1'}), 'headers[X-Api-Key]'),
    (dict(headers={'X-Api-Key': TOKEN + '\n'}), 'headers[X-Api-Key]'),
    (dict(headers={'X-Api-Key': TOKEN + '\x00'}), 'headers[X-Api-Key]'),
    (dict(headers={'Bad Name:': TOKEN}), 'headers'),
    (dict(url_username='ops', url_password=PASSWORD + '\n'), 'url_password'),
])
def test_header_injection_is_refused_before_sending_without_the_secret(kwargs, field):
    with hs.HostileServer(hs.answer(200, {})) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/x'), **kwargs)
        time.sleep(0.05)
    assert srv.requests == []                                # nothing reached the server
    assert err.value.kind == 'invalid'
    assert err.value.message.startswith('GET %s: %s' % (srv.url('/x'), field))
    assert no_secret(err.value.message)


def test_user_password_in_url_is_refused_and_never_echoed():
    with hs.HostileServer(hs.answer(200, {})) as srv:
        url = srv.url('/api').replace('http://', 'http://ops:%s@' % PASSWORD)
        with pytest.raises(HttpError) as err:
            _http.request(url)
    assert srv.requests == [] and no_secret(err.value.message) and no_secret(err.value.url)
    assert 'http://***@127.0.0.1:%d/api' % srv.port in err.value.message


def test_server_echoing_the_credentials_is_scrubbed():
    def echo(conn, request):
        hs.answer(401, 'denied for %s' % request.headers.get('authorization'))(conn, request)
    with hs.HostileServer(echo) as srv:
        with pytest.raises(HttpError) as err:
            _http.request(srv.url('/x'), bearer_token=TOKEN)
    assert err.value.status == 401 and no_secret(err.value.message) and no_secret(err.value.body)
    assert 'denied for Bearer ********' in err.value.message


@pytest.mark.parametrize('body, content_type', [
    ('<html>hello Bearer %s</html>' % TOKEN, 'text/html'),
    (json.dumps('Bearer %s' % TOKEN), 'application/json'),
    (json.dumps({'silenceID': None, 'echo': TOKEN}), 'application/json'),
])
def test_alertmanager_answer_echoing_the_token_is_scrubbed(body, content_type):
    with hs.HostileServer(hs.answer(200, body.encode(), content_type=content_type)) as srv:
        client = AlertmanagerClient(srv.url(''), bearer_token=TOKEN, timeout=3)
        with pytest.raises(AlertmanagerError) as err:
            client.post_silence({'matchers': []}) if 'silenceID' in body else client.list_silences()
    assert srv.requests[0].headers['authorization'] == 'Bearer ' + TOKEN
    assert no_secret(err.value.message) and '********' in err.value.message
    assert srv.url('/api/v2/silences') in err.value.message


# =========================================================================== rule 3: wrong shapes

WRONG_SHAPES = [
    ('a list', [1, 2]),
    ('a string', 'hello'),
    ('null', None),
    ('a number', 42),
    ('HTML', '<html><body>502 Bad Gateway</body></html>'),
    ('an object missing the keys', {'unexpected': True}),
]


class Canned:
    """A ``send`` answering every request with one body (bytes, or JSON for anything else)."""

    def __init__(self, body, status=200):
        self.body = body
        self.status = status

    def __call__(self, url, method='GET', data=None, **options):
        body = self.body if isinstance(self.body, bytes) else (
            self.body.encode() if isinstance(self.body, str) and self.body.startswith('<') else
            json.dumps(self.body).encode())
        return Response(url, self.status, {}, body, 1, method)


def _am(body):
    return AlertmanagerClient('http://am.test:9093', send=Canned(body))


@pytest.mark.parametrize('call, path', [
    (lambda c: c.list_silences(), '/api/v2/silences'),
    (lambda c: c.list_alerts(), '/api/v2/alerts'),
])
@pytest.mark.parametrize('name, body', WRONG_SHAPES)
def test_alertmanager_lists_of_the_wrong_shape(call, path, name, body):
    with pytest.raises(AlertmanagerError) as err:
        call(_am(body))
    assert err.value.kind == 'invalid'
    assert 'http://am.test:9093' + path in err.value.message
    assert "attribute 'get'" not in err.value.message


@pytest.mark.parametrize('item, problem', [
    ({'id': 'x', 'matchers': 'alertname=A', 'startsAt': '2030-01-01T00:00:00Z', 'endsAt': '2030-01-02T00:00:00Z'},
     '"matchers" is a JSON string, expected a JSON list'),
    ({'id': 'x', 'matchers': [], 'startsAt': 'yesterday', 'endsAt': '2030-01-02T00:00:00Z'},
     '"startsAt" is not an RFC 3339 time'),
    ({'id': 'x', 'matchers': ['a'], 'startsAt': '2030-01-01T00:00:00Z', 'endsAt': '2030-01-02T00:00:00Z'},
     'a matcher is not a {name, value, isRegex} object'),
    ({'matchers': [], 'startsAt': '2030-01-01T00:00:00Z', 'endsAt': '2030-01-02T00:00:00Z'}, 'no "id" field'),
    ({'id': 'x', 'matchers': [], 'startsAt': '2030-01-01T00:00:00Z', 'endsAt': '2030-01-02T00:00:00Z',
      'status': 'active'}, '"status" is a JSON string, expected a JSON object'),
])
def test_silence_items_of_the_wrong_shape(item, problem):
    with pytest.raises(AlertmanagerError) as err:
        _am([item]).list_silences()
    assert 'GET http://am.test:9093/api/v2/silences answered' in err.value.message
    assert 'item 0: ' + problem in err.value.message


@pytest.mark.parametrize('item, problem', [
    ({'status': 'firing'}, '"status" is a JSON string, expected a JSON object'),
    ({'labels': ['alertname=A']}, '"labels" is a JSON list, expected a JSON object'),
    ({'labels': {'severity': 3}}, '"labels.severity" is a number, expected a string'),
    ({'annotations': 'x'}, '"annotations" is a JSON string, expected a JSON object'),
    ({'status': {'state': ['active']}}, '"status.state" is a JSON list, expected a string'),
])
def test_alert_items_of_the_wrong_shape(item, problem):
    with pytest.raises(AlertmanagerError) as err:
        _am([item]).list_alerts()
    assert 'item 0: ' + problem in err.value.message


@pytest.mark.parametrize('name, body', WRONG_SHAPES[:5])
def test_alertmanager_status_of_the_wrong_shape(name, body):
    with pytest.raises(AlertmanagerError) as err:
        _am(body).status()
    assert 'GET http://am.test:9093/api/v2/status' in err.value.message and err.value.kind == 'invalid'


@pytest.mark.parametrize('body', [{'silenceID': {'x': 1}}, {'silenceID': ''}, {}])
def test_post_silence_without_an_id(body):
    with pytest.raises(AlertmanagerError) as err:
        _am(body).post_silence({'matchers': []})
    assert 'http://am.test:9093/api/v2/silences' in err.value.message and 'without a silenceID' in err.value.message


@pytest.mark.parametrize('method, args', [('query', ('up',)), ('query_range', ('up', 0, 3600, 60))])
@pytest.mark.parametrize('name, body', WRONG_SHAPES + [
    ('a success without data', {'status': 'success'}),
    ('a success with data.result a string', {'status': 'success', 'data': {'result': 'x'}}),
])
def test_prometheus_answers_of_the_wrong_shape(method, args, name, body):
    client = PrometheusClient('http://prom.test:9090', send=Canned(body))
    if method == 'query' and name == 'a success with data.result a string':
        assert client.query(*args)['result'] == 'x'          # a scalar/string result is valid for an instant query
        return
    with pytest.raises(PrometheusError) as err:
        getattr(client, method)(*args)
    assert err.value.kind == 'invalid'
    assert 'http://prom.test:9090/api/v1/%s' % method in err.value.message
    assert "attribute 'get'" not in err.value.message


def test_prometheus_series_of_the_wrong_shape():
    client = PrometheusClient('http://prom.test:9090',
                              send=Canned({'status': 'success', 'data': {'result': ['not a series']}}))
    with pytest.raises(PrometheusError) as err:
        client.query_range('up', 0, 3600, 60)
    assert "POST http://prom.test:9090/api/v1/query_range answered a series that is not {metric, values}: 'not a series'" \
        == err.value.message


GRAF = 'http://localhost:3000/api/health'
PROM = 'http://localhost:9090/-/healthy'
AM_UP = 'http://localhost:9093/-/healthy'


@pytest.mark.parametrize('name, body', WRONG_SHAPES)
def test_grafana_health_of_the_wrong_shape_is_a_finding(name, body):
    host = health_fakes.FakeHost(urls={PROM: (200, 'ok'), AM_UP: (200, 'OK'), GRAF: (200, body)})
    sec = monitoring.probe(host, health_fakes.params(), health_fakes.THRESHOLDS)
    assert sec.status == 'critical', sec.findings
    messages = ' '.join(f['message'] for f in sec.findings)
    assert 'Grafana' in messages and "attribute 'get'" not in messages


AI_HEALTH = 'http://localhost:8000/health'
AI_MODELS = 'http://localhost:8000/api/v1/models'
AI_METRICS = 'http://localhost:8000/metrics'


@pytest.mark.parametrize('name, body', WRONG_SHAPES)
def test_ai_engine_health_of_the_wrong_shape_is_a_finding(name, body):
    host = health_fakes.FakeHost(urls={AI_HEALTH: (200, body), AI_MODELS: (200, {'loaded_models': ['a']}),
                                       AI_METRICS: (200, '')})
    sec = ai_engine.probe(host, health_fakes.params(), health_fakes.THRESHOLDS)
    assert sec.status == 'critical'
    assert sec.findings[0]['message'].startswith('AI engine %s did not answer its health JSON' % AI_HEALTH)


@pytest.mark.parametrize('name, body', WRONG_SHAPES + [('loaded_models a string', {'loaded_models': 'a,b'})])
def test_ai_engine_models_of_the_wrong_shape_is_a_finding(name, body):
    host = health_fakes.FakeHost(urls={AI_HEALTH: (200, {'status': 'healthy'}), AI_MODELS: (200, body),
                                       AI_METRICS: (200, '')})
    sec = ai_engine.probe(host, health_fakes.params(), health_fakes.THRESHOLDS)
    assert sec.status == 'warning'
    assert any(f['message'].startswith('AI engine %s answered without a loaded_models list' % AI_MODELS)
               for f in sec.findings)


AM_ALERTS = 'http://localhost:9093/api/v2/alerts'


@pytest.mark.parametrize('body', [w[1] for w in WRONG_SHAPES[:5]] + [[{'status': 'firing'}], [{'labels': []}]])
def test_alerts_section_of_the_wrong_shape_is_a_finding(body):
    class Host(health_fakes.FakeHost):
        def http_get(self, url, timeout=None):
            if url.startswith(AM_ALERTS):
                return Canned(body)(url)
            return super().http_get(url, timeout)
    sec = alerts.probe(Host(), health_fakes.params(), health_fakes.THRESHOLDS)
    assert sec.status == 'critical'
    message = sec.findings[0]['message']
    assert message.startswith('Alertmanager at %s' % AM_ALERTS) and 'not an API v2 alert list' in message
    assert "attribute 'get'" not in message


@pytest.mark.parametrize('nodes, pods, fragment', [
    ('nodes', [], 'the node list (/api/v1/nodes) is str, not a list'),
    ([], {'items': []}, 'the pod list (/api/v1/pods) is dict, not a list'),
    (['n1'], [], "a node of /api/v1/nodes is str, not an object: 'n1'"),
    ([None], [], 'a node of /api/v1/nodes is NoneType'),
    ([{'metadata': {'name': 'n1'}, 'status': {'conditions': 5}}], [], 'status.conditions of node n1 is int'),
    ([], [42], 'a pod of /api/v1/pods is int'),
    ([], [{'metadata': {'name': 'p'}, 'status': {'containerStatuses': 'x'}}], 'containerStatuses of pod p is str'),
])
def test_kubernetes_answers_of_the_wrong_shape_are_a_finding(tmp_path, nodes, pods, fragment):
    kubeconfig = tmp_path / 'kubeconfig'
    kubeconfig.write_text('{}')
    sec = kubernetes.probe(health_fakes.FakeHost(files={str(kubeconfig): '{}'}),
                           health_fakes.params(kubeconfig=str(kubeconfig)), health_fakes.THRESHOLDS,
                           lister=lambda *a: (nodes, pods))
    assert sec.status == 'critical' and sec.summary == 'Kubernetes API answered something unexpected'
    assert fragment in sec.findings[0]['message']


# =========================================================================== rule 3: notify receivers

def _notify_target(srv):
    return [{'type': 'webhook', 'name': 'ops', 'url': srv.url('/hook'), 'bearer_token': TOKEN,
             'headers': {'X-Api-Key': PASSWORD}}]


ALERT = [{'name': 'DiskFull', 'summary': 'disk full'}]


@pytest.mark.parametrize('status', [500, 429])
def test_notify_receiver_failing_forever_is_bounded_by_retries(status):
    slept = []
    with hs.HostileServer(hs.status_forever(status, headers=[('Retry-After', '3600')])) as srv:
        sender = _notify.Sender(timeout=2, retries=2, sleep=slept.append)
        result = _notify.notify(_notify_target(srv), ALERT, sender=sender)
    assert len(srv.requests) == 3 and slept == [1.0, 2.0]
    assert result['notifications'] == [] and len(result['undelivered']) == 1
    message = result['undelivered'][0]['msg']
    assert 'answered HTTP %d' % status in message and no_secret(message)


def test_notify_receiver_hanging_is_bounded_by_timeout_and_retries():
    slept = []
    with hs.HostileServer(hs.hang(), lifetime=5) as srv:
        started = time.monotonic()
        result = _notify.notify(_notify_target(srv), ALERT,
                                sender=_notify.Sender(timeout=0.4, retries=1, sleep=slept.append))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 and len(srv.requests) == 2
    message = result['undelivered'][0]['msg']
    assert 'timed out after 0.4s' in message and no_secret(message)


# =========================================================================== rule 7: extremes

NOW = datetime(2030, 1, 31, 12, 0, 0, tzinfo=timezone.utc)
IDENTITY = {'matchers': ['alertname="Maint"'], 'created_by': 'ops', 'comment': 'window'}


@pytest.mark.parametrize('extra, field, fragment', [
    ({'duration': '99999999999w'}, 'duration', "duration='99999999999w' is too long"),
    ({'duration': '99999999999999999999999s'}, 'duration', 'is too long'),
    ({'duration': '1e309'}, 'duration', "duration='1e309' has an unknown unit 'e'"),
    ({'duration': 'NaN'}, 'duration', "duration='NaN' is not a duration"),
    ({'duration': '-2h'}, 'duration', "duration='-2h' is not a duration"),
    ({'duration': '0s'}, 'duration', "duration='0s' must be longer than zero"),
    ({'ends_at': '9999-12-31T00:00:00Z'}, 'ends_at', 'ends_at=9999-12-31T00:00:00Z is more than 3653 days from now'),
    ({'starts_at': '9999-12-31T00:00:00Z', 'duration': '1h'}, 'starts_at', 'starts_at=9999-12-31T00:00:00Z is more'),
    ({'starts_at': '2039-12-31T00:00:00Z', 'duration': '3000d'}, 'duration', 'ends more than 3653 days from now'),
    ({'starts_at': '0001-01-01T00:00:00Z', 'duration': '1h'}, 'starts_at', 'is not a valid time'),
    ({'starts_at': '0001-01-01', 'duration': '1h'}, 'starts_at', 'is not an RFC 3339 time'),
    ({'ends_at': '2030-06-30T23:59:60Z'}, 'ends_at', 'second must be in 0..59'),
    ({'ends_at': '2031-01-01T00:00:00'}, 'ends_at', 'has no time zone'),
    ({'ends_at': '1e309'}, 'ends_at', 'is not an RFC 3339 time'),
])
def test_silence_extremes_are_refused_naming_the_parameter(extra, field, fragment):
    with pytest.raises(ValidationError) as err:
        build_silence_spec(dict(IDENTITY, **extra), now=NOW)
    assert err.value.field == field and fragment in err.value.message


def _run_module(module, args, capsys, monkeypatch, target=None):
    calls = []

    def refuse(url, **kwargs):
        calls.append(url)
        raise AssertionError('no request may be sent: %s' % url)
    if target is not None:
        monkeypatch.setattr(target, 'request', refuse)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out), calls


@pytest.mark.parametrize('module, args, fragment', [
    (alertmanager_silence, dict(IDENTITY, duration='99999999999w'), "duration='99999999999w' is too long"),
    (alertmanager_silence, dict(IDENTITY, ends_at='9999-12-31T00:00:00Z'), 'ends_at=9999-12-31T00:00:00Z is more'),
    (alertmanager_silence, dict(IDENTITY, duration='2h', timeout=1e309), 'timeout must be more than 0 and at most'),
    (alertmanager_silence, dict(IDENTITY, duration='2h', timeout=float('nan')), 'got nan'),
    (alertmanager_silence, dict(IDENTITY, duration='2h', bearer_token=TOKEN + '\n'), 'bearer_token contains'),
    (alertmanager_silence, dict(IDENTITY, duration='2h', headers={'X-Org': 'a\r\nX-Evil: 1'}), 'headers[X-Org]'),
    (alertmanager_alert_info, dict(timeout=-1), 'timeout must be more than 0'),
    (alertmanager_alert_info, dict(timeout=10 ** 30), 'timeout must be more than 0 and at most 86400 seconds'),
])
def test_alertmanager_modules_refuse_extremes_before_sending(module, args, fragment, capsys, monkeypatch):
    result, calls = _run_module(module, dict(args, url='http://127.0.0.1:9'), capsys, monkeypatch, _alertmanager)
    assert result['failed'] is True and fragment in result['msg'] and calls == []
    assert no_secret(result['msg'])


@pytest.mark.parametrize('args, fragment', [
    (dict(days=10 ** 12), 'days must be from 1 to 3650, got 1000000000000'),
    (dict(days=-5), 'days must be from 1 to 3650, got -5'),
    (dict(step=0), 'step must be from 1 to 86400, got 0'),
    (dict(step=10 ** 40), 'step must be from 1 to 86400, got 100000000000... (41 digits)'),
    (dict(warn_days=10 ** 9), 'warn_days must be from 0 to 36500'),
    (dict(timeout=float('inf')), 'timeout must be more than 0 and at most 86400 seconds, got inf'),
])
def test_capacity_info_refuses_extremes_before_sending(args, fragment, capsys, monkeypatch):
    from ansible_collections.cloudos.ops.plugins.module_utils import _prometheus
    result, calls = _run_module(cloudos_capacity_info, dict(args, prometheus_url='http://127.0.0.1:9'), capsys,
                                monkeypatch, _prometheus)
    assert result['failed'] is True and fragment in result['msg']
    assert calls == []


@pytest.mark.parametrize('args, fragment', [
    (dict(timeout=float('inf')), 'timeout must be more than 0 and at most 300 seconds, got inf'),
    (dict(timeout=0), 'timeout must be more than 0 and at most 300 seconds, got 0'),
    (dict(retries=10 ** 12), 'retries must be a whole number from 0 to 10, got 1000000000000'),
    (dict(retries=-1), 'retries must be a whole number from 0 to 10, got -1'),
    (dict(alerts=[dict(ALERT[0], starts_at='9999-12-31T00:00:00Z')]), "alerts[0].starts_at='9999-12-31T00:00:00Z' is out of range"),
    (dict(alerts=[dict(ALERT[0], starts_at='0001-01-01T00:00:00Z')]), "alerts[0].starts_at='0001-01-01T00:00:00Z'"),
    (dict(alerts=[dict(ALERT[0], starts_at='2030-06-30T23:59:60Z')]), 'is not an RFC 3339 time'),
    (dict(targets=[{'type': 'webhook', 'url': 'http://127.0.0.1:9/hook', 'bearer_token': TOKEN + '\n'}]),
     'targets[0].bearer_token contains white space or a control character'),
    (dict(targets=[{'type': 'webhook', 'url': 'http://127.0.0.1:9/hook', 'headers': {'X-Key': TOKEN + '\r\nX: 1'}}]),
     'targets[0].headers[X-Key] contains a control character'),
])
def test_notify_refuses_extremes_before_sending(args, fragment, capsys, monkeypatch):
    base = dict(targets=[{'type': 'webhook', 'url': 'http://127.0.0.1:9/hook', 'bearer_token': TOKEN}], alerts=ALERT)
    base.update(args)
    result, calls = _run_module(cloudos_notify, base, capsys, monkeypatch, _notify)
    assert result['failed'] is True and fragment in result['msg'] and calls == []
    assert no_secret(json.dumps(result))


@pytest.mark.parametrize('args, fragment', [
    (dict(timeout=float('inf')), 'timeout must be more than 0 and at most 86400 seconds, got inf'),
    (dict(timeout=float('nan')), 'timeout must be greater than 0, got nan'),
    (dict(cpu_sample_seconds=1e309), 'cpu_sample_seconds must be between 0 and 10, got inf'),
    (dict(cpu_sample_seconds=float('nan')), 'cpu_sample_seconds must be between 0 and 10, got nan'),
    (dict(thresholds={'disk': 10 ** 400}), 'thresholds.disk must be a number'),
    (dict(thresholds={'disk': '1e309'}), "thresholds.disk must be a number, got '1e309'"),
    (dict(thresholds={'disk': float('inf')}), 'thresholds.disk must be a number, got inf'),
])
def test_health_refuses_extremes_naming_the_parameter(args, fragment, capsys):
    with patch_module_args(dict(args, checks=['system'])):
        with pytest.raises(SystemExit):
            cloudos_health.main()
    result = json.loads(capsys.readouterr().out)
    assert result['failed'] is True and fragment in result['msg']


# =========================================================================== rule 8: never shorten

def _silence(starts, ends, sid='s1'):
    return {'id': sid, 'matchers': [{'name': 'alertname', 'value': 'Maint', 'isRegex': False, 'isEqual': True}],
            'startsAt': _silences.format_time(starts), 'endsAt': _silences.format_time(ends),
            'createdBy': 'ops', 'comment': 'window', 'status': {'state': 'active'}}


def test_rerun_with_a_shorter_duration_keeps_the_extended_window():
    existing = _silence(NOW - timedelta(minutes=10), NOW + timedelta(hours=4))
    plan = plan_present(build_silence_spec(dict(IDENTITY, duration='2h'), now=NOW), [existing], now=NOW)
    assert plan.action == 'unchanged' and plan.post is None and not plan.changed


def test_rerun_with_a_longer_duration_extends():
    existing = _silence(NOW - timedelta(minutes=10), NOW + timedelta(hours=1))
    plan = plan_present(build_silence_spec(dict(IDENTITY, duration='4h'), now=NOW), [existing], now=NOW)
    assert plan.action == 'updated'
    assert plan.post['endsAt'] == _silences.format_time(NOW - timedelta(minutes=10) + timedelta(hours=4))


def test_explicit_earlier_ends_at_shortens():
    existing = _silence(NOW - timedelta(minutes=10), NOW + timedelta(hours=4))
    ends = NOW + timedelta(hours=1)
    plan = plan_present(build_silence_spec(dict(IDENTITY, ends_at=_silences.format_time(ends)), now=NOW),
                        [existing], now=NOW)
    assert plan.action == 'updated' and plan.post['endsAt'] == _silences.format_time(ends)
    diff = _silences.silence_diff(_silences.readable(existing), _silences.readable(plan.after))
    assert "ends_at: '%s'" % existing['endsAt'] in diff['before']
    assert "ends_at: '%s'" % _silences.format_time(ends) in diff['after']
