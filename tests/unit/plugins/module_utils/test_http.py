"""The shared HTTP client against real loopback servers (plain and TLS)."""

from __future__ import annotations

import datetime
import http.server
import json
import socket
import ssl
import threading
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.cloudos.ops.plugins.module_utils import _http


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == '/slow':
            time.sleep(1.0)
        status = 404 if self.path == '/missing' else 200
        body = json.dumps({'path': self.path}).encode() if status == 200 else b'no such thing'
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(context=None):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def server():
    srv = _serve()
    yield 'http://127.0.0.1:%d' % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def tls_server(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / 'c.pem').write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / 'k.pem').write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / 'c.pem'), str(tmp_path / 'k.pem'))
    srv = _serve(context)
    yield 'https://127.0.0.1:%d' % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_json_answer(server):
    resp = _http.request(server + '/api/v2/status')
    assert resp.status == 200 and resp.json() == {'path': '/api/v2/status'}


def test_http_error_names_method_url_status_and_body(server):
    with pytest.raises(_http.HttpError) as err:
        _http.request(server + '/missing')
    assert err.value.kind == 'http' and err.value.status == 404
    assert 'GET %s/missing answered HTTP 404' % server in str(err.value) and 'no such thing' in str(err.value)


def test_refused_and_timeout():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://127.0.0.1:%d/' % port, timeout=2)
    assert err.value.kind == 'refused'


def test_timeout(server):
    with pytest.raises(_http.HttpError) as err:
        _http.request(server + '/slow', timeout=0.3)
    assert err.value.kind == 'timeout' and 'timed out' in str(err.value)


def test_tls_context_is_built_once_per_settings(server, tls_server, monkeypatch):
    built = []
    real = _http.make_context

    def counting(**kwargs):
        built.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(_http, 'make_context', counting)
    monkeypatch.setattr(_http, '_CONTEXTS', {})
    _http.request(server + '/plain')
    assert built == []  # plain http:// loads no CA store
    threads = [threading.Thread(target=_http.request, args=(tls_server + '/%d' % n,), kwargs={'validate_certs': False})
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _http.request(tls_server + '/again', validate_certs=False)
    with pytest.raises(_http.HttpError):
        _http.request(tls_server + '/verified')
    assert [kw['validate_certs'] for kw in built] == [False, True]


def test_tls_verification_is_still_enforced(tls_server):
    with pytest.raises(_http.HttpError) as err:
        _http.request(tls_server + '/x')
    assert err.value.kind == 'tls'
    assert _http.request(tls_server + '/x', validate_certs=False).json() == {'path': '/x'}


def test_get_only_adapts_a_host_get():
    seen = []
    send = _http.get_only(lambda url, timeout=None: seen.append((url, timeout)) or 'answer')
    assert send('http://x/a', timeout=3, validate_certs=False, headers={}) == 'answer'
    assert seen == [('http://x/a', 3)]
    with pytest.raises(_http.HttpError) as err:
        send('http://x/a', method='POST', data=b'{}')
    assert err.value.kind == 'invalid' and 'only GET' in err.value.message


def test_only_the_http_client_opens_http_connections():
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins')
    pattern = re.compile(r'^\s*(from|import)\s+(ansible\.module_utils\.urls|urllib\.request|urllib2|http\.client|'
                         r'httplib|requests)\b', re.M)
    offenders = []
    for folder, dummy, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith('.py') and not path.endswith(os.path.join('module_utils', '_http.py')):
                with open(path, encoding='utf-8') as handle:
                    if pattern.search(handle.read()):
                        offenders.append(os.path.relpath(path, root))
    assert offenders == []


# --- the standard-library client: whole-request timeout, body cap, redirects, secrets -----------

class Raw:
    """A loopback TCP server that answers every connection with ``script(conn, request_bytes)``."""

    def __init__(self, script):
        self.script = script
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.done.is_set():
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            conn.settimeout(5)
            data = b''
            while b'\r\n\r\n' not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data.decode('latin-1'))
            try:
                self.script(conn, data)
            except OSError:
                pass

    def close(self):
        self.done.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def raw():
    servers = []

    def start(script):
        servers.append(Raw(script))
        return servers[-1]
    yield start
    for srv in servers:
        srv.close()


def drip(payload, pause=0.1):
    def script(conn, dummy):
        for index in range(len(payload)):
            conn.sendall(payload[index:index + 1])
            time.sleep(pause)
    return script


@pytest.mark.parametrize('payload', [
    b'HTTP/1.1 200 OK\r\nX-Slow: ' + b'a' * 40 + b'\r\n\r\n',                        # headers drip
    b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n' + b'x' * 40,                    # body drips
])
def test_timeout_bounds_the_whole_request(raw, payload):
    srv = raw(drip(payload))
    started = time.monotonic()
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/drip', timeout=0.6)
    assert err.value.kind == 'timeout' and 'timed out after 0.6s' in err.value.message
    assert time.monotonic() - started < 1.5


def _answer(status=200, body=b'{}', headers=(), length=True):
    def script(conn, dummy):
        head = 'HTTP/1.1 %s X\r\nConnection: close\r\n' % status
        for name, value in headers:
            head += '%s: %s\r\n' % (name, value)
        if length:
            head += 'Content-Length: %d\r\n' % len(body)
        conn.sendall(head.encode() + b'\r\n' + body)
    return script


@pytest.mark.parametrize('length', [True, False])
def test_body_is_capped(raw, length):
    srv = raw(_answer(body=b'x' * 5000, length=length))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/big', max_bytes=4096)
    assert err.value.kind == 'invalid' and 'GET %s/big' % srv.url in err.value.message
    assert '4096 bytes' in err.value.message and err.value.url == srv.url + '/big'
    assert _http.request(srv.url + '/big', max_bytes=5000).body == b'x' * 5000
    assert _http.MAX_BYTES == 16 * 1024 * 1024


def _redirector(target_of):
    def script(conn, data):
        path = data.split(b' ')[1].decode()
        target = target_of(path)
        if target is None:
            _answer(body=json.dumps({'path': path}).encode())(conn, data)
        else:
            _answer(302, b'', [('Location', target)])(conn, data)
    return script


def test_redirects_for_get_and_head_only_and_at_most_five(raw):
    srv = raw(_redirector(lambda path: None if path == '/end' else '/%d' % (int(path[1:]) + 1)
                          if path[1:].isdigit() and int(path[1:]) < 100 else '/end'))
    assert _http.request(srv.url + '/96').json() == {'path': '/end'}  # from 96, 97, 98, 99 and 100: 5 redirects
    assert _http.request(srv.url + '/96', method='HEAD').status == 200
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/95')  # 6 redirects
    assert 'more than 5 redirects' in err.value.message
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/99', method='POST', data={'a': 1})
    assert err.value.status == 302 and 'POST %s/99 answered HTTP 302' % srv.url in err.value.message


def _headers_of(request_text):
    lines = request_text.split('\r\n')[1:]
    return dict((k.lower(), v.strip()) for k, sep, v in (line.partition(':') for line in lines) if sep)


@pytest.mark.parametrize('auth', [dict(bearer_token='t0ken-value'), dict(url_username='ops', url_password='pw-s3cret')])
def test_credentials_and_cookies_do_not_cross_origins(raw, auth):
    other = raw(_answer(body=b'{"where": "other"}'))
    home = raw(_redirector({'/away': other.url + '/landed', '/near': '/here'}.get))
    assert _http.request(home.url + '/away', headers={'Cookie': 'session=abc'}, **auth).json() == {'where': 'other'}
    sent = _headers_of(other.requests[-1])
    assert 'authorization' not in sent and 'cookie' not in sent
    assert _http.request(home.url + '/near', headers={'Cookie': 'session=abc'}, **auth).json() == {'path': '/here'}
    sent = _headers_of(home.requests[-1])
    assert sent['authorization'].startswith('Bearer ' if 'bearer_token' in auth else 'Basic ')
    assert sent['cookie'] == 'session=abc'


def test_credentials_in_the_url_are_refused_without_echo():
    for url in ('http://ops:pw-s3cret@127.0.0.1:9/', 'ftp://ops:pw-s3cret@host/', 'http://ops:pw-s3cret@h:bad/'):
        with pytest.raises(_http.HttpError) as err:
            _http.request(url)
        assert err.value.kind == 'invalid' and 'user:password@' in err.value.message
        assert 'pw-s3cret' not in err.value.message and 'pw-s3cret' not in str(err.value.url)
        assert 'pw-s3cret' not in _http.validate_url(url)


def test_secrets_never_appear_in_error_messages(raw):
    def echo(conn, data):
        _answer(401, data)(conn, data)  # a server that quotes the request, credentials included
    srv = raw(echo)
    secrets = dict(bearer_token='t0ken-value', url_username='ops', url_password='pw-s3cret')
    basic = __import__('base64').b64encode(b'ops:pw-s3cret').decode()
    for auth in (dict(bearer_token='t0ken-value'), dict(url_username='ops', url_password='pw-s3cret'), secrets):
        with pytest.raises(_http.HttpError) as err:
            _http.request(srv.url + '/x', **auth)
        assert err.value.status == 401 and 'answered HTTP 401' in err.value.message
        for text in (err.value.message, str(err.value), err.value.body):
            assert 't0ken-value' not in text and 'pw-s3cret' not in text and basic not in text
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://127.0.0.1:%d/' % _free_port(), bearer_token='t0ken-value', timeout=2)
    assert err.value.kind == 'refused' and 't0ken-value' not in err.value.message


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_health_path_does_not_import_ansible_urls():
    import subprocess
    import sys
    code = ('import sys; from ansible_collections.cloudos.ops.plugins.module_utils._health import alerts, monitoring; '
            'print("ansible.module_utils.urls" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                         env=dict(__import__('os').environ, PYTHONPATH=':'.join(sys.path)))
    assert out.stdout.strip() == 'False'


def test_proxy_environment_is_honoured(raw, monkeypatch):
    proxy = raw(_answer(body=b'{"via": "proxy"}'))
    monkeypatch.setenv('http_proxy', proxy.url)
    monkeypatch.setenv('https_proxy', proxy.url)
    monkeypatch.setenv('no_proxy', 'bypassed.test')
    assert _http.request('http://service.test:9093/api/v2/status').json() == {'via': 'proxy'}
    assert proxy.requests[-1].startswith('GET http://service.test:9093/api/v2/status HTTP/1.1\r\n')
    with pytest.raises(_http.HttpError) as err:  # the proxy answers CONNECT with 200 but speaks no TLS
        _http.request('https://service.test/x', timeout=2)
    assert proxy.requests[-1].startswith('CONNECT service.test:443 HTTP/1.1\r\n')
    assert err.value.kind in ('tls', 'connection')
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://bypassed.test:1/', timeout=2)
    assert err.value.kind == 'connection' and len(proxy.requests) == 2


# --- over a unix-domain socket: a real AF_UNIX server in the test's directory ------------------

class UnixRaw(Raw):
    """:class:`Raw` listening on a unix-domain socket (``path``) instead of loopback TCP."""

    def __init__(self, script, path):  # pylint: disable=super-init-not-called
        self.script = script
        self.requests = []
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()


@pytest.fixture
def unix_raw(tmp_path):
    servers = []

    def start(script):
        servers.append(UnixRaw(script, str(tmp_path / ('s%d.sock' % len(servers)))))
        return servers[-1]
    yield start
    for srv in servers:
        srv.close()


def test_a_request_over_a_unix_socket_sends_the_url_path_and_host(unix_raw, monkeypatch):
    monkeypatch.setenv('http_proxy', 'http://127.0.0.1:9')  # never used for a unix socket
    srv = unix_raw(_answer(body=b'{"ok": true}', headers=[('Api-Version', '1.43')]))
    answer = _http.request('http://localhost/v1.43/_ping?x=1', unix_socket=srv.path, timeout=2)
    assert answer.json() == {'ok': True} and answer.headers['api-version'] == '1.43'
    assert srv.requests[0].startswith('GET /v1.43/_ping?x=1 HTTP/1.1\r\n')
    assert 'Host: localhost\r\n' in srv.requests[0]


def test_a_unix_socket_answer_is_capped_and_its_redirects_are_not_followed(unix_raw):
    srv = unix_raw(_answer(body=b'x' * 5000))
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://localhost/big', unix_socket=srv.path, max_bytes=4096)
    assert err.value.kind == 'invalid' and '4096 bytes' in err.value.message
    assert 'unix socket %s' % srv.path in err.value.message
    srv = unix_raw(_answer(status=302, headers=[('Location', 'http://127.0.0.1:9/elsewhere')]))
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://localhost/moved', unix_socket=srv.path)
    assert err.value.status == 302 and len(srv.requests) == 1


def test_a_unix_socket_that_drips_is_bounded_by_the_whole_request_deadline(unix_raw):
    srv = unix_raw(drip(b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n' + b'x' * 40))
    started = time.monotonic()
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://localhost/drip', unix_socket=srv.path, timeout=0.6)
    assert err.value.kind == 'timeout' and time.monotonic() - started < 1.5


def test_a_unix_socket_that_is_missing_or_where_nothing_listens(tmp_path):
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://localhost/_ping', unix_socket=str(tmp_path / 'none.sock'))
    assert err.value.kind == 'connection' and 'none.sock does not exist' in err.value.message
    gone = str(tmp_path / 'gone.sock')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(gone)
    sock.close()
    with pytest.raises(_http.HttpError) as err:
        _http.request('http://localhost/_ping', unix_socket=gone)
    assert err.value.kind == 'refused'


@pytest.mark.parametrize('url, path', [('https://localhost/x', '/run/x.sock'), ('http://localhost/x', ''),
                                       ('http://localhost/x', '/run/x\x00.sock')])
def test_a_unix_socket_takes_only_http_urls_and_a_path(url, path):
    with pytest.raises(_http.HttpError) as err:
        _http.request(url, unix_socket=path)
    assert err.value.kind == 'invalid'


# --- what a plain http:// request costs: no http.client, email, ssl, urllib.request, no CA store ---

_HEAVY = ('http.client', 'email', 'ssl', 'urllib.request')

_FRESH = '''
import json, sys
from ansible_collections.cloudos.ops.plugins.module_utils import _http
answers = [_http.request(url).json() for url in sys.argv[2:]]
if sys.argv[1] != '-':
    answers.append(_http.request('http://localhost/v1/_ping', unix_socket=sys.argv[1]).json())
print(json.dumps({'answers': answers, 'contexts': len(_http._CONTEXTS),
                  'loaded': [m for m in %r if m in sys.modules]}))
''' % (_HEAVY,)


def _fresh(args, **env):
    """Run :data:`_FRESH` in a new interpreter whose environment has no ``*_proxy`` variable but ``env``."""
    import os
    import subprocess
    import sys
    clean = dict((k, v) for k, v in os.environ.items() if not k.lower().endswith('_proxy'))
    clean.update(env, PYTHONPATH=':'.join(sys.path))
    out = subprocess.run([sys.executable, '-c', _FRESH] + list(args), capture_output=True, text=True, check=True,
                         env=clean, timeout=60)
    return json.loads(out.stdout)


def test_a_plain_http_request_imports_neither_http_client_nor_ssl_and_builds_no_tls_context(raw, unix_raw):
    tcp = raw(_answer(body=b'{"over": "tcp"}'))
    unix = unix_raw(_answer(body=b'{"over": "unix"}'))
    seen = _fresh([unix.path, tcp.url + '/api/v2/status'])
    assert seen['answers'] == [{'over': 'tcp'}, {'over': 'unix'}]
    assert seen['loaded'] == [] and seen['contexts'] == 0
    assert tcp.requests[0].startswith('GET /api/v2/status HTTP/1.1\r\n')


def test_with_a_proxy_variable_the_stdlib_proxy_rules_are_loaded_and_honoured(raw):
    direct = raw(_answer(body=b'{"via": "direct"}'))
    proxy = raw(_answer(body=b'{"via": "proxy"}'))
    seen = _fresh(['-', 'http://service.test:9093/api/v2/status', direct.url + '/bypassed'],
                  http_proxy=proxy.url, no_proxy='127.0.0.1,bypassed.test')
    assert seen['answers'] == [{'via': 'proxy'}, {'via': 'direct'}]
    assert 'urllib.request' in seen['loaded'] and seen['contexts'] == 0
    assert [r.split('\r\n')[0] for r in proxy.requests] == ['GET http://service.test:9093/api/v2/status HTTP/1.1']
    assert 'Host: service.test:9093\r\n' in proxy.requests[0]
    assert direct.requests[0].startswith('GET /bypassed HTTP/1.1\r\n')
    # no_proxy alone names no proxy: the direct way, as before
    assert _fresh(['-', direct.url + '/np'], no_proxy='elsewhere.test')['answers'] == [{'via': 'direct'}]


def test_a_redirect_from_http_to_https_builds_the_tls_context_then_and_verifies(raw, tls_server, monkeypatch):
    built = []
    real = _http.make_context
    monkeypatch.setattr(_http, 'make_context', lambda **kwargs: built.append(kwargs) or real(**kwargs))
    monkeypatch.setattr(_http, '_CONTEXTS', {})
    srv = raw(_redirector({'/to-tls': tls_server + '/landed'}.get))
    assert _http.request(srv.url + '/stay').json() == {'path': '/stay'} and built == []
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/to-tls')  # a self-signed certificate: verification fails
    assert err.value.kind == 'tls' and 'failed TLS verification or handshake' in err.value.message
    assert [kw['validate_certs'] for kw in built] == [True]
    assert _http.request(srv.url + '/to-tls', validate_certs=False).json() == {'path': '/landed'}
    assert [kw['validate_certs'] for kw in built] == [True, False]

