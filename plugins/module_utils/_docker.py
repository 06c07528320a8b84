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

:func:`open_engine` is the read-only way in, for checks that run on every host (health): an
:class:`Engine` asks the Engine API itself through ``_http`` (the standard library) over the
unix socket, ``tcp://`` or ``tcp://`` with TLS, so neither the SDK nor ``requests`` and
``urllib3`` are imported. It pings (``GET /_ping``), then uses the API version the engine
reports (never a newer one), lists containers, inspects one, and reads the event log between two
moments. Everything the engine answers is checked before use: sizes are capped, an answer that
is not the JSON shape expected is an :class:`DockerError` (reason ``api``), an id is quoted
before it goes into a URL path. Other endpoints (``ssh://``) go through the SDK.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re

from collections import namedtuple

from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.cloudos.ops.plugins.module_utils import _http

DEFAULT_SOCKET = '/var/run/docker.sock'
DEFAULT_URL = 'unix://' + DEFAULT_SOCKET
DEFAULT_TIMEOUT = 60

ABSENT, LIBRARY, DOWN, API = 'absent', 'library', 'down', 'api'

# The shared options, merged into the argument spec of every module that talks to Docker.
DOCKER_COMMON_ARGS = dict(
    docker_host=dict(type='str', fallback=(env_fallback, ['DOCKER_HOST'])),
    tls=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS'])),
    validate_certs=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS_VERIFY'])),
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
    ``library`` (no SDK), ``down`` (the engine does not answer) or ``api`` (an :class:`Engine`
    call got an answer it cannot use); ``endpoint`` is the URL tried."""

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
    """Names of all containers (running or not), or ``[]`` when Docker cannot be asked.

    Read through :func:`open_engine` (no SDK for unix and tcp endpoints); with ``sdk`` given,
    through that SDK.
    """
    try:
        engine = SdkEngine(connect(opts, low_level=True, sdk=sdk, exists=exists)) if sdk is not None else \
            open_engine(opts, exists=exists)
    except DockerError:
        return []
    try:
        return [str((c.get('Names') or ['/'])[0]).lstrip('/') for c in engine.containers(all=True)]
    except Exception:  # pylint: disable=broad-except
        return []
    finally:
        engine.close()


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


# --------------------------------------------------------------------------- read-only Engine API

#: Caps on what the engine may send: a container list, one container's inspect, the event log.
LIST_BYTES = 16 * 1024 * 1024
INSPECT_BYTES = 4 * 1024 * 1024
EVENTS_BYTES = 16 * 1024 * 1024
PING_BYTES = 4096

_ID_RE = re.compile(r'^[0-9a-f]{12,64}$')
_VERSION_RE = re.compile(r'^1\.[0-9]{1,3}$')
# The oldest API version asked for when the engine does not say which it speaks (docker 20.10).
FALLBACK_API_VERSION = '1.41'
_HOST = 'localhost'


def _engine_base(endpoint):
    """``(base URL, unix socket path or None)`` for the endpoints the Engine speaks, else ``None``."""
    url = endpoint.url
    if url.startswith('unix://'):
        path = url[len('unix://'):]
        return ('http://%s' % _HOST, path) if path else None
    if url.startswith(('tcp://', 'http://', 'https://')):
        try:
            parts = urlsplit('http://' + url.split('://', 1)[1])
            port = parts.port
        except ValueError:
            return None
        if not parts.hostname or parts.path not in ('', '/'):
            return None
        scheme = 'https' if endpoint.tls or url.startswith('https://') else 'http'
        host = parts.hostname if ':' not in parts.hostname else '[%s]' % parts.hostname
        return '%s://%s:%d' % (scheme, host, port or (2376 if scheme == 'https' else 2375)), None
    return None


def _filters(filters):
    """The ``filters`` query value as the SDK sends it: every value a list of strings."""
    out = {}
    for key, value in (filters or {}).items():
        if isinstance(value, bool):
            value = str(value).lower()
        out[key] = value if isinstance(value, list) else [value]
    return json.dumps(out)


def _container_path(cid):
    if not isinstance(cid, str) or not cid:
        raise TypeError('a container id must be a non-empty string, got %r' % (cid,))
    return cid if _ID_RE.match(cid) else quote(cid, safe='')


def decode_stream(text, limit):
    """The JSON objects of an event stream (objects one after the other, usually a line each), at
    most ``limit``; raise ``ValueError`` on a part that is not JSON."""
    decoder = json.JSONDecoder()
    out, index, size = [], 0, len(text)
    while len(out) < limit:
        while index < size and text[index] in ' \t\r\n':
            index += 1
        if index >= size:
            break
        value, index = decoder.raw_decode(text, index)
        out.append(value)
    return out


class Engine:
    """Read-only Docker Engine API over ``_http``; open it with :func:`open_engine`.

    ``send`` is :func:`_http.request` (tests may pass another); ``base`` the URL of the engine
    (``http://localhost`` with ``unix_socket``), ``tls`` the ``(verify, ca, cert, key)`` of a TLS
    endpoint.
    """

    def __init__(self, endpoint, base, unix_socket=None, send=None, exists=os.path.exists):
        self.endpoint = endpoint
        self.exists = exists
        self.url = endpoint.url
        self.base = base
        self.unix_socket = unix_socket
        self.timeout = max(1, endpoint.timeout or DEFAULT_TIMEOUT)
        self.send = send or _http.request
        self.version = None

    def _get(self, path, query=None, max_bytes=_http.MAX_BYTES, versioned=True):
        target = path if not versioned else '/v%s%s' % (self.version or FALLBACK_API_VERSION, path)
        if query:
            target += '?' + urlencode(query)
        kwargs = dict(timeout=self.timeout, max_bytes=max_bytes)
        if self.unix_socket is not None:
            kwargs['unix_socket'] = self.unix_socket
        elif self.endpoint.tls:
            kwargs.update(validate_certs=self.endpoint.verify, ca_path=self.endpoint.ca_cert,
                          client_cert=self.endpoint.client_cert, client_key=self.endpoint.client_key)
        return self.send(self.base + target, **kwargs)

    def _json(self, path, query=None, max_bytes=_http.MAX_BYTES, shape=dict, versioned=True):
        try:
            data = self._get(path, query, max_bytes, versioned).json()
        except _http.HttpError as exc:
            raise DockerError(api_error_text(self.url, exc), API, self.url)
        if not isinstance(data, shape):
            raise DockerError('Docker engine at %s: GET %s answered %s, not a JSON %s'
                              % (self.url, path, type(data).__name__, 'list' if shape is list else 'object'),
                              API, self.url)
        return data

    def ping(self):
        """``GET /_ping``; learn the API version. Raise ``absent`` (no socket) or ``down``."""
        try:
            answer = self._get('/_ping', max_bytes=PING_BYTES, versioned=False)
        except _http.HttpError as exc:
            if self.unix_socket is not None and exc.kind == 'connection' and not self.exists(self.unix_socket):
                raise DockerError('no Docker engine: the socket %s does not exist' % self.unix_socket, ABSENT, self.url)
            raise down_error(self.url, exc)
        if answer.body.strip() != b'OK':
            raise down_error(self.url, 'GET /_ping answered %r, not OK' % answer.body[:100])
        version = (answer.headers.get('api-version') or '').strip()
        if not _VERSION_RE.match(version):
            try:
                version = str(self._json('/version', max_bytes=PING_BYTES * 16, versioned=False).get('ApiVersion') or '')
            except DockerError as exc:
                raise down_error(self.url, exc)
        self.version = version if _VERSION_RE.match(version) else FALLBACK_API_VERSION
        return True

    def containers(self, all=True):  # noqa: A002 - the Engine API's name  pylint: disable=redefined-builtin
        """``GET /containers/json``: the list entries (dicts with an ``Id``)."""
        items = self._json('/containers/json', {'all': '1' if all else '0'}, LIST_BYTES, list)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get('Id'), str) or not item['Id']:
                raise DockerError('Docker engine at %s: GET /containers/json listed an entry without an Id: %.100r'
                                  % (self.url, item), API, self.url)
        return items

    def inspect(self, cid):
        """``GET /containers/{id}/json``: what ``docker inspect`` shows (a dict)."""
        try:
            path = '/containers/%s/json' % _container_path(cid)
        except TypeError as exc:
            raise DockerError('Docker engine at %s: %s' % (self.url, exc), API, self.url)
        return self._json(path, max_bytes=INSPECT_BYTES)

    def events(self, since, until, filters=None, limit=20000):
        """The event log between ``since`` and ``until`` (Unix times): at most ``limit`` dicts."""
        query = {'since': int(since), 'until': int(until)}
        if filters:
            query['filters'] = _filters(filters)
        try:
            answer = self._get('/events', query, EVENTS_BYTES)
            return decode_stream(answer.text, limit)
        except _http.HttpError as exc:
            raise DockerError(api_error_text(self.url, exc), API, self.url)
        except ValueError as exc:
            raise DockerError('Docker engine at %s: GET /events answered something that is not a JSON stream: %s'
                              % (self.url, exc), API, self.url)

    def close(self):
        """Nothing stays open between calls."""


class SdkEngine:
    """The :class:`Engine` calls through the SDK, for endpoints the Engine does not speak (``ssh://``)."""

    def __init__(self, conn):
        self.conn = conn
        self.url = conn.url

    def ping(self):
        return True

    def containers(self, all=True):  # noqa: A002  pylint: disable=redefined-builtin
        return self.conn.client.containers(all=all)

    def inspect(self, cid):
        return self.conn.client.inspect_container(cid)

    def events(self, since, until, filters=None, limit=20000):
        stream = self.conn.client.events(since=since, until=until, filters=filters, decode=True)
        out = []
        try:
            for event in stream:
                if len(out) >= limit:
                    break
                out.append(event)
        finally:
            getattr(stream, 'close', lambda: None)()
        return out

    def close(self):
        close(self.conn.client)


def speaks_engine(opts, environ=None, exists=os.path.exists):
    """Whether :func:`open_engine` reaches these options' engine without the SDK (no engine: yes)."""
    try:
        return _engine_base(resolve(opts, environ=environ, exists=exists)) is not None
    except DockerError:
        return True


def open_engine(opts, environ=None, exists=os.path.exists, send=None, sdk=None):
    """An :class:`Engine` that answered a ping, or raise :class:`DockerError` (``absent``, ``down``).

    The endpoint rule is :func:`resolve`'s. An endpoint the Engine does not speak (``ssh://``)
    is opened through the SDK (:func:`connect`, reason ``library`` without it), as an
    :class:`SdkEngine` with the same calls.
    """
    endpoint = resolve(opts, environ=environ, exists=exists)
    base = _engine_base(endpoint)
    if base is None:
        return SdkEngine(connect(opts, low_level=True, sdk=sdk, environ=environ, exists=exists))
    engine = Engine(endpoint, base[0], base[1], send=send, exists=exists)
    engine.ping()
    return engine
