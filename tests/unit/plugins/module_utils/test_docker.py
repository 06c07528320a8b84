# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``_docker``: the endpoint rule, TLS, the error texts and the connection, with a fake SDK; the
read-only :class:`_docker.Engine` against a real unix-socket HTTP server that answers as the
Docker Engine API does (``engine_fake.py``: ``/_ping``, ``/version``, ``/containers/json``,
``/containers/{id}/json``, ``/events`` as a chunked stream of JSON lines), hostile answers included."""

from __future__ import annotations

import json
import time
import types

from urllib.parse import parse_qs, urlsplit

import pytest

import engine_fake

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._docker import DockerError, resolve

SOCKET = '/var/run/docker.sock'


def no_socket(path):
    return False


def socket_only(path):
    return path == SOCKET


def test_endpoint_rule_option_then_env_then_socket_then_absent():
    env = {'DOCKER_HOST': 'tcp://10.0.0.5:2375'}
    assert resolve({'docker_host': 'unix:///run/other.sock'}, env, socket_only).url == 'unix:///run/other.sock'
    assert resolve({}, env, socket_only).url == 'tcp://10.0.0.5:2375'
    assert resolve({}, {}, socket_only).url == 'unix:///var/run/docker.sock'
    with pytest.raises(DockerError) as info:
        resolve({}, {}, no_socket)
    assert info.value.reason == 'absent'
    assert str(info.value) == ('no Docker engine: /var/run/docker.sock does not exist and neither docker_host nor '
                               'DOCKER_HOST is set')


def test_timeout_option_env_default():
    assert resolve({'timeout': 7}, {'DOCKER_TIMEOUT': '30'}, socket_only).timeout == 7
    assert resolve({}, {'DOCKER_TIMEOUT': '30'}, socket_only).timeout == 30
    assert resolve({}, {'DOCKER_TIMEOUT': 'soon'}, socket_only).timeout == 60


def test_tls_only_for_tcp_and_only_when_asked():
    plain = resolve({'docker_host': 'tcp://h:2375'}, {}, no_socket)
    assert not plain.tls
    unix = resolve({'docker_host': 'unix:///x.sock', 'validate_certs': True}, {}, no_socket)
    assert not unix.tls
    encrypted = resolve({'docker_host': 'tcp://h:2376', 'tls': True}, {}, no_socket)
    assert encrypted.tls and not encrypted.verify
    verified = resolve({'docker_host': 'tcp://h:2376', 'validate_certs': True, 'ca_path': '/pki/ca.pem',
                        'client_cert': '/pki/c.pem', 'client_key': '/pki/k.pem'}, {}, no_socket)
    assert verified.tls and verified.verify
    assert (verified.ca_cert, verified.client_cert, verified.client_key) == ('/pki/ca.pem', '/pki/c.pem', '/pki/k.pem')


def test_docker_cert_path_and_tls_verify_env_like_the_docker_cli():
    env = {'DOCKER_HOST': 'tcp://h:2376', 'DOCKER_CERT_PATH': '/certs', 'DOCKER_TLS_VERIFY': '1'}
    files = {'/certs/ca.pem', '/certs/cert.pem', '/certs/key.pem'}
    endpoint = resolve({}, env, files.__contains__)
    assert endpoint.tls and endpoint.verify
    assert (endpoint.ca_cert, endpoint.client_cert, endpoint.client_key) == ('/certs/ca.pem', '/certs/cert.pem',
                                                                             '/certs/key.pem')
    # DOCKER_CERT_PATH alone: TLS without verification (the SDK's from_env does the same)
    endpoint = resolve({}, dict(env, DOCKER_TLS_VERIFY=''), files.__contains__)
    assert endpoint.tls and not endpoint.verify
    # an option wins over the environment
    assert not resolve({'validate_certs': False, 'tls': True}, env, files.__contains__).verify


class FakeAPI:
    def __init__(self, fail=None, containers=(), info=None):
        self.fail = fail
        self._containers = list(containers)
        self._info = info or {}
        self.closed = False

    def ping(self):
        if self.fail:
            raise self.fail
        return True

    def containers(self, all=False):  # noqa: A002 - the SDK's name
        return self._containers

    def info(self):
        return self._info

    def close(self):
        self.closed = True


def fake_sdk(api=None):
    made = []

    class TLSConfig:
        def __init__(self, client_cert=None, ca_cert=None, verify=None):
            self.client_cert, self.ca_cert, self.verify = client_cert, ca_cert, verify

    def api_client(**kwargs):
        made.append(kwargs)
        return api or FakeAPI()

    def docker_client(**kwargs):
        made.append(kwargs)
        return types.SimpleNamespace(api=api or FakeAPI(), close=lambda: None)

    sdk = types.SimpleNamespace(APIClient=api_client, DockerClient=docker_client, errors=types.SimpleNamespace(),
                                tls=types.SimpleNamespace(TLSConfig=TLSConfig))
    return sdk, made


def test_connect_pings_and_passes_endpoint_timeout_and_tls():
    sdk, made = fake_sdk()
    conn = _docker.connect({'docker_host': 'tcp://h:2376', 'validate_certs': True, 'ca_path': '/ca.pem',
                            'timeout': 9}, low_level=True, sdk=sdk, environ={}, exists=no_socket)
    assert conn.url == 'tcp://h:2376' and conn.errors is sdk.errors
    kwargs = made[0]
    assert kwargs['base_url'] == 'tcp://h:2376' and kwargs['timeout'] == 9 and kwargs['version'] == 'auto'
    assert kwargs['tls'].verify is True and kwargs['tls'].ca_cert == '/ca.pem' and kwargs['tls'].client_cert is None
    _docker.connect({'docker_host': 'unix:///x.sock'}, sdk=sdk, environ={}, exists=no_socket)
    assert made[1]['tls'] is False


def test_engine_that_does_not_answer_is_down_and_the_client_is_closed():
    api = FakeAPI(fail=ConnectionError('connection refused'))
    sdk, dummy = fake_sdk(api)
    with pytest.raises(DockerError) as info:
        _docker.connect({'docker_host': 'tcp://127.0.0.1:1'}, low_level=True, sdk=sdk, environ={}, exists=no_socket)
    assert info.value.reason == 'down' and info.value.endpoint == 'tcp://127.0.0.1:1'
    assert str(info.value) == 'the Docker engine at tcp://127.0.0.1:1 does not answer: connection refused'
    assert api.closed


def test_missing_sdk_is_library_and_the_import_is_lazy():
    def importer(name):
        raise ImportError('No module named %r' % name)

    with pytest.raises(DockerError) as info:
        _docker.import_sdk(importer)
    assert info.value.reason == 'library' and 'python3-docker' in str(info.value)
    # no engine: the SDK is not even imported
    with pytest.raises(DockerError) as info:
        _docker.connect({}, environ={}, exists=no_socket, sdk=None)
    assert info.value.reason == 'absent'


def test_container_names_and_storage_driver():
    sdk, dummy = fake_sdk(FakeAPI(containers=[{'Names': ['/cloudos-grafana']}, {}], info={'Driver': 'overlay2'}))
    opts = {'docker_host': 'unix:///x.sock'}
    assert _docker.container_names(opts, exists=no_socket, sdk=sdk) == ['cloudos-grafana', '']
    assert _docker.storage_driver(opts, sdk=sdk, exists=no_socket) == 'overlay2'
    assert _docker.container_names({}, exists=no_socket) == []
    assert _docker.storage_driver({}, exists=no_socket) is None


def test_storage_driver_without_the_sdk_asks_the_cli_on_the_same_endpoint(monkeypatch):
    def no_sdk():
        raise _docker.library_error('no docker')

    monkeypatch.setattr(_docker, 'import_sdk', no_sdk)
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, 'overlay2\n', ''

    assert _docker.storage_driver({'docker_host': 'unix:///x.sock'}, run=run, which=lambda n: '/usr/bin/docker',
                                  exists=no_socket) == 'overlay2'
    assert calls == [['/usr/bin/docker', '-H', 'unix:///x.sock', 'info', '--format', '{{.Driver}}']]


def test_argument_spec_merges_and_the_module_option_wins():
    spec = _docker.argument_spec(timeout=dict(type='int', default=120))
    assert spec['timeout'] == {'type': 'int', 'default': 120}
    assert spec['docker_host']['fallback'][1] == ['DOCKER_HOST']
    assert _docker.DOCKER_COMMON_ARGS['timeout']['default'] == 60  # the shared spec is not modified
    assert _docker.options({'docker_host': 'tcp://h:1', 'other': 1}, timeout=5) == {
        'docker_host': 'tcp://h:1', 'tls': None, 'validate_certs': None, 'ca_path': None, 'client_cert': None,
        'client_key': None, 'timeout': 5}


def test_backup_host_takes_the_module_options_and_the_shared_error_text(monkeypatch):
    from ansible_collections.cloudos.ops.plugins.module_utils._backup.host import Host
    from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError
    seen = []

    def refuse(opts, **kwargs):
        seen.append(opts)
        raise _docker.down_error(opts['docker_host'], 'connection refused')

    monkeypatch.setattr(_docker, 'connect', refuse)
    host = Host(lambda argv: (0, '', ''), {'state': 'present', 'docker_host': 'tcp://h:2376', 'tls': True, 'timeout': 5})
    with pytest.raises(BackupError) as info:
        host.volume('prometheus_data')
    assert str(info.value) == ('docker_volumes/stop_containers: the Docker engine at tcp://h:2376 does not answer: '
                               'connection refused')
    assert seen[0] == dict(_docker.options({}), docker_host='tcp://h:2376', tls=True, timeout=5)
    assert Host(lambda argv: (0, '', ''), 'unix:///x.sock').docker == dict(_docker.options({}), docker_host='unix:///x.sock',
                                                                           timeout=60)


def test_backup_host_enabled_units_through_the_systemd_client():
    from ansible_collections.cloudos.ops.plugins.module_utils._backup.host import Host
    calls = []

    def run(argv):
        calls.append(argv)
        return (0, 'ssh.service enabled enabled\n', '') if argv[1] == 'list-unit-files' else (1, '', 'nope')

    files, status = Host(run).system_state(['units'])
    assert files == {'enabled-units.txt': b'ssh.service enabled enabled\n'} and status == {'units': 'ok'}
    assert calls == [['systemctl', 'list-unit-files', '--state=enabled', '--no-legend', '--no-pager']]
    files, status = Host(lambda argv: (1, '', 'Failed to connect to bus\n')).system_state(['units'])
    assert files == {} and status == {'units': 'unavailable: Failed to connect to bus'}


# --------------------------------------------------------------------------- the read-only Engine

ID_A, ID_B = 'a' * 64, '0123456789ab' * 5 + 'cdef'


@pytest.fixture
def engine(tmp_path):
    servers = []

    def start(**kwargs):
        servers.append(engine_fake.Engine(tmp_path, **kwargs))
        return servers[-1]
    yield start
    for srv in servers:
        srv.close()


def opened(srv, timeout=5):
    return _docker.open_engine({'docker_host': srv.url, 'timeout': timeout}, environ={})


def test_engine_pings_lists_inspects_and_reads_events_at_the_engines_api_version(engine):
    srv = engine(containers=[engine_fake.inspect_data(ID_A, 'cloudos-api'), engine_fake.inspect_data(ID_B, 'web')],
                 events=[engine_fake.start_event(ID_A), engine_fake.start_event(ID_B), 'not an object', [1]])
    eng = opened(srv)
    assert eng.version == engine_fake.API_VERSION
    assert [c['Names'] for c in eng.containers(all=True)] == [['/cloudos-api'], ['/web']]
    assert eng.inspect(ID_B)['State']['Status'] == 'running'
    events = eng.events(since=100, until=200, filters={'type': 'container', 'event': ['start', 'die']}, limit=3)
    assert [e if not isinstance(e, dict) else e['id'] for e in events] == [ID_A, ID_B, 'not an object']
    assert srv.paths[:3] == ['/_ping', '/v1.43/containers/json?all=1', '/v1.43/containers/%s/json' % ID_B]
    query = parse_qs(urlsplit(srv.paths[3]).query)
    assert urlsplit(srv.paths[3]).path == '/v1.43/events' and query['since'] == ['100'] and query['until'] == ['200']
    assert json.loads(query['filters'][0]) == {'type': ['container'], 'event': ['start', 'die']}
    assert _docker.container_names({'docker_host': srv.url}) == ['cloudos-api', 'web']


def test_engine_without_a_version_header_asks_version_and_an_old_engine_gets_its_own(engine):
    srv = engine(faults={'no_version_header'}, api_version='1.41')
    eng = opened(srv)
    assert eng.version == '1.41' and srv.paths == ['/_ping', '/version']
    assert eng.containers() == [] and srv.paths[-1] == '/v1.41/containers/json?all=1'


def test_a_socket_that_does_not_exist_is_absent(tmp_path):
    with pytest.raises(DockerError) as err:
        _docker.open_engine({'docker_host': 'unix://%s/none.sock' % tmp_path}, environ={})
    assert err.value.reason == _docker.ABSENT and 'none.sock does not exist' in str(err.value)
    with pytest.raises(DockerError) as err:
        _docker.open_engine({}, environ={}, exists=no_socket)
    assert err.value.reason == _docker.ABSENT and str(err.value) == str(_docker.absent_error())


def test_a_socket_where_nothing_listens_is_down_in_the_shared_text(tmp_path):
    path = engine_fake.refusing_socket(tmp_path)
    with pytest.raises(DockerError) as err:
        _docker.open_engine({'docker_host': 'unix://' + path}, environ={})
    assert err.value.reason == _docker.DOWN and err.value.endpoint == 'unix://' + path
    assert str(err.value).startswith('the Docker engine at unix://%s does not answer: ' % path)
    assert 'connection refused' in str(err.value)


def test_an_engine_that_never_answers_is_down_within_the_timeout(engine):
    srv = engine(faults={'silent'})
    started = time.monotonic()
    with pytest.raises(DockerError) as err:
        opened(srv, timeout=1)
    assert err.value.reason == _docker.DOWN and 'timed out' in str(err.value)
    assert time.monotonic() - started < 3


def test_a_ping_that_fails_is_down(engine):
    srv = engine(faults={'ping_500'})
    with pytest.raises(DockerError) as err:
        opened(srv)
    assert err.value.reason == _docker.DOWN and 'HTTP 500' in str(err.value) and 'shutting down' in str(err.value)


def test_a_huge_container_list_is_refused_at_the_cap(engine, monkeypatch):
    monkeypatch.setattr(_docker, 'LIST_BYTES', 100000)
    eng = opened(engine(faults={'huge'}))
    with pytest.raises(DockerError) as err:
        eng.containers()
    assert err.value.reason == _docker.API and 'more than the 100000 bytes accepted' in str(err.value)


@pytest.mark.parametrize('fault, text', [('not_json', 'not JSON'), ('not_list', 'answered dict, not a JSON list')])
def test_an_answer_that_is_not_the_expected_json_is_an_error_not_a_crash(engine, fault, text):
    eng = opened(engine(faults={fault}))
    with pytest.raises(DockerError) as err:
        eng.containers()
    assert err.value.reason == _docker.API and text in str(err.value)


def test_hostile_ids_are_quoted_into_the_path_or_refused(engine):
    srv = engine(containers=[engine_fake.inspect_data(ID_A, 'a\x1b[31m\nevil')])
    eng = opened(srv)
    assert eng.inspect(ID_A)['Name'] == '/a\x1b[31m\nevil'  # names are data, handed on as they are
    with pytest.raises(DockerError) as err:
        eng.inspect('../../images/json?x=1#')
    assert srv.paths[-1] == '/v1.43/containers/..%2F..%2Fimages%2Fjson%3Fx%3D1%23/json'
    assert err.value.reason == _docker.API and 'No such container' in str(err.value)
    for bad in (None, '', 42, ['x']):
        with pytest.raises(DockerError):
            eng.inspect(bad)
    for listed in ([{'Names': ['/x']}], [{'Id': 7}], ['x'], [{'Id': ''}]):
        srv.listed = listed
        with pytest.raises(DockerError) as err:
            eng.containers()
        assert 'without an Id' in str(err.value)


def test_a_truncated_event_stream_is_an_error(engine):
    eng = opened(engine(events=[engine_fake.start_event(ID_A)], faults={'truncated_events'}))
    with pytest.raises(DockerError) as err:
        eng.events(since=1, until=2, filters={'type': 'container'})
    assert err.value.reason == _docker.API


def test_decode_stream_reads_objects_one_after_another_and_stops_at_the_limit():
    assert _docker.decode_stream('{"a": 1}\n{"b": 2}{"c": 3}\n\n', 10) == [{'a': 1}, {'b': 2}, {'c': 3}]
    assert _docker.decode_stream('{"a": 1}\n' * 5, 2) == [{'a': 1}, {'a': 1}]
    assert _docker.decode_stream('', 5) == []
    with pytest.raises(ValueError):
        _docker.decode_stream('{"a": 1}\n{"b": ', 10)


@pytest.mark.parametrize('url, tls, base', [
    ('tcp://10.0.0.5:2375', False, 'http://10.0.0.5:2375'),
    ('tcp://10.0.0.5', False, 'http://10.0.0.5:2375'),
    ('tcp://engine.example:2376', True, 'https://engine.example:2376'),
    ('tcp://[fd00::5]:2376', True, 'https://[fd00::5]:2376'),
    ('https://engine.example:2376', True, 'https://engine.example:2376'),
    ('unix:///run/docker.sock', False, 'http://localhost'),
])
def test_engine_endpoints_and_what_goes_through_the_sdk(url, tls, base):
    endpoint = _docker.Endpoint(url, 5, tls, tls, '/pki/ca.pem' if tls else None, None, None)
    assert _docker._engine_base(endpoint)[0] == base
    assert _docker._engine_base(endpoint._replace(url='ssh://ops@engine')) is None
    assert _docker._engine_base(endpoint._replace(url='unix://')) is None


def test_tcp_tls_engine_requests_carry_the_endpoint_tls_settings():
    sent = []

    def send(url, **kwargs):
        sent.append((url, kwargs))
        from ansible_collections.cloudos.ops.plugins.module_utils._http import Response
        return Response(url, 200, {'api-version': '1.44'}, b'OK', 1)

    eng = _docker.open_engine({'docker_host': 'tcp://engine.example:2376', 'tls': True, 'validate_certs': True,
                               'ca_path': '/pki/ca.pem', 'client_cert': '/pki/c.pem', 'client_key': '/pki/k.pem',
                               'timeout': 7}, environ={}, send=send)
    assert eng.version == '1.44'
    url, kwargs = sent[0]
    assert url == 'https://engine.example:2376/_ping' and kwargs['timeout'] == 7 and 'unix_socket' not in kwargs
    assert (kwargs['validate_certs'], kwargs['ca_path'], kwargs['client_cert'], kwargs['client_key']) == (
        True, '/pki/ca.pem', '/pki/c.pem', '/pki/k.pem')


def test_an_ssh_endpoint_goes_through_the_sdk_with_the_same_calls():
    api = FakeAPI(containers=[{'Id': ID_A, 'Names': ['/cloudos-grafana']}])
    sdk, made = fake_sdk(api)
    eng = _docker.open_engine({'docker_host': 'ssh://ops@engine'}, environ={}, sdk=sdk)
    assert isinstance(eng, _docker.SdkEngine) and eng.url == 'ssh://ops@engine'
    assert made[0]['base_url'] == 'ssh://ops@engine'
    assert [c['Names'] for c in eng.containers()] == [['/cloudos-grafana']]
    eng.close()
    assert api.closed
