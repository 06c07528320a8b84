"""cloudos_health ``containers`` against a real, private Docker engine started by the test.

The engine (dockerd from Debian's docker.io) has its own data root, exec root and socket under a
temporary directory, no bridge and no iptables rules, and is stopped when the module's tests end.
Images cannot be pulled here: the one image is made by ``docker import`` of Debian's static busybox.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from tests.integration.health.health_helpers import require_binary, run_module

pytestmark = pytest.mark.docker

IMAGE = 'cloudos-health-test/busybox:1'


class PrivateEngine:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='coh-docker-', dir='/tmp')
        self.url = 'unix://' + os.path.join(self.root, 'docker.sock')
        self.proc = None

    def docker(self, *args, check=True, **kwargs):
        return subprocess.run(['docker', '-H', self.url] + list(args), check=check, capture_output=True, text=True, **kwargs)

    def start(self):
        require_binary('dockerd')
        log = open(os.path.join(self.root, 'dockerd.log'), 'w')
        self.proc = subprocess.Popen(
            ['dockerd', '--data-root', os.path.join(self.root, 'data'), '--exec-root', os.path.join(self.root, 'exec'),
             '--pidfile', os.path.join(self.root, 'dockerd.pid'), '-H', self.url, '--bridge=none', '--iptables=false',
             '--ip6tables=false', '--storage-driver=vfs'], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('dockerd exited: %s' % open(log.name).read()[-3000:])
            if self.docker('info', check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError('dockerd did not come up: %s' % open(log.name).read()[-3000:])

    def import_busybox(self):
        busybox = require_binary('/bin/busybox')
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tar:
            for name in ('bin', 'tmp'):
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            tar.add(busybox, 'bin/busybox')
            for name in ('sh', 'sleep', 'false', 'true'):
                info = tarfile.TarInfo('bin/' + name)
                info.type, info.linkname = tarfile.SYMTYPE, 'busybox'
                tar.addfile(info)
        subprocess.run(['docker', '-H', self.url, 'import', '-', IMAGE], input=buf.getvalue(), check=True, capture_output=True)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            for cid in self.docker('ps', '-q', check=False).stdout.split():
                self.docker('kill', cid, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for sub in ('exec', 'data'):
            subprocess.run(['umount', '-R', os.path.join(self.root, sub)], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope='module')
def engine():
    eng = PrivateEngine()
    try:
        eng.start()
        eng.import_busybox()
        yield eng
    finally:
        eng.stop()


def test_container_states_health_and_restarts(engine):
    engine.docker('run', '-d', '--name', 'cloudos-api', IMAGE, 'sleep', '3600')
    engine.docker('run', '-d', '--name', 'cloudos-flaky', IMAGE, 'sleep', '3600')
    for dummy in range(6):
        engine.docker('restart', '-t', '0', 'cloudos-flaky')
    engine.docker('run', '-d', '--name', 'cloudos-migrate', IMAGE, 'sh', '-c', 'exit 3')
    engine.docker('run', '-d', '--name', 'cloudos-scheduler', '--health-cmd', 'false', '--health-interval', '1s',
                  '--health-retries', '1', IMAGE, 'sleep', '3600')
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if engine.docker('inspect', '-f', '{{.State.Health.Status}}', 'cloudos-scheduler').stdout.strip() == 'unhealthy':
            break
        time.sleep(0.5)
    result = run_module('cloudos_health', {'checks': ['containers'], 'docker_host': engine.url, 'timeout': 10})
    assert not result.failed, result
    containers = result['health']['checks']['containers']
    got = dict((f['message'].split()[1], (f['severity'], f['message'])) for f in containers['findings'])
    assert got['cloudos-flaky'][0] == 'warning'
    assert 'restarted 6 times in the last 24 h' in got['cloudos-flaky'][1]
    assert got['cloudos-migrate'] == ('warning', 'container cloudos-migrate exited with code 3')
    assert got['cloudos-scheduler'][0] == 'critical' and 'unhealthy' in got['cloudos-scheduler'][1]
    assert 'cloudos-api' not in got
    assert containers['metrics']['containers'] == 4 and containers['metrics']['restarts_source'] == 'events'
    assert containers['metrics']['unhealthy'] == 1
    assert containers['status'] == 'critical'
    details = dict((c['name'], c) for c in containers['details']['containers'])
    assert details['cloudos-api']['restarts_24h'] == 0 and details['cloudos-flaky']['restarts_24h'] == 6
