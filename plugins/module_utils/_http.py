# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client shared by every module that talks to an HTTP API: the only code of the
collection that opens HTTP connections.

Private to this collection (the leading underscore): no compatibility promise.

One function, :func:`request`, built on the standard library (``http.client``, ``ssl``), turns
every failure (refused connection, DNS, TLS, timeout, HTTP status >= 400) into an
:class:`HttpError` whose message names the method, the URL, the status and the server's own
text, so that modules can hand it to ``fail_json`` or a finding as is. What it guarantees:

* ``timeout`` bounds the whole request (connecting, the TLS handshake, sending, the status
  line, the headers and the body), not each read: a server that drips bytes cannot hold it;
* the body is capped (``max_bytes``, default :data:`MAX_BYTES`);
* redirects are followed for GET and HEAD only, at most :data:`MAX_REDIRECTS`; credentials
  (``Authorization``, basic auth) and cookies are dropped when one leads to another origin
  (scheme, host or port);
* a URL with ``user:password@`` is refused (use ``url_username``/``url_password``), and the
  secrets (bearer token, password) never appear in an error message;
* the proxy environment variables (``https_proxy``, ``http_proxy``, ``no_proxy``) are honoured
  as ``ansible.module_utils.urls`` honours them.

A local service that listens on a unix-domain socket (an engine's API socket) is asked with
``request('http://localhost/path', unix_socket='/path/to/api.sock')``: the URL gives the path,
the query and the ``Host`` header, the connection goes to the socket. The deadline and the body
cap apply as over TCP; no proxy is used and no redirect is followed (a 3xx is an answer like any
other status). A socket path that does not exist is an :class:`HttpError` of kind
``connection`` saying so; a path where nothing listens is kind ``refused``.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import math
import re
import socket
import ssl
import threading
import time

from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

# How much of a server's error body is quoted in a message.
_BODY_QUOTE = 300

#: Largest body read by default (16 MiB): more is an error, not an answer.
MAX_BYTES = 16 * 1024 * 1024

#: Redirects followed at the most (GET and HEAD only).
MAX_REDIRECTS = 5

_REDIRECTS = (301, 302, 303, 307, 308)
_SAFE_METHODS = ('GET', 'HEAD')
# Request headers that carry credentials: never sent to another origin after a redirect.
_CREDENTIAL_HEADERS = ('authorization', 'proxy-authorization', 'cookie')
_CHUNK = 64 * 1024

#: Longest ``timeout`` accepted (seconds): more is a typo, and ``inf`` or ``1e309`` would overflow.
MAX_TIMEOUT = 86400.0

# A header name is an RFC 9110 token; a value has no control characters (CR, LF, NUL...).
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE_RE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')


class HttpError(Exception):
    """A request that did not produce a usable answer.

    ``status`` is the HTTP status (``None`` when no answer came), ``kind`` one of
    ``http``, ``timeout``, ``refused``, ``tls``, ``connection``, ``invalid``.
    """

    def __init__(self, message, url=None, status=None, body=None, kind='http'):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.body = body
        self.kind = kind


class Response:
    """An HTTP answer: ``status``, ``headers`` (dict, lower-case keys), ``body`` (bytes)."""

    def __init__(self, url, status, headers, body, elapsed_ms, method='GET', secrets=()):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed_ms = elapsed_ms
        self.secrets = tuple(secrets)

    def scrub(self, text):
        """``text`` without the request's secrets (a server may echo them in its answer)."""
        return _scrub(text, self.secrets)

    @property
    def text(self):
        return self.body.decode('utf-8', errors='replace')

    def json(self):
        """Decode the body as JSON or raise :class:`HttpError` (kind ``invalid``)."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise HttpError(
                self.scrub('%s %s answered HTTP %s with a body that is not JSON (%s): %s'
                           % (self.method, self.url, self.status, exc, _quote(self.text))),
                url=self.url, status=self.status, body=self.scrub(self.text), kind='invalid')


def _quote(text):
    text = (text or '').strip().replace('\n', ' ')
    if len(text) > _BODY_QUOTE:
        text = text[:_BODY_QUOTE] + '...'
    return text or '(empty body)'


def validate_url(url, name='url'):
    """Return an error message for a URL that cannot be requested, else ``None``.

    A URL with credentials (``user:password@``) is refused, and the message does not repeat them.
    """
    if not isinstance(url, str) or not url:
        return '%s must be a non-empty http:// or https:// URL, got %r' % (name, url)
    if '@' in url.split('://', 1)[-1].split('/', 1)[0].split('?', 1)[0].split('#', 1)[0]:
        return ('%s must not carry credentials (user:password@): they would show in logs and messages; give them '
                'as options (url_username and url_password where the module has them), got %s' % (name, redact_url(url)))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return '%s=%r is not a valid URL: %s' % (name, url, exc)
    if parts.scheme not in ('http', 'https'):
        return '%s=%r must start with http:// or https://' % (name, url)
    if not parts.hostname:
        return '%s=%r has no host name' % (name, url)
    return None


def redact_url(url):
    """``url`` with ``***`` in place of its ``user:password@`` part (for messages)."""
    scheme, sep, rest = str(url).partition('://')
    if not sep:
        scheme, rest = '', scheme
    authority, slash, path = rest.partition('/')
    if '@' not in authority:
        return url
    return scheme + sep + '***@' + authority.rpartition('@')[2] + slash + path


def check_timeout(value, name='timeout', maximum=MAX_TIMEOUT):
    """Return an error message for a timeout that is not a finite number of seconds in
    ``(0, maximum]`` (``nan``, ``inf``, ``1e309``, negative, a boolean), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return '%s must be a number of seconds, got %r' % (name, value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isnan(number) or not 0 < number <= maximum:
        return '%s must be more than 0 and at most %d seconds, got %s' % (name, maximum, _short_number(value))
    return None


def _short_number(value):
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + '...'


def check_headers(headers, name='headers'):
    """Return an error message for a header that cannot be sent as given, else ``None``: a name
    that is not a token, or a value with a control character (a CR LF would inject a header, a
    trailing newline is usually a token file read without stripping). The value is never quoted:
    it is often a secret."""
    for key, value in (headers or {}).items():
        if not isinstance(key, str) or not _HEADER_NAME_RE.match(key):
            return '%s: %r is not a valid header name' % (name, key)
        if not isinstance(value, str):
            value = str(value)
        if _BAD_VALUE_RE.search(value):
            return ('%s[%s] contains a control character (CR, LF, NUL...): refused before sending; the value '
                    'is not shown (strip the trailing newline of a token file)' % (name, key))
        if value != value.strip():
            return '%s[%s] starts or ends with white space: refused before sending; the value is not shown' % (name, key)
    return None


def check_token(token, name='bearer_token'):
    """Return an error message for a bearer token that is not one printable word, else ``None``;
    the token itself is never quoted."""
    if not isinstance(token, str) or not token or any(c.isspace() or not c.isprintable() for c in token):
        return ('%s contains white space or a control character (a trailing newline from a token file?): '
                'refused before sending; the token is not shown' % name)
    return None


def join_url(base, path):
    """Join ``base`` (which may carry a path prefix, e.g. behind a proxy) and ``path``."""
    return base.rstrip('/') + '/' + path.lstrip('/')


_CONTEXTS = {}
_CONTEXTS_LOCK = threading.Lock()


def make_context(cafile=None, validate_certs=True, client_cert=None, client_key=None):
    """An ``ssl.SSLContext`` as ``ansible.module_utils.urls.make_context`` builds it: the system's
    CA store (or only ``cafile``), no verification at all with ``validate_certs=False``, and a
    client certificate (with its key) for mutual TLS."""
    context = ssl.create_default_context(cafile=cafile)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        context.post_handshake_auth = True
        context.load_cert_chain(client_cert, keyfile=client_key)
    return context


def tls_context(validate_certs=True, ca_path=None, client_cert=None, client_key=None):
    """The TLS context for these settings, built once per process and then shared.

    Loading the CA store costs about 20 ms of CPU: more than the rest of a request to a local
    endpoint. A context is safe to share between threads.
    """
    key = (bool(validate_certs), ca_path, client_cert, client_key)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            context = make_context(cafile=ca_path, validate_certs=validate_certs,
                                   client_cert=client_cert, client_key=client_key)
            _CONTEXTS[key] = context
    return context


class _Deadline:
    """The moment a request must be over; :meth:`left` is the time that remains (or a timeout)."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.end = time.monotonic() + float(timeout)

    def left(self):
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('timed out')
        return remaining


class _DeadlineSocket:
    """A socket whose every send and receive may only use the time left until the deadline."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self._files = 0
        self._closed = False

    def _arm(self):
        self.sock.settimeout(self.deadline.left())

    def sendall(self, data):
        self._arm()
        return self.sock.sendall(data)

    def recv_into(self, buffer, nbytes=0):
        self._arm()
        return self.sock.recv_into(buffer, nbytes)

    def makefile(self, mode='rb', buffering=None):  # pylint: disable=unused-argument
        self._files += 1
        return io.BufferedReader(socket.SocketIO(self, 'rb'))

    # As with a real socket, close() waits for the files made from it (the response's) to close.
    def _decref_socketios(self):
        self._files -= 1
        if self._closed and self._files <= 0:
            self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    def settimeout(self, value):
        pass  # the deadline decides

    def close(self):
        self._closed = True
        if self._files <= 0:
            self.sock.close()


class _Connection(http.client.HTTPConnection):
    """One connection (plain, TLS, or TLS through a proxy's CONNECT) bounded by a deadline."""

    def __init__(self, host, port, deadline, context=None, server_hostname=None):
        super().__init__(host, port, timeout=deadline.left())
        self.deadline = deadline
        self.context = context
        self.server_hostname = server_hostname or host

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.deadline.left())
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = _DeadlineSocket(raw, self.deadline)
        if self._tunnel_host:
            self._tunnel()
        if self.context is not None:
            raw.settimeout(self.deadline.left())
            self.sock = _DeadlineSocket(self.context.wrap_socket(raw, server_hostname=self.server_hostname),
                                        self.deadline)


class _UnixConnection(http.client.HTTPConnection):
    """One connection to a unix-domain socket (``path``) bounded by a deadline."""

    def __init__(self, path, host, deadline):
        super().__init__(host or 'localhost', timeout=deadline.left())
        self.deadline = deadline
        self.path = path

    def connect(self):
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            raw.settimeout(self.deadline.left())
            raw.connect(self.path)
        except BaseException:
            raw.close()
            raise
        self.sock = _DeadlineSocket(raw, self.deadline)


def _origin(parts):
    return (parts.scheme, (parts.hostname or '').lower(), parts.port or (443 if parts.scheme == 'https' else 80))


def _proxy_for(parts):
    """The proxy URL's parts for this target (from the environment), or ``None``."""
    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme)
    if not proxy or proxy_bypass_environment(parts.hostname or '', proxies):
        return None
    if '://' not in proxy:
        proxy = 'http://' + proxy
    return urlsplit(proxy)


def _open(parts, method, data, headers, deadline, context, unix_socket=None):
    """Send one request to ``parts`` (no redirects); return the ``http.client.HTTPResponse``."""
    port = _origin(parts)[2]
    target = parts.path or '/'
    if parts.query:
        target += '?' + parts.query
    proxy = None if unix_socket else _proxy_for(parts)
    tls = context if parts.scheme == 'https' else None
    if unix_socket:
        conn = _UnixConnection(unix_socket, parts.hostname, deadline)
    elif proxy is None:
        conn = _Connection(parts.hostname, port, deadline, tls)
    elif tls is not None:
        conn = _Connection(proxy.hostname, proxy.port or 80, deadline, tls, server_hostname=parts.hostname)
        conn.set_tunnel(parts.hostname, port)
    else:
        conn = _Connection(proxy.hostname, proxy.port or 80, deadline)
        target = parts.geturl()
    try:
        conn.request(method, target, body=data, headers=headers)
        return conn, conn.getresponse()
    except BaseException:
        conn.close()
        raise


def _read(response, what, max_bytes):
    """The whole body, or :class:`HttpError` once it grows beyond ``max_bytes``."""
    length = response.getheader('Content-Length')
    if length and length.isdigit() and int(length) > max_bytes:
        raise HttpError('%s: the answer is %s bytes, more than the %s bytes accepted' % (what, length, max_bytes),
                        kind='invalid')
    chunks, size = [], 0
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            # ``read(amt)`` returns b'' when the server closes early, where ``read()`` would raise.
            if length and length.isdigit() and size < int(length) and response.chunked is False:
                raise HttpError('%s failed: the answer ended after %d of the %s bytes its Content-Length announced'
                                % (what, size, length), kind='connection')
            return b''.join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise HttpError('%s: the answer is larger than the %s bytes accepted' % (what, max_bytes), kind='invalid')
        chunks.append(chunk)


def _scrub(text, secrets):
    if not isinstance(text, str):
        return text
    for secret in secrets:
        text = text.replace(secret, '********')
    return text


def scrub(text, secrets):
    """``text`` with each of ``secrets`` replaced by ``********``: for messages that quote a
    server's answer, which may echo what it was sent."""
    return _scrub(text, [s for s in secrets if s])


def request(url, method='GET', data=None, headers=None, timeout=10.0,
            url_username=None, url_password=None, bearer_token=None,
            validate_certs=True, ca_path=None, client_cert=None, client_key=None,
            expect=None, max_bytes=MAX_BYTES, unix_socket=None):
    """Send one request and return a :class:`Response`.

    ``data`` may be bytes, str, or any JSON-serialisable object (sent as JSON).
    ``expect`` is an iterable of statuses that count as success (default: any 2xx; a redirect that
    is not followed, like any other status, is an :class:`HttpError`).
    ``timeout`` (seconds) bounds the whole request, redirects included; a body larger than
    ``max_bytes`` is an error.
    ``unix_socket`` (a path) sends the request over that unix-domain socket instead of TCP; the
    URL must then be ``http://`` (its host only names the ``Host`` header, e.g. ``localhost``).
    """
    if timeout is None:
        timeout = 10.0
    secrets = [s for s in (bearer_token, url_password) if s]
    redacted = redact_url(url)
    error = check_timeout(timeout)
    if error is None and bearer_token:
        error = check_token(bearer_token)
    if error is None:
        error = check_headers(headers)
    if error is None and url_username is not None and (
            _BAD_VALUE_RE.search(str(url_username)) or ':' in str(url_username)):
        error = 'url_username contains a colon or a control character: refused before sending'
    if error is None and url_password is not None and _BAD_VALUE_RE.search(str(url_password)):
        error = 'url_password contains a control character: refused before sending; the password is not shown'
    if error:
        raise HttpError('%s %s: %s' % (method, redacted, _scrub(error, secrets)), url=redacted, kind='invalid')
    send_headers = {'Accept': 'application/json', 'User-Agent': 'ansible-httpget'}
    if data is not None and not isinstance(data, (bytes, str)):
        data = json.dumps(data)
        send_headers['Content-Type'] = 'application/json'
    if isinstance(data, str):
        data = data.encode('utf-8')
    if bearer_token:
        send_headers['Authorization'] = 'Bearer %s' % bearer_token
    send_headers.update(headers or {})
    if url_username:
        basic = base64.b64encode(('%s:%s' % (url_username, url_password or '')).encode('utf-8')).decode('ascii')
        send_headers['Authorization'] = 'Basic %s' % basic
        secrets.append(basic)
    try:
        response = _request(url, method, data, send_headers, timeout, expect, max_bytes,
                            (validate_certs, ca_path, client_cert, client_key), unix_socket)
        response.secrets = tuple(secrets)
        return response
    except HttpError as exc:
        if secrets:
            exc.message = _scrub(exc.message, secrets)
            exc.args = (exc.message,)
            exc.body = _scrub(exc.body, secrets)
        raise


def _request(url, method, data, send_headers, timeout, expect, max_bytes, tls, unix_socket=None):
    error = validate_url(url)
    if error is None and unix_socket is not None:
        if not isinstance(unix_socket, str) or not unix_socket or '\x00' in unix_socket:
            error = 'unix_socket must be the path of a socket, got %r' % (unix_socket,)
        elif not url.startswith('http://'):
            error = 'url=%r must start with http:// to be sent over the unix socket %s' % (url, unix_socket)
    if error:
        raise HttpError(error, url=redact_url(url), kind='invalid')
    started = time.monotonic()
    what = '%s %s' % (method, url) if unix_socket is None else '%s %s (unix socket %s)' % (method, url, unix_socket)
    try:
        status, resp_headers, body = _exchange(url, method, data, send_headers, _Deadline(timeout), max_bytes, tls, what,
                                               unix_socket)
    except HttpError as exc:
        exc.url = exc.url or url
        raise
    except (socket.timeout, TimeoutError) as exc:
        raise HttpError('%s timed out after %ss (%s)' % (what, timeout, exc), url=url, kind='timeout')
    except ssl.SSLError as exc:
        raise HttpError('%s failed TLS verification or handshake: %s' % (what, exc), url=url, kind='tls')
    except ConnectionRefusedError:
        raise HttpError('%s: connection refused (is the service running and listening there?)' % what,
                        url=url, kind='refused')
    except (http.client.HTTPException, OSError, ValueError) as exc:
        if unix_socket is not None and isinstance(exc, FileNotFoundError):
            raise HttpError('%s failed: the socket %s does not exist (is the service running?)' % (what, unix_socket),
                            url=url, kind='connection')
        raise HttpError('%s failed: %s' % (what, str(exc) or type(exc).__name__), url=url, kind='connection')
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if expect and status in expect:
        return Response(url, status, resp_headers, body, elapsed_ms, method)
    text = body.decode('utf-8', errors='replace') if body else ''
    if not 200 <= status < 300:
        hint = ''
        if status == 410:
            hint = ' (HTTP 410 Gone: this API version was removed from the server)'
        elif status in (401, 403):
            hint = ' (check url_username/url_password, bearer_token or headers)'
        raise HttpError('%s answered HTTP %s%s: %s' % (what, status, hint, _quote(text)),
                        url=url, status=status, body=text, kind='http')
    if expect:
        raise HttpError('%s answered HTTP %s, expected %s: %s'
                        % (what, status, ', '.join(str(s) for s in expect), _quote(text)),
                        url=url, status=status, body=body, kind='http')
    return Response(url, status, resp_headers, body, elapsed_ms, method)


def _exchange(url, method, data, headers, deadline, max_bytes, tls, what, unix_socket=None):
    """``(status, headers, body)`` of the answer at the end of the redirects (none over a unix socket)."""
    current = url
    origin = _origin(urlsplit(url))
    # Built (once per process) also for http://, which may be redirected to https://; not for a unix socket.
    context = tls_context(*tls) if unix_socket is None else None
    for hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        conn, response = _open(parts, method, data, headers, deadline, context, unix_socket)
        try:
            status = response.status
            location = response.getheader('Location')
            if (status not in _REDIRECTS or not location or method not in _SAFE_METHODS
                    or unix_socket is not None):
                body = _read(response, what, max_bytes) if method != 'HEAD' else b''
                return status, dict((k.lower(), v) for k, v in response.getheaders()), body
        finally:
            response.close()
            conn.close()
        if hop == MAX_REDIRECTS:
            raise HttpError('%s: more than %d redirects (the last to %s)' % (what, MAX_REDIRECTS, redact_url(location)),
                            status=status, kind='http')
        current = urljoin(current, location)
        target = urlsplit(current)
        if target.scheme not in ('http', 'https') or '@' in target.netloc or not target.hostname:
            raise HttpError('%s was redirected to %s, which cannot be followed' % (what, redact_url(current)),
                            status=status, kind='invalid')
        if _origin(target) != origin:
            headers = dict((k, v) for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS)
    raise AssertionError('unreachable')  # pragma: no cover


def get_only(http_get):
    """Adapt a ``http_get(url, timeout=None)`` function (a health ``Host``'s) to the ``send``
    signature of the clients (:func:`request`'s), for clients that only read.

    The host's GET carries the host's settings (``validate_certs``, its timeout); a
    ``timeout`` of ``None`` keeps the host's.
    """
    def send(url, method='GET', data=None, timeout=None, **dummy):
        if method != 'GET' or data is not None:
            raise HttpError('%s %s: only GET requests can be sent this way' % (method, url), url=url, kind='invalid')
        return http_get(url, timeout=timeout)
    return send
