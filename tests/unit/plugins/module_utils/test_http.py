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


# --- the answer as HTTP/1.1 frames it, against a raw socket server -----------------------------

def _send(*pieces, hold=0.0):
    """A server script: send ``pieces`` (a short pause between them), then keep the connection
    open ``hold`` seconds (an answer that is framed must not wait for the close)."""
    def script(conn, dummy):
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(0.02)
            conn.sendall(piece)
        time.sleep(hold)
    return script


CHUNKED = (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n'
           b'4;name=value\r\n{"a"\r\n', b'6 ; x="y" ;z\r\n: [1, \r\n3\r\n2]}\r\n', b'0\r\nX-Trailer: t\r\n',
           b'Checksum: abc\r\n\r\n')


WHOLE = b''.join(CHUNKED)


@pytest.mark.parametrize('pieces', [CHUNKED, (WHOLE,), tuple(WHOLE[i:i + 7] for i in range(0, len(WHOLE), 7))])
def test_a_chunked_answer_with_extensions_and_trailers(raw, pieces):
    srv = raw(_send(*pieces, hold=3))
    started = time.monotonic()
    answer = _http.request(srv.url + '/chunked', timeout=2)
    assert answer.json() == {'a': [1, 2]} and answer.headers['transfer-encoding'] == 'chunked'
    assert 'x-trailer' not in answer.headers and time.monotonic() - started < 1.5


def test_a_chunked_answer_with_bare_line_feeds(raw):
    srv = raw(_send(b'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n'))
    assert _http.request(srv.url + '/lf', timeout=3).body == b'hello'


def test_a_chunked_answer_over_a_unix_socket(unix_raw):
    srv = unix_raw(_send(*CHUNKED))
    assert _http.request('http://localhost/v1.43/info', unix_socket=srv.path).json() == {'a': [1, 2]}


@pytest.mark.parametrize('wire, fragment', [
    (b'a\r\nhello', 'ended in the middle of a chunk'),
    (b'5\r\nhello', 'ended in the middle of a chunk'),
    (b'5\r\nhello\r\n', 'ended before its last chunk'),
    (b'', 'ended before its last chunk'),
    (b'zz\r\nhello\r\n0\r\n\r\n', "chunk size that is not a hexadecimal number: 'zz'"),
    (b'-5\r\nhello\r\n0\r\n\r\n', 'not a hexadecimal number'),
    (b'0x5\r\nhello\r\n0\r\n\r\n', 'not a hexadecimal number'),
    (b'\r\nhello\r\n0\r\n\r\n', 'not a hexadecimal number'),
    (b'3\r\nhello\r\n0\r\n\r\n', 'a chunk longer than its size says'),
    (b'1' * 70000 + b'\r\n', 'a chunk size line is longer than 65536 bytes'),
    (b'5\r\nhello' + b'1' * 70000, 'a chunk longer than its size says'),
    (b'5\r\nhello\r', 'ended in the middle of a chunk'),
])
def test_a_broken_chunked_answer_is_a_connection_error(raw, wire, fragment):
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + wire))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/c', timeout=3)
    assert err.value.kind == 'connection' and fragment in err.value.message
    assert err.value.message.startswith('GET %s/c failed: ' % srv.url) and err.value.url == srv.url + '/c'


def test_content_length_frames_the_body_without_waiting_for_the_close(raw):
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', b'{"n": 1}', b'   and more', hold=3))
    started = time.monotonic()
    assert _http.request(srv.url + '/x', timeout=2).body == b'{"n": 1}   '
    assert time.monotonic() - started < 1.5


def test_content_length_larger_than_the_body_then_close(raw):
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"n": 1}'))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/short')
    assert err.value.kind == 'connection'
    assert err.value.message == ('GET %s/short failed: the answer ended after 8 of the 100 bytes its Content-Length '
                                 'announced' % srv.url)


def test_without_a_length_the_body_ends_when_the_server_closes(raw):
    srv = raw(_send(b'HTTP/1.0 200 OK\r\n\r\n', b'{"until": ', b'"close"}'))
    assert _http.request(srv.url + '/x').json() == {'until': 'close'}


@pytest.mark.parametrize('method, wire', [
    ('HEAD', b'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'),
    ('GET', b'HTTP/1.1 204 No Content\r\nContent-Length: 1234\r\n\r\n'),
    ('GET', b'HTTP/1.1 204 No Content\r\n\r\n'),
])
def test_no_body_for_head_and_204_even_with_a_length_and_an_open_connection(raw, method, wire):
    srv = raw(_send(wire, hold=3))
    started = time.monotonic()
    answer = _http.request(srv.url + '/x', method=method, timeout=2)
    assert answer.body == b'' and time.monotonic() - started < 1.5
    assert answer.headers.get('content-length') == ('1234' if b'1234' in wire else None)


def test_interim_answers_before_the_real_one_are_skipped(raw):
    srv = raw(_send(b'HTTP/1.1 100 Continue\r\n\r\n', b'HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n'
                    b'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}'))
    answer = _http.request(srv.url + '/x', method='POST', data={'a': 1})
    assert answer.status == 201 and answer.json() == {} and 'link' not in answer.headers
    srv = raw(_send(b'HTTP/1.1 100 Continue\r\n\r\n' * 11 + b'HTTP/1.1 200 OK\r\n\r\n'))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x')
    assert err.value.kind == 'connection' and 'more than 10 interim (1xx) answers' in err.value.message


@pytest.mark.parametrize('wire, quoted', [
    (b'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n', "'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5'"),
    (b'\x15\x03\x01\x00\x02\x02\x46', "'??????F'"),                                        # a TLS alert
    (b'220 mail.example ESMTP ' + b'x' * 200 + b'\r\n', "'220 mail.example ESMTP xxxxxxxxxxxxxxxxx...'"),
    (b'HTTP/1.1 2OO OK\r\n\r\n{}', "'HTTP/1.1 2OO OK'"),
    (b'HTTP/2 200\r\n\r\n', "'HTTP/2 200'"),
    (b'HTTP/1.1\r\n\r\n', "'HTTP/1.1'"),
    (b'HTTP/1.1 99 Low\r\n\r\n', "'HTTP/1.1 99 Low'"),
    (b'HTTP/1.1 200\xb2 OK\r\n\r\n', "'HTTP/1.1 200? OK'"),
])
def test_an_answer_that_is_not_http_says_so(raw, wire, quoted):
    srv = raw(_send(wire, hold=1))
    started = time.monotonic()
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x', timeout=5)
    assert err.value.kind == 'connection' and err.value.status is None
    assert err.value.message == "GET %s/x failed: the server's answer is not HTTP (it starts with %s)" % (
        srv.url, quoted)
    assert time.monotonic() - started < 1.5  # known at the first bytes, not at the timeout


def test_a_server_that_closes_without_an_answer(raw):
    srv = raw(lambda conn, data: None)
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x')
    assert err.value.kind == 'connection'
    assert err.value.message == 'GET %s/x failed: the server closed the connection without an answer' % srv.url


def _many_headers(count):
    return (b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-H%d: %d\r\n' % (n, n) for n in range(count - 1))
            + b'Content-Length: 2\r\n\r\n{}')


@pytest.mark.parametrize('wire, fragment', [
    (_many_headers(101), 'the answer has more than 100 header lines'),
    (b'HTTP/1.1 200 OK\r\nX-Big: ' + b'a' * 70000 + b'\r\n\r\n{}', 'a header line is longer than 65536 bytes'),
    (b'HTTP/1.1 200 ' + b'a' * 70000 + b'\r\n\r\n{}', 'the status line is longer than 65536 bytes'),
    (b'HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\n{}',
     "a folded header line (obsolete line folding): ' two'"),
    (b'HTTP/1.1 200 OK\r\nX-Folded: one\r\n\ttwo\r\n\r\n{}', "a folded header line (obsolete line folding): '?two'"),
    (b'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{}', 'a header line that is not "Name: value": \'no colon here\''),
    (b'HTTP/1.1 200 OK\r\n: no name\r\n\r\n{}', 'a header line that is not "Name: value"'),
    (b'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n{}', 'a header line that is not "Name: value"'),
    (b'HTTP/1.1 200 OK\r\nName : x\r\n\r\n{}', 'a header line that is not "Name: value"'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', 'the answer ended in its headers'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}', "Content-Length is not one number: 'abc'"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}', "Content-Length is not one number: '-1'"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}', "Content-Length is not one number: '2, 3'"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', "not one number: '2, 3'"),
    (b'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n{}', "Content-Length is not one number: ''"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}', "Content-Length is not one number: '?'"),
])
def test_headers_beyond_the_limits_or_malformed_are_a_connection_error(raw, wire, fragment):
    srv = raw(_send(wire))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x', timeout=3)
    assert err.value.kind == 'connection' and fragment in err.value.message
    assert err.value.message.startswith('GET %s/x failed: ' % srv.url)


def test_headers_at_the_limits_are_an_answer(raw):
    srv = raw(_send(_many_headers(100)))
    assert _http.request(srv.url + '/x').headers['x-h98'] == '98'
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nX-Big: ' + b'a' * 65000 + b'\r\nContent-Length: 2\r\n\r\n{}'))
    assert len(_http.request(srv.url + '/x').headers['x-big']) == 65000


def test_repeated_headers(raw):
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nX-List: a\r\nContent-Type: text/plain\r\nx-list: b, c\r\n'
                    b'Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\nX-Empty:\r\n\r\n{}'))
    headers = _http.request(srv.url + '/x').headers
    assert headers == {'x-list': 'a, b, c', 'content-type': 'application/json', 'content-length': '2', 'x-empty': ''}


def test_a_status_line_that_drips_is_bounded_by_the_deadline(raw):
    srv = raw(drip(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', pause=0.2))
    started = time.monotonic()
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/drip', timeout=1)
    assert err.value.kind == 'timeout' and err.value.message == 'GET %s/drip timed out after 1s (timed out)' % srv.url
    assert time.monotonic() - started < 1.5


def test_a_proxy_that_refuses_the_tunnel(raw, monkeypatch):
    proxy = raw(_send(b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n'
                      b'Content-Length: 0\r\n\r\n'))
    monkeypatch.setenv('https_proxy', proxy.url)
    monkeypatch.setattr(_http, '_CONTEXTS', {})
    with pytest.raises(_http.HttpError) as err:
        _http.request('https://service.test:8443/x', timeout=3)
    assert err.value.kind == 'connection' and err.value.status is None
    assert err.value.message == ('GET https://service.test:8443/x failed: the proxy %s answered CONNECT '
                                 'service.test:8443 with HTTP 407 Proxy Authentication Required' % proxy.url)
    assert proxy.requests == ['CONNECT service.test:8443 HTTP/1.1\r\nHost: service.test:8443\r\n\r\n']


# --- the request on the wire ----------------------------------------------------------------------

def _lines(request_text):
    return request_text.split('\r\n\r\n')[0].split('\r\n')


def test_the_host_header_names_the_port_only_when_it_is_not_the_default(raw, monkeypatch):
    srv = raw(_answer())
    real = socket.create_connection
    asked = []

    def to_the_test_server(address, timeout=None, *args, **kwargs):
        asked.append(address)
        return real(srv.sock.getsockname(), timeout, *args, **kwargs)

    monkeypatch.setattr(socket, 'create_connection', to_the_test_server)
    for url in ('http://example:8080/a', 'http://localhost/b', 'http://example:80/c', 'http://[::1]:81/d'):
        _http.request(url)
    assert asked == [('example', 8080), ('localhost', 80), ('example', 80), ('::1', 81)]
    assert [_lines(r)[:2] for r in srv.requests] == [
        ['GET /a HTTP/1.1', 'Host: example:8080'], ['GET /b HTTP/1.1', 'Host: localhost'],
        ['GET /c HTTP/1.1', 'Host: example'], ['GET /d HTTP/1.1', 'Host: [::1]:81']]


def test_the_request_headers(raw):
    srv = raw(_answer())
    _http.request(srv.url + '/post?x=1', method='POST', data={'comment': 'é'}, bearer_token='t0ken-value',
                  headers={'X-Org': '42'})
    _http.request(srv.url + '/empty', method='PUT')
    _http.request(srv.url + '/get', headers={'Accept': 'text/plain'})
    body = json.dumps({'comment': 'é'}).encode()
    post, put, get = srv.requests
    assert _lines(post) == ['POST /post?x=1 HTTP/1.1', 'Host: %s' % srv.url[7:], 'Accept-Encoding: identity',
                            'Content-Length: %d' % len(body), 'Accept: application/json', 'User-Agent: ansible-httpget',
                            'Content-Type: application/json', 'Authorization: Bearer t0ken-value', 'X-Org: 42',
                            'Connection: close']
    assert post.endswith('\r\n\r\n' + body.decode('latin-1')) or post.endswith('\r\n\r\n')
    assert 'Content-Length: 0' in _lines(put)
    assert 'Accept: text/plain' in _lines(get) and not any(line.startswith('Content-') for line in _lines(get))


@pytest.mark.parametrize('url', ['http://127.0.0.1:9/a b', 'http://127.0.0.1:9/caf\u00e9'])
def test_a_url_that_would_break_the_request_line_is_refused_before_sending(url):
    with pytest.raises(_http.HttpError) as err:
        _http.request(url)
    assert err.value.kind == 'invalid' and 'refused before sending' in err.value.message


def test_a_header_value_that_is_not_latin1_is_refused_without_the_value(raw):
    srv = raw(_answer())
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x', bearer_token='t\u20acken')
    assert err.value.kind == 'invalid' and 'Authorization' in err.value.message
    assert '\u20ac' not in err.value.message and srv.requests == []


def test_a_header_name_with_a_line_end_is_refused_before_sending(raw):
    srv = raw(_answer())
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x', headers={'X-Org\n': 'v'})
    assert err.value.kind == 'invalid' and 'is not a valid header name' in err.value.message
    time.sleep(0.1)
    assert srv.requests == []


def test_an_absurd_content_length_is_refused_before_reading(raw):
    srv = raw(_send(b'HTTP/1.1 200 OK\r\nContent-Length: ' + b'9' * 5000 + b'\r\n\r\n{}'))
    with pytest.raises(_http.HttpError) as err:
        _http.request(srv.url + '/x')
    assert err.value.kind == 'invalid'
    assert err.value.message == 'GET %s/x: the answer is %s... bytes, more than the %d bytes accepted' % (
        srv.url, '9' * 27, _http.MAX_BYTES)
