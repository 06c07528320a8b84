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


def test_tls_context_is_built_once_per_settings(server, monkeypatch):
    built = []
    real = _http.make_context

    def counting(**kwargs):
        built.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(_http, 'make_context', counting)
    monkeypatch.setattr(_http, '_CONTEXTS', {})
    threads = [threading.Thread(target=_http.request, args=(server + '/%d' % n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _http.request(server + '/again')
    _http.request(server + '/insecure', validate_certs=False)
    assert [kw['validate_certs'] for kw in built] == [True, False]


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
