# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Docker client of the collection: options, endpoint rule, TLS, errors, connection.

Private to this collection (the leading underscore): no compatibility promise.

This is the only code that imports the ``docker`` SDK or names the Docker socket as a place to
connect to. Health, security facts, backup, prune and daemon config all open the engine through
:func:`connect`, with the options of :data:`DOCKER_COMMON_ARGS` (documented once, in the
``cloudos.ops.docker`` doc fragment), so they find the same engine by the same rule and say the
same thing when it is not there:

- endpoint: the ``docker_host`` option, else ``DOCKER_HOST``, else ``unix:///var/run/docker.sock``
  when that socket exists, else no engine (reason ``absent``);
- TLS (``tcp://`` endpoints only): on with ``tls``, ``validate_certs``, ``DOCKER_CERT_PATH`` or a
  certificate option; ``validate_certs`` (``DOCKER_TLS_VERIFY``) also verifies the engine's
  certificate against ``ca_path``; certificates default to ``ca.pem``, ``cert.pem`` and
  ``key.pem`` in ``DOCKER_CERT_PATH``;
- the SDK is imported only when a client is opened (reason ``library`` when it is missing); an
  engine that does not answer a ping is reason ``down``.

Works with the docker SDK 5.0 (Debian 12's python3-docker) and 7.x. :func:`resolve` is pure;
:func:`connect` takes the SDK as a parameter, so unit tests pass a fake one.
"""

from __future__ import annotations

import copy
import importlib
import os

from collections import namedtuple

from ansible.module_utils.basic import env_fallback

DEFAULT_SOCKET = '/var/run/docker.sock'
DEFAULT_URL = 'unix://' + DEFAULT_SOCKET
DEFAULT_TIMEOUT = 60

ABSENT, LIBRARY, DOWN = 'absent', 'library', 'down'

# The shared options, merged into the argument spec of every module that talks to Docker.
DOCKER_COMMON_ARGS = dict(
    docker_host=dict(type='str', fallback=(env_fallback, ['DOCKER_HOST'])),
    tls=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS'])),
    validate_certs=dict(type='bool', default=False, aliases=['tls_verify'],
                        fallback=(env_fallback, ['DOCKER_TLS_VERIFY'])),
    ca_path=dict(type='path', aliases=['ca_cert', 'cacert_path']),
    client_cert=dict(type='path'),
    client_key=dict(type='path'),
    timeout=dict(type='int', default=DEFAULT_TIMEOUT, fallback=(env_fallback, ['DOCKER_TIMEOUT'])),
)
OPTION_NAMES = tuple(DOCKER_COMMON_ARGS)


def argument_spec(**own):
    """:data:`DOCKER_COMMON_ARGS` plus a module's own options; a module option of the same name wins."""
    spec = copy.deepcopy(DOCKER_COMMON_ARGS)
    spec.update(own)
    return spec


def options(params, **override):
    """The Docker options out of a module's ``params`` (missing ones ``None``), with ``override`` applied."""
    picked = dict((name, (params or {}).get(name)) for name in OPTION_NAMES)
    picked.update(override)
    return picked


class DockerError(Exception):
    """Docker cannot be asked: ``reason`` is ``absent`` (no engine configured or present),
    ``library`` (no SDK) or ``down`` (the engine does not answer); ``endpoint`` is the URL tried."""

    def __init__(self, message, reason, endpoint=None):
        super().__init__(message)
        self.reason = reason
        self.endpoint = endpoint


# --------------------------------------------------------------------------- error texts

def absent_error():
    return DockerError('no Docker engine: %s does not exist and neither docker_host nor DOCKER_HOST is set'
                       % DEFAULT_SOCKET, ABSENT)


def library_error(exc, endpoint=None):
    return DockerError('the Python docker SDK is not installed on the managed host (%s); install python3-docker '
                       '(Debian) or `pip install docker`' % exc, LIBRARY, endpoint)


def down_error(endpoint, exc):
    return DockerError('the Docker engine at %s does not answer: %s' % (endpoint, exc), DOWN, endpoint)


def api_error_text(endpoint, exc):
    """What a failed engine call says: the endpoint and the engine's own explanation."""
    return 'Docker engine at %s: %s' % (endpoint, getattr(exc, 'explanation', None) or exc)


# --------------------------------------------------------------------------- endpoint rule

Endpoint = namedtuple('Endpoint', 'url timeout tls verify ca_cert client_cert client_key')


def _flag(value):
    if isinstance(value, str):
        return value.strip().lower() not in ('', '0', 'no', 'false', 'off', 'n', 'f')
    return bool(value)


def resolve(opts, environ=None, exists=os.path.exists):
    """The :class:`Endpoint` the options point at, or raise :class:`DockerError` (``absent``).

    ``opts`` holds :data:`OPTION_NAMES` (``None`` for unset); ``environ`` and ``exists`` are
    read for what the options leave open (modules get the same values through the argument
    spec's ``env_fallback``; other callers through this rule).
    """
    environ = os.environ if environ is None else environ
    opts = opts or {}
    url = opts.get('docker_host') or environ.get('DOCKER_HOST') or None
    if not url:
        if not exists(DEFAULT_SOCKET):
            raise absent_error()
        url = DEFAULT_URL
    timeout = opts.get('timeout')
    if timeout is None:
        try:
            timeout = int(environ.get('DOCKER_TIMEOUT') or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
    verify = opts.get('validate_certs')
    if verify is None:
        verify = _flag(environ.get('DOCKER_TLS_VERIFY', ''))
    tls = opts.get('tls')
    if tls is None:
        tls = _flag(environ.get('DOCKER_TLS', ''))
    cert_path = environ.get('DOCKER_CERT_PATH') or None

    def cert_file(name, option):
        if opts.get(option):
            return opts[option]
        if cert_path and exists(os.path.join(cert_path, name)):
            return os.path.join(cert_path, name)
        return None

    ca_cert, client_cert, client_key = (cert_file('ca.pem', 'ca_path'), cert_file('cert.pem', 'client_cert'),
                                        cert_file('key.pem', 'client_key'))
    use_tls = url.startswith(('tcp://', 'https://')) and bool(
        tls or verify or cert_path or opts.get('ca_path') or opts.get('client_cert'))
    if not use_tls:
        return Endpoint(url, timeout, False, False, None, None, None)
    return Endpoint(url, timeout, True, bool(verify), ca_cert, client_cert, client_key)


def tls_config(sdk, endpoint):
    """``docker.tls.TLSConfig`` for a TLS endpoint, ``False`` for a plain one."""
    if not endpoint.tls:
        return False
    client = (endpoint.client_cert, endpoint.client_key) if endpoint.client_cert or endpoint.client_key else None
    return sdk.tls.TLSConfig(client_cert=client, ca_cert=endpoint.ca_cert, verify=endpoint.verify)


# --------------------------------------------------------------------------- connection

def import_sdk(importer=importlib.import_module):
    """The ``docker`` package with its ``errors`` and ``tls`` modules, or raise ``library``."""
    try:
        sdk = importer('docker')
        importer('docker.errors')
        importer('docker.tls')
    except ImportError as exc:
        raise library_error(exc)
    return sdk


Connection = namedtuple('Connection', 'client errors url')


def connect(opts, low_level=False, sdk=None, environ=None, exists=os.path.exists):
    """A :class:`Connection` to the engine that answered a ping, or raise :class:`DockerError`.

    ``client`` is a ``docker.DockerClient`` (``docker.APIClient`` with ``low_level``); ``errors``
    is the SDK's ``docker.errors`` module; ``url`` the endpoint. Close ``client`` when done.
    """
    endpoint = resolve(opts, environ=environ, exists=exists)
    if sdk is None:
        try:
            sdk = import_sdk()
        except DockerError as exc:
            exc.endpoint = endpoint.url
            raise
    client = None
    try:
        factory = sdk.APIClient if low_level else sdk.DockerClient
        client = factory(base_url=endpoint.url, version='auto', timeout=endpoint.timeout,
                         tls=tls_config(sdk, endpoint))
        (client if low_level else client.api).ping()
    except Exception as exc:  # pylint: disable=broad-except
        if client is not None:
            close(client)
        raise down_error(endpoint.url, exc)
    return Connection(client, sdk.errors, endpoint.url)


def close(client):
    try:
        client.close()
    except Exception:  # pylint: disable=broad-except
        pass


def container_names(opts, exists=os.path.exists, sdk=None):
    """Names of all containers (running or not), or ``[]`` when Docker cannot be asked."""
    try:
        conn = connect(opts, low_level=True, sdk=sdk, exists=exists)
    except DockerError:
        return []
    try:
        return [(c.get('Names') or ['/'])[0].lstrip('/') for c in conn.client.containers(all=True)]
    except Exception:  # pylint: disable=broad-except
        return []
    finally:
        close(conn.client)


def storage_driver(opts, run=None, which=None, sdk=None, environ=None, exists=os.path.exists):
    """The storage driver of the running engine, or ``None`` when it cannot be asked.

    Through the SDK; where the SDK is missing and ``run(argv) -> (rc, out, err)`` and
    ``which(name) -> path`` are given, through ``docker info`` on the same (non-TLS) endpoint.
    """
    try:
        conn = connect(opts, low_level=True, sdk=sdk, environ=environ, exists=exists)
    except DockerError as exc:
        if exc.reason != LIBRARY or run is None or which is None:
            return None
        return _storage_driver_cli(resolve(opts, environ=environ, exists=exists), run, which)
    try:
        return (conn.client.info() or {}).get('Driver') or None
    except Exception:  # pylint: disable=broad-except
        return None
    finally:
        close(conn.client)


def _storage_driver_cli(endpoint, run, which):
    docker = which('docker')
    if not docker or endpoint.tls:
        return None
    rc, out, _err = run([docker, '-H', endpoint.url, 'info', '--format', '{{.Driver}}'])
    return out.strip() if rc == 0 and out.strip() else None
