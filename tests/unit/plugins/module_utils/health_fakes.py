# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted stand-in for ``_health.core.Host`` so probes run without touching this machine."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading

from datetime import datetime, timezone

from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, Response
from ansible_collections.cloudos.ops.plugins.module_utils._health import core
from ansible_collections.cloudos.ops.plugins.module_utils._health.registry import HEALTH

NOW = datetime(2026, 11, 26, 6, 0, 0, tzinfo=timezone.utc)


class StatVFS:
    def __init__(self, used_pct, size_blocks=1000, frsize=4096, reserved=0):
        used = int(size_blocks * used_pct / 100.0)
        self.f_blocks = size_blocks + reserved
        self.f_frsize = frsize
        self.f_bfree = size_blocks - used + reserved
        self.f_bavail = size_blocks - used


class FakeHost(core.Host):
    """Files, commands and URLs come from dicts; anything unscripted is 'not there'."""

    def __init__(self, files=None, commands=None, urls=None, disks=None, systemd=True, units=(), containers=(), **kw):
        super().__init__(timeout=kw.pop('timeout', 2.0), docker_host=kw.pop('docker_host', None))
        self.files = files or {}
        self.commands = commands or {}
        self.urls = urls or {}
        self.disks = disks or {}
        self.systemd = systemd
        self.units = set(units)
        self.containers = list(containers)
        self.ran = []
        self.fetched = []
        self.slept = []
        self.own_ticks = list(kw.pop('own_ticks', ()))
        self.clock = 1000.0

    def now(self):
        return NOW

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.clock += seconds

    def monotonic(self):
        return self.clock

    def hostname(self):
        return 'testhost'

    def cpu_count(self):
        return 4

    def own_cpu_ticks(self):
        return self.own_ticks.pop(0) if self.own_ticks else 0

    def read_text(self, path):
        value = self.files.get(path)
        if value is None:
            raise IOError(2, 'No such file or directory', path)
        if isinstance(value, list):  # successive reads (e.g. /proc/stat sampled twice)
            return value.pop(0)
        return value

    def read_bytes(self, path):
        value = self.read_text(path)
        return value if isinstance(value, bytes) else value.encode()

    def exists(self, path):
        return path in self.files or path in self.disks

    def statvfs(self, path):
        return self.disks[path][1]

    def stat_dev(self, path):
        return self.disks[path][0]

    def which(self, name):
        return '/usr/bin/' + name if name == 'systemctl' and self.systemd is not None else None

    def systemd_running(self):
        return bool(self.systemd)

    def run(self, args, data=None):
        self.ran.append(list(args))
        key = ' '.join(args[:2])
        if key in self.commands:
            value = self.commands[key]
            return value(args) if callable(value) else value
        return 127, '', '%s: not scripted' % args[0]

    def units_exist(self, names):
        wanted = [n if '.' in n else n + '.service' for n in names]
        return [n for n in wanted if n in self.units]

    def container_names(self):
        return list(self.containers)

    def http_get(self, url, timeout=None):
        self.fetched.append(url)
        answer = self.urls.get(url)
        if answer is None:
            raise HttpError('GET %s: connection refused (is the service running and listening there?)' % url,
                            url=url, kind='refused')
        if isinstance(answer, HttpError):
            raise answer
        status, body = answer
        if not isinstance(body, (bytes, str)):
            import json
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if status >= 400:
            raise HttpError('GET %s answered HTTP %s: %s' % (url, status, body.decode()), url=url, status=status,
                            body=body.decode(), kind='http')
        return Response(url, status, {}, body, 3)


def params(**overrides):
    base = {
        'checks': list(HEALTH.names), 'timeout': 2.0, 'cpu_sample_seconds': 0.5,
        'prometheus_url': 'http://localhost:9090', 'grafana_url': 'http://localhost:3000',
        'alertmanager_url': 'http://localhost:9093', 'ai_engine_url': 'http://localhost:8000',
        'ai_engine_metrics_path': '/metrics', 'ai_engine_requests_metric': 'cloudos_inference_requests_total',
        'ai_engine_errors_metric': 'cloudos_inference_errors_total', 'validate_certs': True,
        'service_patterns': ['cloudos-*'], 'disks': ['/', '/opt', '/var'],
        'certificate_files': ['/etc/ssl/certs/cloudos.crt'], 'certificate_endpoints': [],
        'docker_host': None, 'kubeconfig': None, 'kube_context': None, 'required': [], 'component_units': {},
        'host': None, 'thresholds': {},
    }
    base.update(overrides)
    return base


THRESHOLDS = dict(core.DEFAULT_THRESHOLDS)
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                        'fixtures')


def load_fixture_server():
    """tests/fixtures/fixture_server.py as a module (it is a script, not a package member)."""
    spec = importlib.util.spec_from_file_location('fixture_server', os.path.join(FIXTURES, 'fixture_server.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def fixture_server(kind, state_path):
    """A fixture_server.py ``kind`` on 127.0.0.1 in a daemon thread, reading ``state_path``; yields its URL."""
    fixture = load_fixture_server()
    server = fixture.ThreadingHTTPServer(('127.0.0.1', 0), fixture.make_handler(kind, str(state_path)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
