# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client shared by every module that talks to an HTTP API.

Private to this collection (the leading underscore): no compatibility promise.

One function, :func:`request`, wraps ``ansible.module_utils.urls.Request`` and turns
every failure (refused connection, DNS, TLS, timeout, HTTP status >= 400) into an
:class:`HttpError` whose message names the method, the URL, the status and the
server's own text, so that modules can hand it to ``fail_json`` or a finding as is.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time

from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from ansible.module_utils.urls import Request, make_context

# How much of a server's error body is quoted in a message.
_BODY_QUOTE = 300


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

    def __init__(self, url, status, headers, body, elapsed_ms, method='GET'):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed_ms = elapsed_ms

    @property
    def text(self):
        return self.body.decode('utf-8', errors='replace')

    def json(self):
        """Decode the body as JSON or raise :class:`HttpError` (kind ``invalid``)."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise HttpError(
                '%s %s answered HTTP %s with a body that is not JSON (%s): %s'
                % (self.method, self.url, self.status, exc, _quote(self.text)),
                url=self.url, status=self.status, body=self.text, kind='invalid')


def _quote(text):
    text = (text or '').strip().replace('\n', ' ')
    if len(text) > _BODY_QUOTE:
        text = text[:_BODY_QUOTE] + '...'
    return text or '(empty body)'


def validate_url(url, name='url'):
    """Return an error message for a URL that cannot be requested, else ``None``."""
    if not isinstance(url, str) or not url:
        return '%s must be a non-empty http:// or https:// URL, got %r' % (name, url)
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


def join_url(base, path):
    """Join ``base`` (which may carry a path prefix, e.g. behind a proxy) and ``path``."""
    return base.rstrip('/') + '/' + path.lstrip('/')


_CONTEXTS = {}
_CONTEXTS_LOCK = threading.Lock()


def tls_context(validate_certs=True, ca_path=None, client_cert=None, client_key=None):
    """The TLS context for these settings, built once per process and then shared.

    ``Request`` would otherwise build one for every request, even a plain ``http://`` one
    (it may be redirected to https), and loading the CA store costs about 20 ms of CPU: more
    than the rest of a request to a local endpoint. A context is safe to share between threads.
    """
    key = (bool(validate_certs), ca_path, client_cert, client_key)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            context = make_context(cafile=ca_path, validate_certs=validate_certs,
                                   client_cert=client_cert, client_key=client_key)
            _CONTEXTS[key] = context
    return context


def request(url, method='GET', data=None, headers=None, timeout=10.0,
            url_username=None, url_password=None, bearer_token=None,
            validate_certs=True, ca_path=None, client_cert=None, client_key=None,
            expect=None):
    """Send one request and return a :class:`Response`.

    ``data`` may be bytes, str, or any JSON-serialisable object (sent as JSON).
    ``expect`` is an iterable of statuses that count as success (default: < 400).
    """
    error = validate_url(url)
    if error:
        raise HttpError(error, url=url, kind='invalid')
    send_headers = {'Accept': 'application/json'}
    if data is not None and not isinstance(data, (bytes, str)):
        data = json.dumps(data)
        send_headers['Content-Type'] = 'application/json'
    if isinstance(data, str):
        data = data.encode('utf-8')
    if bearer_token:
        send_headers['Authorization'] = 'Bearer %s' % bearer_token
    send_headers.update(headers or {})

    started = time.monotonic()
    what = '%s %s' % (method, url)
    try:
        req = Request(
            url_username=url_username, url_password=url_password,
            force_basic_auth=bool(url_username), validate_certs=validate_certs,
            ca_path=ca_path, client_cert=client_cert, client_key=client_key,
            follow_redirects='safe', timeout=timeout, headers=send_headers,
            context=tls_context(validate_certs, ca_path, client_cert, client_key))
        resp = req.open(method, url, data=data)
        body = resp.read()
        status = resp.getcode()
        resp_headers = dict((k.lower(), v) for k, v in resp.headers.items())
    except HTTPError as exc:
        try:
            body = exc.read()
        except Exception:  # pylint: disable=broad-except
            body = b''
        text = body.decode('utf-8', errors='replace') if body else ''
        status = exc.code
        if expect and status in expect:
            return Response(url, status, dict((k.lower(), v) for k, v in (exc.headers or {}).items()),
                            body, int((time.monotonic() - started) * 1000), method)
        hint = ''
        if status == 410:
            hint = ' (HTTP 410 Gone: this API version was removed from the server)'
        elif status in (401, 403):
            hint = ' (check url_username/url_password, bearer_token or headers)'
        raise HttpError('%s answered HTTP %s%s: %s' % (what, status, hint, _quote(text)),
                        url=url, status=status, body=text, kind='http')
    except (socket.timeout, TimeoutError) as exc:
        raise HttpError('%s timed out after %ss (%s)' % (what, timeout, exc), url=url, kind='timeout')
    except ssl.SSLError as exc:
        raise HttpError('%s failed TLS verification or handshake: %s' % (what, exc), url=url, kind='tls')
    except URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise HttpError('%s timed out after %ss' % (what, timeout), url=url, kind='timeout')
        if isinstance(reason, ssl.SSLError) or 'CERTIFICATE' in str(reason).upper():
            raise HttpError('%s failed TLS verification or handshake: %s' % (what, reason), url=url, kind='tls')
        if isinstance(reason, ConnectionRefusedError):
            raise HttpError('%s: connection refused (is the service running and listening there?)' % what,
                            url=url, kind='refused')
        raise HttpError('%s failed: %s' % (what, reason), url=url, kind='connection')
    except (ConnectionError, OSError, ValueError) as exc:
        if isinstance(exc, ConnectionRefusedError):
            raise HttpError('%s: connection refused (is the service running and listening there?)' % what,
                            url=url, kind='refused')
        raise HttpError('%s failed: %s' % (what, exc), url=url, kind='connection')
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if expect and status not in expect:
        raise HttpError('%s answered HTTP %s, expected %s: %s'
                        % (what, status, ', '.join(str(s) for s in expect), _quote(body.decode('utf-8', 'replace'))),
                        url=url, status=status, body=body, kind='http')
    return Response(url, status, resp_headers, body, elapsed_ms, method)


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
