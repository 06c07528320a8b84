"""Real Prometheus and Alertmanager, fixture servers, certificates and a black hole, all on 127.0.0.1.

* ``prometheus``: ``/usr/bin/prometheus`` (Debian package) with a temporary config and TSDB.
* ``alertmanager``: ``/usr/bin/prometheus-alertmanager`` (Debian package), gossip disabled.
* ``fixtures``: tests/fixtures/fixture_server.py as subprocesses for Grafana, the CloudOS AI engine
  and a Kubernetes API server. These products cannot be installed here; the fixture servers
  answer with the shapes of the real APIs (see that file's docstring), and the module reaches
  them exactly as it would reach the real thing (HTTP, and the real ``kubernetes`` client
  through a kubeconfig written by the test).
* ``blackhole``: a TCP listener that accepts connections and never answers, to model
  components that are installed but hanging.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import threading
import time
import urllib.request

import pytest

from tests.integration import lib as shared  # noqa: E402  pylint: disable=wrong-import-position
ROOT, free_port, require_binary, run_module = shared.ROOT, shared.free_port, shared.require_binary, shared.run_module
Service, start_alertmanager, start_prometheus = shared.Service, shared.start_alertmanager, shared.start_prometheus

FIXTURE_SERVER = os.path.join(ROOT, 'tests', 'fixtures', 'fixture_server.py')
# Units that exist on no host: a test models "nothing of this component is installed" with them,
# whatever Debian packages (and so unit files) this machine happens to carry.
NO_UNITS = {'prometheus': ['cloudos-test-none-1.service'], 'grafana': ['cloudos-test-none-2.service'],
            'alertmanager': ['cloudos-test-none-3.service'], 'ai_engine': ['cloudos-test-none-4.service'],
            'docker': ['cloudos-test-none-5.service']}


def post_alerts(url, alerts):
    now = dt.datetime.now(dt.timezone.utc)
    body = [{'labels': dict(a['labels']), 'annotations': a.get('annotations', {}),
             'startsAt': (now - dt.timedelta(minutes=5)).strftime('%Y-%m-%dT%H:%M:%SZ'),
             'endsAt': (now + dt.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')} for a in alerts]
    req = urllib.request.Request(url + '/api/v2/alerts', data=json.dumps(body).encode(), method='POST',
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
        assert resp.status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + '/api/v2/alerts?active=true', timeout=5) as resp:  # noqa: S310
            if len(json.loads(resp.read())) >= len(alerts):
                return
        time.sleep(0.2)
    raise AssertionError('Alertmanager did not list the posted alerts')


class Fixture(Service):
    """tests/fixtures/fixture_server.py <kind> with a state file the test rewrites."""

    def __init__(self, kind, tmp, state=None, ready_path='/'):
        self.state_file = os.path.join(tmp, '%s.json' % kind)
        self.write({})  # healthy while it starts; the faults come after
        port = free_port()
        super().__init__([sys.executable, FIXTURE_SERVER, kind, '--listen', '127.0.0.1:%d' % port,
                          '--state', self.state_file], port, ready_path, 'fixture %s' % kind)
        self.write(state or {})

    def write(self, state):
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as handle:
            json.dump(state, handle)
        os.replace(tmp, self.state_file)


def write_kubeconfig(path, server_url, token='fixture-token'):
    with open(path, 'w') as handle:
        json.dump({'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'fixture',
                   'clusters': [{'name': 'fixture', 'cluster': {'server': server_url}}],
                   'users': [{'name': 'ops', 'user': {'token': token}}],
                   'contexts': [{'name': 'fixture', 'context': {'cluster': 'fixture', 'user': 'ops'}}]}, handle)
    return path


def make_cert(path, days):
    """Self-signed PEM certificate valid until now + ``days`` (negative: already expired)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, os.path.basename(path))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=365))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    with open(path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return path


class BlackHole:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung service)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self.conns = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.done.is_set():
            try:
                conn, dummy = self.sock.accept()
                self.conns.append(conn)
            except (socket.timeout, OSError):
                continue

    def close(self):
        self.done.set()
        self.thread.join(2)
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture(scope='module')
def prometheus(tmp_path_factory):
    service = start_prometheus(str(tmp_path_factory.mktemp('prometheus')))
    yield service
    service.stop()


@pytest.fixture(scope='module')
def alertmanager(tmp_path_factory):
    service = start_alertmanager(str(tmp_path_factory.mktemp('alertmanager')))
    yield service
    service.stop()


@pytest.fixture
def fixtures(tmp_path):
    started = {}

    def start(kind, state=None):
        ready = {'grafana': '/api/health', 'ai-engine': '/health', 'kubernetes': '/version'}[kind]
        started[kind] = Fixture(kind, str(tmp_path), state, ready)
        return started[kind]
    yield start
    for service in started.values():
        service.stop()


@pytest.fixture
def blackhole():
    hole = BlackHole()
    yield hole
    hole.close()


def module_payload(root, scripts):
    """``root`` made into what an AnsiballZ payload holds: ansible's module_utils (no controller
    code), plus ``scripts`` (file name -> text). The collection comes from this checkout."""
    import ansible  # pylint: disable=import-outside-toplevel
    import shutil  # pylint: disable=import-outside-toplevel
    shutil.copytree(os.path.join(os.path.dirname(ansible.__file__), 'module_utils'), str(root / 'ansible' / 'module_utils'))
    (root / 'ansible' / '__init__.py').write_text('')
    for name, text in scripts.items():
        (root / name).write_text(text)
    return root


def run_in_fleet_container(payload, argv, mounts=()):
    """Run ``python3 <argv>`` in a fleet container (no network) with the payload and the collection
    on its path; return the CompletedProcess."""
    import subprocess  # pylint: disable=import-outside-toplevel
    from tests.fleet.hosts import fleet_image  # pylint: disable=import-outside-toplevel
    return subprocess.run(['docker', 'run', '--rm', '--network', 'none', '-v', '%s:/src:ro' % ROOT,
                           '-v', '%s:/payload:ro' % payload, '-e', 'PYTHONPATH=/src/.collections:/payload']
                          + list(mounts) + [fleet_image(), 'python3'] + list(argv),
                          capture_output=True, text=True, check=False)
