# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``containers``: inspect data, 24 h restart counting from engine events, severity rules, absence.

The engine is replaced by a small object with ``_docker.Engine``'s calls (``containers``,
``inspect``, ``events``, ``close``); ``_docker.Engine`` itself is tested against a unix-socket
server with the Engine API's shapes in test_docker.py, and the real engine by the integration and
fleet tests.
"""

from __future__ import annotations

import json

from datetime import timedelta

from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_time
from ansible_collections.cloudos.ops.plugins.module_utils._health import containers

import engine_fake
from health_fakes import NOW, THRESHOLDS, FakeHost, params


def attrs(name, status='running', health=None, restart_count=0, exit_code=0, created=NOW - timedelta(days=3)):
    state = {'Status': status, 'ExitCode': exit_code, 'StartedAt': '2026-11-25T06:00:00.123456789Z'}
    if health:
        state['Health'] = {'Status': health}
    return {'Id': name + '-id', 'Name': '/' + name, 'Config': {'Image': 'cloudos/%s:1' % name}, 'State': state,
            'RestartCount': restart_count, 'Created': created.strftime('%Y-%m-%dT%H:%M:%S.000000001Z')}


class Client:
    """``_docker.Engine``'s calls over a list of inspect dicts."""

    def __init__(self, items, events=None, events_error=None):
        self.items = dict((i['Id'], i) for i in items)
        self._events = events or []
        self.events_error = events_error
        self.events_args = None
        self.closed = False

    def containers(self, all=False):  # noqa: A002 - the Engine API's name
        return [{'Id': cid, 'Names': [i['Name']]} for cid, i in self.items.items()]

    def inspect(self, cid):
        return self.items[cid]

    def events(self, **kwargs):
        self.events_args = kwargs
        if self.events_error:
            raise self.events_error
        return list(self._events)[:kwargs.get('limit')]

    def close(self):
        self.closed = True


def run(client, **p):
    original = containers.open_engine
    containers.open_engine = lambda host, params=None: client
    try:
        return containers.probe(FakeHost(), params(**p), THRESHOLDS)
    finally:
        containers.open_engine = original


def starts(cid, n):
    return [{'status': 'start', 'id': cid, 'Type': 'container', 'Action': 'start'}] * n


def test_parse_time_nanoseconds_and_zero():
    # Docker's times, read by the shared parser the containers section uses
    moment = parse_time('2026-11-25T06:00:00.123456789Z')
    assert moment.microsecond == 123456 and moment.tzinfo is not None
    assert parse_time('0001-01-01T00:00:00Z') is None
    assert parse_time('garbage') is None


def test_count_starts_reads_old_and_new_event_shapes():
    events = [{'status': 'start', 'id': 'a'}, {'Action': 'start', 'Actor': {'ID': 'a'}}, {'Action': 'die', 'id': 'a'},
              {'Action': 'start', 'Actor': {'ID': 'b'}}, 'noise']
    assert containers.count_starts(events) == {'a': 2, 'b': 1}
    assert containers.count_starts(iter(starts('x', 50)), limit=10) == {'x': 10}


def test_first_start_of_a_new_container_is_not_a_restart():
    assert containers.restarts_in_window(3, NOW - timedelta(hours=2), NOW) == 2
    assert containers.restarts_in_window(3, NOW - timedelta(days=2), NOW) == 3
    assert containers.restarts_in_window(0, NOW - timedelta(hours=2), NOW) == 0


def test_restarts_in_24h_from_events_over_threshold():
    client = Client([attrs('cloudos-api'), attrs('cloudos-worker')],
                    events=starts('cloudos-api-id', 7) + starts('cloudos-worker-id', 2))
    sec = run(client)
    assert sec.status == 'warning'
    finding = sec.findings[0]
    assert finding['metric'] == 'restarts_24h' and finding['value'] == 7 and finding['threshold'] == 5
    assert 'cloudos-api restarted 7 times in the last 24 h' in finding['message']
    assert sec.metrics['restarts_24h'] == 9 and sec.metrics['restarts_source'] == 'events'
    since, until = client.events_args['since'], client.events_args['until']
    assert until - since == 86400 and until == int(NOW.timestamp())
    assert client.events_args['filters'] == {'type': 'container', 'event': ['restart', 'start', 'die']}
    assert client.events_args['limit'] == containers.MAX_EVENTS
    assert client.closed


def test_falls_back_to_restart_count_when_events_fail():
    sec = run(Client([attrs('cloudos-api', restart_count=30)], events_error=RuntimeError('no events')))
    assert sec.status == 'critical'
    assert 'since creation (RestartCount' in sec.findings[0]['message']
    assert sec.metrics['restarts_source'] == 'RestartCount'


def test_state_and_health_rules():
    client = Client([attrs('a', status='restarting', restart_count=3), attrs('b', health='unhealthy'),
                     attrs('c', status='exited', exit_code=137), attrs('d', status='exited', exit_code=0),
                     attrs('e', health='healthy'), attrs('f', status='dead'), attrs('g', status='paused')])
    sec = run(client)
    got = sorted((f['message'].split()[1], f['severity']) for f in sec.findings)
    assert got == [('a', 'critical'), ('b', 'critical'), ('c', 'warning'), ('f', 'critical'), ('g', 'warning')]
    assert sec.metrics['containers'] == 7 and sec.metrics['unhealthy'] == 1 and sec.metrics['running'] == 2


def test_no_engine_is_absent():
    sec = containers.probe(FakeHost(), params(), THRESHOLDS)
    assert sec.status == 'absent'
    assert '/var/run/docker.sock does not exist' in sec.summary


def test_no_engine_but_required_is_critical():
    sec = containers.probe(FakeHost(), params(required=['docker']), THRESHOLDS)
    assert sec.status == 'critical' and 'Docker is required' in sec.findings[0]['message']


def test_engine_configured_but_down_is_critical():
    sec = containers.probe(FakeHost(docker_host='tcp://127.0.0.1:1'), params(), THRESHOLDS)
    assert sec.status == 'critical'
    assert 'tcp://127.0.0.1:1 does not answer' in sec.findings[0]['message']
    assert 'systemctl status docker' in sec.findings[0]['action']


def test_no_socket_but_unit_installed_is_down():
    sec = containers.probe(FakeHost(units=['docker.service']), params(), THRESHOLDS)
    assert sec.status == 'critical'
    assert 'installed (systemd unit docker.service exists) but not running' in sec.findings[0]['message']


def test_docker_options_take_the_host_endpoint_and_verify_only_with_tls():
    host = FakeHost(docker_host='tcp://10.0.0.5:2376', timeout=2.4)
    opts = containers.docker_options(host, params(validate_certs=True))
    assert opts['docker_host'] == 'tcp://10.0.0.5:2376' and opts['timeout'] == 2
    assert opts['validate_certs'] is None  # a plain tcp:// engine is not made TLS by the HTTP setting
    opts = containers.docker_options(host, params(validate_certs=False, tls=True, ca_path='/pki/ca.pem'))
    assert opts['validate_certs'] is False and opts['tls'] is True and opts['ca_path'] == '/pki/ca.pem'


# --- through _docker.Engine and a unix-socket server with the Engine API's shapes (engine_fake.py)

def _engine_state():
    ids = dict((name, ('%02d' % n) * 32) for n, name in enumerate(['cloudos-api', 'cloudos-flaky', 'migrate', 'probe']))
    data = [engine_fake.inspect_data(ids['cloudos-api'], 'cloudos-api'),
            engine_fake.inspect_data(ids['cloudos-flaky'], 'cloudos-flaky', restart_count=9),
            engine_fake.inspect_data(ids['migrate'], 'migrate', status='exited', exit_code=3),
            engine_fake.inspect_data(ids['probe'], 'probe', health='unhealthy',
                                     created=(NOW - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S.000000001Z'))]
    events = [engine_fake.start_event(ids['cloudos-flaky'])] * 7 + [engine_fake.start_event(ids['probe'])]
    return data, events


def through_socket(tmp_path, data, events, faults=()):
    srv = engine_fake.Engine(tmp_path, containers=data, events=events, faults=faults)
    try:
        return containers.probe(FakeHost(docker_host=srv.url), params(), THRESHOLDS), srv.paths
    finally:
        srv.close()


def test_the_section_through_the_engine_api_is_what_the_sdk_shaped_client_gives(tmp_path):
    data, events = _engine_state()
    sec, paths = through_socket(tmp_path, data, events)
    expected = run(Client(data, events=events))
    assert json.dumps(sec.as_dict(), sort_keys=True) == json.dumps(expected.as_dict(), sort_keys=True)
    assert sec.metrics['restarts_source'] == 'events' and sec.metrics['restarts_24h'] == 7
    assert sec.summary == '4 containers: 1 exited, 3 running; 7 restarts in 24 h'
    assert [p.split('?')[0] for p in paths] == (['/_ping', '/v1.43/containers/json'] +
                                                ['/v1.43/containers/%s/json' % d['Id'] for d in data] + ['/v1.43/events'])


def test_a_truncated_event_stream_falls_back_to_restart_count(tmp_path):
    data, events = _engine_state()
    sec, dummy = through_socket(tmp_path, data, events, faults={'truncated_events'})
    assert sec.metrics['restarts_source'] == 'RestartCount' and sec.metrics['restarts_24h'] == 9
    assert sec.as_dict() == run(Client(data, events_error=RuntimeError('cut'))).as_dict()


def test_an_engine_answer_that_is_not_json_is_a_section_error(tmp_path):
    data, events = _engine_state()
    sec, dummy = through_socket(tmp_path, data, events, faults={'not_json'})
    assert sec.status == 'critical' and sec.summary == 'Docker engine error'
    assert sec.findings[0]['message'].startswith('listing containers failed: Docker engine at unix://')


def test_a_socket_where_nothing_listens_is_engine_down(tmp_path):
    path = engine_fake.refusing_socket(tmp_path)
    sec = containers.probe(FakeHost(docker_host='unix://' + path), params(), THRESHOLDS)
    assert sec.status == 'critical' and sec.summary == 'Docker engine down'
    assert sec.findings[0]['message'].startswith('the Docker engine at unix://%s does not answer' % path)
