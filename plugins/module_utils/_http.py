# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client shared by every module that talks to an HTTP API: the only code of the
collection that opens HTTP connections.

Private to this collection (the leading underscore): no compatibility promise.

One function, :func:`request`, turns every failure (refused connection, DNS, TLS, timeout, an
answer that is not HTTP, HTTP status >= 400) into an :class:`HttpError` whose message names the
method, the URL, the status and the server's own text, so that modules can hand it to
``fail_json`` or a finding as is. What it guarantees:

* ``timeout`` bounds the whole request (connecting, the TLS handshake, sending, the status
  line, the headers and the body), not each read: a server that drips bytes cannot hold it;
* the body is capped (``max_bytes``, default :data:`MAX_BYTES`), and so are the status line and
  the headers (a line at most 65536 bytes, at most 100 header lines);
* redirects are followed for GET and HEAD only, at most :data:`MAX_REDIRECTS`; credentials
  (``Authorization``, basic auth) and cookies are dropped when one leads to another origin
  (scheme, host or port);
* a URL with ``user:password@`` is refused (use ``url_username``/``url_password``), and the
  secrets (bearer token, password) never appear in an error message;
* the proxy environment variables (``https_proxy``, ``http_proxy``, ``no_proxy``) are honoured
  as ``ansible.module_utils.urls`` honours them (with the same standard-library helpers).

It speaks HTTP/1.1 itself on a socket (one request per connection, ``Connection: close``)
instead of using ``http.client``: modules import it from a fresh zip on every run of every
host, and ``http.client`` (with ``email``), ``ssl`` and ``urllib.request`` cost more to import
than a request to a local endpoint. A plain ``http://`` request without proxy variables in the
environment imports none of them and builds no TLS context; ``ssl`` is imported, and the TLS
context (the CA store: about 20 ms of CPU) built once per process, when a request or a redirect
goes to ``https://`` or :func:`tls_context` is called; ``urllib.request``'s proxy helpers only
when a ``*_proxy`` variable is set. The answer is read as RFC 9112 frames it (``Content-Length``,
``chunked``, or until the server closes); an answer that is not HTTP or breaks its framing is an
:class:`HttpError` of kind ``connection`` that says so.

A local service that listens on a unix-domain socket (an engine's API socket) is asked with
``request('http://localhost/path', unix_socket='/path/to/api.sock')``: the URL gives the path,
the query and the ``Host`` header, the connection goes to the socket. The deadline and the body
cap apply as over TCP; no proxy is used and no redirect is followed (a 3xx is an answer like any
other status). A socket path that does not exist is an :class:`HttpError` of kind
``connection`` saying so; a path where nothing listens is kind ``refused``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import socket
import sys
import threading
import time

from urllib.parse import urljoin, urlsplit

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
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_BAD_VALUE_RE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')

# The answer's limits, as http.client's: the longest line (status, header, chunk size) and the
# most header lines; and the most interim (1xx) answers before the real one.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_MAX_INTERIM = 10
# What the request line may not carry (http.client refuses the same): it would split the line.
_BAD_TARGET_RE = re.compile(r'[\x00-\x20\x7f]')
_STATUS_LINE_RE = re.compile(r'HTTP/1\.[0-9][ \t]+([1-9][0-9][0-9])(?:[ \t]+(.*))?\Z')
_DIGITS_RE = re.compile(r'[0-9]+\Z')
_HEX_RE = re.compile(br'[0-9A-Fa-f]+\Z')
_METHODS_WITH_BODY = ('PATCH', 'POST', 'PUT')  # Content-Length: 0 without data, as http.client
# Fields that carry one value: a repeated one keeps its last value instead of a joined list.
_SINGLE_VALUED = frozenset(('age', 'content-length', 'content-location', 'content-type', 'date', 'etag', 'expires',
                            'last-modified', 'location', 'retry-after'))


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
    """An HTTP answer: ``status``, ``headers`` (dict, lower-case keys), ``body`` (bytes).

    A header field sent more than once is one entry: its values joined with ``", "`` in the order
    they came (``Cache-Control``, ``Vary``, ``Set-Cookie``...), except the fields that carry one value
    (``Content-Type``, ``Content-Length``, ``Location``, ``Retry-After``, ``Date``, ``ETag``...),
    which keep the last one."""

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
    import ssl  # pylint: disable=import-outside-toplevel  # only where TLS is spoken: it is costly to import
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
    endpoint, so :func:`request` asks for it only when a hop goes to ``https://``. A context is
    safe to share between threads.
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


class _BadAnswer(Exception):
    """An answer that breaks HTTP/1.1 (not HTTP, broken framing, beyond the limits): becomes an
    :class:`HttpError` of kind ``connection`` whose message is ``<method> <url> failed: <this>``."""


def _sample(data, size=40):
    """A short, printable quote of what a server sent (for messages): at most ``size``
    characters, anything but printable ASCII as ``?``."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode('latin-1')
    data = data.split('\n', 1)[0].rstrip('\r')
    text = ''.join(c if ' ' <= c <= '~' else '?' for c in data[:size])
    return repr(text + ('...' if len(data) > size else ''))


class _Wire:
    """A connected socket read through a buffer; every send and receive may only use the time
    left until the deadline (a server that drips bytes cannot hold the client)."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()

    def send(self, data):
        self.sock.settimeout(self.deadline.left())
        self.sock.sendall(data)

    def _recv(self, size=_CHUNK):
        self.sock.settimeout(self.deadline.left())
        return self.sock.recv(size)

    def _fill(self):
        """Receive more into the buffer; ``False`` once the server has closed."""
        data = self._recv()
        self.buffer += data
        return bool(data)

    def peek(self, size):
        """At least ``size`` bytes of the buffer (fewer once the server has closed, or a line ended)."""
        while len(self.buffer) < size and b'\n' not in self.buffer and self._fill():
            pass
        return bytes(self.buffer[:size])

    def readline(self, what):
        """The next line with its end (``b'\\n'``); without one if the server closed before it ended,
        ``b''`` if it closed at once. A line longer than :data:`_MAX_LINE` is :class:`_BadAnswer`."""
        start = 0
        while True:
            end = self.buffer.find(b'\n', start)
            if end >= 0:
                if end >= _MAX_LINE:
                    break
                line = bytes(self.buffer[:end + 1])
                del self.buffer[:end + 1]
                return line
            if len(self.buffer) >= _MAX_LINE:
                break
            start = len(self.buffer)
            if not self._fill():
                line = bytes(self.buffer)
                del self.buffer[:]
                return line
        raise _BadAnswer('%s is longer than %d bytes' % (what, _MAX_LINE))

    def read(self, size):
        """Up to ``size`` bytes (``b''`` once the server has closed)."""
        if self.buffer:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data
        return self._recv(min(size, _CHUNK))

    def close(self):
        self.sock.close()


def _status_of(wire):
    """``(status, reason)`` of the status line ``HTTP/1.x NNN reason``; anything else is not HTTP."""
    start = wire.peek(5)
    if not start:
        raise _BadAnswer('the server closed the connection without an answer')
    if not b'HTTP/'.startswith(start[:5]):  # known before a whole line came: a banner, TLS...
        raise _BadAnswer("the server's answer is not HTTP (it starts with %s)" % _sample(wire.buffer))
    line = wire.readline('the status line')
    match = _STATUS_LINE_RE.match(line.decode('latin-1').rstrip('\r\n'))
    if match is None:
        raise _BadAnswer("the server's answer is not HTTP (it starts with %s)" % _sample(line))
    return int(match.group(1)), (match.group(2) or '').strip()


def _read_fields(wire):
    """The header lines up to the empty line, as ``[(lower-case name, value)]``."""
    fields = []
    while True:
        line = wire.readline('a header line')
        if line in (b'\r\n', b'\n'):
            return fields
        if not line.endswith(b'\n'):
            raise _BadAnswer('the answer ended in its headers')
        if len(fields) >= _MAX_HEADERS:
            raise _BadAnswer('the answer has more than %d header lines' % _MAX_HEADERS)
        text = line.decode('latin-1').rstrip('\r\n')
        if text[:1] in (' ', '\t'):
            raise _BadAnswer('the answer has a folded header line (obsolete line folding): %s' % _sample(text))
        name, sep, value = text.partition(':')
        if not sep or not _HEADER_NAME_RE.match(name):
            raise _BadAnswer('the answer has a header line that is not "Name: value": %s' % _sample(text))
        fields.append((name.lower(), value.strip(' \t')))


def _skip_trailers(wire):
    """The trailer lines after the last chunk, up to the empty line or the end: read, ignored."""
    for dummy in range(_MAX_HEADERS + 1):
        if wire.readline('a trailer line') in (b'\r\n', b'\n', b''):
            return
    raise _BadAnswer('the answer has more than %d trailer lines' % _MAX_HEADERS)


def _read_head(wire):
    """``(status, reason, fields)`` of the real answer: interim ones (``100 Continue``...) are skipped."""
    for dummy in range(_MAX_INTERIM + 1):
        status, reason = _status_of(wire)
        fields = _read_fields(wire)
        if status >= 200 or status == 101:  # 101 Switching Protocols ends the HTTP exchange: it is the answer
            return status, reason, fields
    raise _BadAnswer('the server sent more than %d interim (1xx) answers' % _MAX_INTERIM)


def _header_dict(fields):
    """``Response.headers``: lower-case names; a repeated field is one value, its values joined
    with ``", "`` in the order they came (RFC 9110 5.3), except a field that carries one value
    (:data:`_SINGLE_VALUED`), which keeps its last one, as the dict made of ``http.client``'s
    headers did for every field. Empty values add nothing to a list."""
    headers = {}
    for name, value in fields:
        if name in headers and name not in _SINGLE_VALUED and headers[name]:
            if value:
                headers[name] += ', ' + value
        else:
            headers[name] = value
    return headers


def _framing(method, status, fields, what, max_bytes):
    """How the body is delimited (RFC 9112 6.3): ``0`` for no body, ``'chunked'``, the
    ``Content-Length`` (an int, at most ``max_bytes``), or ``None`` (until the server closes)."""
    if method == 'HEAD' or status < 200 or status in (204, 304):
        return 0
    codings = [c.strip().lower() for name, value in fields if name == 'transfer-encoding' for c in value.split(',')]
    codings = [c for c in codings if c]
    if codings:  # it overrides Content-Length; a coding other than chunked last: until the server closes
        return 'chunked' if codings[-1] == 'chunked' else None
    lengths = [v.strip() for name, value in fields if name == 'content-length' for v in value.split(',')]
    if not lengths:
        return None
    numbers = set(v.lstrip('0') or '0' for v in lengths if _DIGITS_RE.match(v))
    if len(numbers) != 1 or len(lengths) != sum(1 for v in lengths if _DIGITS_RE.match(v)):
        raise _BadAnswer("the answer's Content-Length is not one number: %s" % _sample(', '.join(lengths)))
    length = numbers.pop()
    if len(length) > 18 or int(length) > max_bytes:  # refused before reading, and never int() of 5000 digits
        raise HttpError('%s: the answer is %s bytes, more than the %s bytes accepted'
                        % (what, length if len(length) <= 30 else length[:27] + '...', max_bytes), kind='invalid')
    return int(length)


def _too_large(what, max_bytes):
    """The error for a body that grows beyond ``max_bytes`` (one without a Content-Length, or chunked)."""
    return HttpError('%s: the answer is larger than the %s bytes accepted' % (what, max_bytes), kind='invalid')


def _read_body(wire, framing, what, max_bytes):
    """The whole body (as :func:`_framing` delimits it), or :class:`HttpError` once it grows beyond ``max_bytes``."""
    if framing == 'chunked':
        return _read_chunked(wire, what, max_bytes)
    chunks, size = [], 0
    while framing is None or size < framing:
        chunk = wire.read(_CHUNK if framing is None else min(_CHUNK, framing - size))
        if not chunk:
            if framing is not None:
                raise HttpError('%s failed: the answer ended after %d of the %s bytes its Content-Length announced'
                                % (what, size, framing), kind='connection')
            break
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(what, max_bytes)
        chunks.append(chunk)
    return b''.join(chunks)


def _read_chunked(wire, what, max_bytes):
    """A ``Transfer-Encoding: chunked`` body: chunk extensions and trailers are read and ignored."""
    chunks, size = [], 0
    while True:
        line = wire.readline('a chunk size line')
        if not line.endswith(b'\n'):
            raise _BadAnswer('the chunked answer ended before its last chunk')
        text = line.split(b';', 1)[0].strip()
        if not _HEX_RE.match(text):
            raise _BadAnswer('the chunked answer has a chunk size that is not a hexadecimal number: %s' % _sample(line))
        left = int(text, 16)
        if left == 0:
            _skip_trailers(wire)
            return b''.join(chunks)
        if size + left > max_bytes:
            raise _too_large(what, max_bytes)
        size += left
        while left:
            chunk = wire.read(min(left, _CHUNK))
            if not chunk:
                raise _BadAnswer('the chunked answer ended in the middle of a chunk')
            chunks.append(chunk)
            left -= len(chunk)
        end = wire.peek(2)  # the CRLF after the chunk's data
        if end.startswith(b'\n'):
            del wire.buffer[:1]
        elif end == b'\r\n':
            del wire.buffer[:2]
        elif end in (b'', b'\r'):
            raise _BadAnswer('the chunked answer ended in the middle of a chunk')
        else:
            raise _BadAnswer('the chunked answer has a chunk longer than its size says')


def _origin(parts):
    return (parts.scheme, (parts.hostname or '').lower(), parts.port or (443 if parts.scheme == 'https' else 80))


def _proxy_for(parts):
    """The proxy URL's parts for this target (from the environment), or ``None``.

    ``urllib.request`` (costly to import) is asked only when a ``*_proxy`` variable is set: only
    then can its ``getproxies_environment`` find one (``no_proxy`` alone finds none)."""
    if not any(name.lower().endswith('_proxy') for name in os.environ):
        return None
    from urllib.request import getproxies_environment, proxy_bypass_environment  # pylint: disable=import-outside-toplevel
    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme)
    if not proxy or proxy_bypass_environment(parts.hostname or '', proxies):
        return None
    if '://' not in proxy:
        proxy = 'http://' + proxy
    proxy = urlsplit(proxy)
    if not proxy.hostname:
        raise ValueError('the %s proxy %s has no host name' % (parts.scheme, redact_url(proxy.geturl())))
    return proxy


def _host(hostname, port=None, default=None):
    """``hostname`` (and ``:port`` unless it is the scheme's ``default``) as the ``Host`` header
    and ``CONNECT`` name it: IDNA for a name that is not ASCII, brackets for IPv6 (without a zone)."""
    try:
        hostname.encode('ascii')
    except UnicodeEncodeError:
        hostname = hostname.encode('idna').decode('ascii')
    if ':' in hostname:
        hostname = '[%s]' % hostname.partition('%')[0]
    return hostname if port is None or port == default else '%s:%d' % (hostname, port)


def _request_head(method, target, host, headers, data, what):
    """The request line and headers (bytes, with the empty line that ends them)."""
    if not _HEADER_NAME_RE.match(method):
        raise HttpError('%s: the method is not a token: refused before sending' % what, kind='invalid')
    if _BAD_TARGET_RE.search(target) or not target.isascii():
        raise HttpError('%s: the URL has a space, a control character or a character that is not ASCII: refused '
                        'before sending (percent-encode it)' % what, kind='invalid')
    names = set(name.lower() for name in headers)
    lines = ['%s %s HTTP/1.1' % (method, target)]
    if 'host' not in names:
        lines.append('Host: %s' % host)
    if 'accept-encoding' not in names:
        lines.append('Accept-Encoding: identity')  # as http.client: never a compressed answer
    if 'content-length' not in names and 'transfer-encoding' not in names and (
            data is not None or method in _METHODS_WITH_BODY):
        lines.append('Content-Length: %d' % len(data or b''))
    lines.extend('%s: %s' % (name, value) for name, value in headers.items())
    if 'connection' not in names:
        lines.append('Connection: close')
    try:
        return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    except UnicodeEncodeError:
        bad = [name for name, value in headers.items() if not _is_latin1('%s' % value)]
        raise HttpError('%s: the header %s has a character that is not Latin-1: refused before sending; the value is '
                        'not shown' % (what, bad[0] if bad else 'Host'), kind='invalid')


def _is_latin1(text):
    try:
        text.encode('latin-1')
    except UnicodeEncodeError:
        return False
    return True


def _connect_tcp(host, port, deadline):
    sock = socket.create_connection((host, port), deadline.left())
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_unix(path, deadline):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(deadline.left())
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def _tunnel(sock, deadline, authority, proxy):
    """``CONNECT authority`` through the proxy on ``sock``: a 2xx answer opens the tunnel."""
    wire = _Wire(sock, deadline)
    wire.send(('CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (authority, authority)).encode('ascii'))
    status, reason, dummy = _read_head(wire)
    if not 200 <= status < 300:
        raise _BadAnswer('the proxy %s answered CONNECT %s with HTTP %d%s'
                         % (redact_url(proxy.geturl()), authority, status, ' ' + reason if reason else ''))
    if wire.buffer:  # a 2xx answer to CONNECT has no body (RFC 9110 9.3.6): these would be the TLS server's
        raise _BadAnswer('the proxy %s sent data after its answer to CONNECT %s' % (redact_url(proxy.geturl()), authority))


def _open(parts, method, data, headers, deadline, tls, what, unix_socket=None):
    """Connect for ``parts`` (directly, through a proxy, over the unix socket) and send one
    request; return the :class:`_Wire` to read the answer from.

    ``tls`` are the :func:`tls_context` settings: the context is asked for only for https."""
    https = parts.scheme == 'https'
    port = _origin(parts)[2]
    target = parts.path or '/'
    if parts.query:
        target += '?' + parts.query
    proxy = None
    if unix_socket:
        host = _host(parts.hostname or 'localhost')
    else:
        host = _host(parts.hostname, port, 443 if https else 80)
        proxy = _proxy_for(parts)
        if proxy is not None and not https:
            target = parts._replace(fragment='').geturl()  # a proxy is sent the absolute URL
    head = _request_head(method, target, host, headers, data, what)
    if unix_socket:
        sock = _connect_unix(unix_socket, deadline)
    elif proxy is None:
        sock = _connect_tcp(parts.hostname, port, deadline)
    else:
        sock = _connect_tcp(proxy.hostname, proxy.port or 80, deadline)
    try:
        if https:
            if proxy is not None:
                _tunnel(sock, deadline, '%s:%d' % (_host(parts.hostname), port), proxy)
            context = tls_context(*tls)
            sock.settimeout(deadline.left())
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        wire = _Wire(sock, deadline)
        # Head and body in one segment: no wait for a delayed ACK between them (as http.client).
        wire.send(head + data if data else head)
    except BaseException:
        sock.close()
        raise
    return wire


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
    except _BadAnswer as exc:
        raise HttpError('%s failed: %s' % (what, exc), url=url, kind='connection')
    except (socket.timeout, TimeoutError) as exc:
        raise HttpError('%s timed out after %ss (%s)' % (what, timeout, exc), url=url, kind='timeout')
    except (OSError, ValueError) as exc:
        ssl = sys.modules.get('ssl')  # imported only if TLS was spoken: then its errors may come
        if ssl is not None and isinstance(exc, ssl.SSLError):
            raise HttpError('%s failed TLS verification or handshake: %s' % (what, exc), url=url, kind='tls')
        if isinstance(exc, ConnectionRefusedError):
            raise HttpError('%s: connection refused (is the service running and listening there?)' % what,
                            url=url, kind='refused')
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
    """``(status, headers, body)`` of the answer at the end of the redirects (none over a unix socket).

    ``tls`` are the :func:`tls_context` settings: the context is built (once per process) when a
    hop goes to https, not for an http:// URL that is not redirected there."""
    current = url
    origin = _origin(urlsplit(url))
    for hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        wire = _open(parts, method, data, headers, deadline, tls, what, unix_socket)
        try:
            status, dummy, fields = _read_head(wire)
            resp_headers = _header_dict(fields)
            location = resp_headers.get('location')
            if (status not in _REDIRECTS or not location or method not in _SAFE_METHODS
                    or unix_socket is not None):
                framing = _framing(method, status, fields, what, max_bytes)
                return status, resp_headers, _read_body(wire, framing, what, max_bytes)
        finally:
            wire.close()
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
