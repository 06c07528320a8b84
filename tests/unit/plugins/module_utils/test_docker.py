# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``_docker``: the endpoint rule, TLS, the error texts and the connection, with a fake SDK."""

from __future__ import annotations

import types

import pytest

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
    monkeypatch.setattr(_docker, 'import_sdk', lambda: (_ for _ in ()).throw(_docker.library_error('no docker')))
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
