"""cloudos_backup against a real (private) Docker engine: volumes, a real Prometheus TSDB, stop_containers.

Prometheus (Debian's binary) runs on 127.0.0.1 with its TSDB in a Docker volume's mountpoint,
as the guide's ``prometheus_data`` volume is used; the module reads the volume through the
Docker API, never through a helper container.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.integration.backup.bk_helpers import free_port, require_binary, run_module

pytestmark = pytest.mark.docker

PROMETHEUS = '/usr/bin/prometheus'


def _mountpoint(engine, name):
    return json.loads(engine.docker('volume', 'inspect', name).stdout)[0]['Mountpoint']


def _running(engine, name):
    return json.loads(engine.docker('inspect', name).stdout)[0]['State']


class Prometheus(object):
    def __init__(self, tsdb, workdir):
        self.port = free_port()
        self.tsdb = tsdb
        self.config = os.path.join(workdir, 'prometheus.yml')
        with open(self.config, 'w') as handle:
            handle.write('global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n'
                         '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % self.port)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([PROMETHEUS, '--config.file', self.config, '--storage.tsdb.path', self.tsdb,
                                      '--web.listen-address', '127.0.0.1:%d' % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen('http://127.0.0.1:%d/-/ready' % self.port, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError('prometheus did not become ready')

    def query(self, expr, when):
        url = 'http://127.0.0.1:%d/api/v1/query?%s' % (self.port, urllib.parse.urlencode({'query': expr, 'time': when}))
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())['data']['result']

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def test_prometheus_volume_round_trip(engine, tmp_path):
    require_binary(PROMETHEUS)
    engine.docker('volume', 'create', '--label', 'app=cloudos', 'prometheus_data')
    mount = _mountpoint(engine, 'prometheus_data')
    prom = Prometheus(mount, str(tmp_path))
    try:
        prom.start()
        deadline = time.time() + 30
        while time.time() < deadline and not prom.query('up', time.time()):
            time.sleep(0.5)
        time.sleep(3)
        sampled_at = time.time() - 1
        assert prom.query('up', sampled_at)
    finally:
        prom.stop()
    dest = tmp_path / 'backups'
    common = {'dest': str(dest), 'docker_host': engine.url}
    res = run_module('cloudos_backup', dict(common, paths=[], docker_volumes=['prometheus_data'], backup_id='prom',
                                            system_state=['docker_volumes']))
    assert res['changed'] and not res.failed, res
    kinds = dict((s['kind'], s) for s in res['backup']['sources'])
    assert kinds['volume']['files'] >= 1 and kinds['volume']['bytes'] > 0
    # system state holds the docker inspect of the volume
    assert subprocess.run(['tar', '-xzf', str(dest / 'prom' / kinds['system_state']['archive']), '-O',
                           'system-state/docker-volumes.json'], capture_output=True, check=True).stdout.count(
        b'prometheus_data') >= 1
    # lose the volume entirely: the restore creates it again (label kept) and fills it
    engine.docker('volume', 'rm', 'prometheus_data')
    check = run_module('cloudos_backup', dict(common, state='restored'), check=True)
    assert check['changed'] and check['restored'][0]['volume_created'] is True
    assert engine.docker('volume', 'inspect', 'prometheus_data', check=False).returncode != 0
    out = run_module('cloudos_backup', dict(common, state='restored'))
    assert out['changed'] and not out.failed, out
    inspect = json.loads(engine.docker('volume', 'inspect', 'prometheus_data').stdout)[0]
    assert inspect['Labels'] == {'app': 'cloudos'}
    again = Prometheus(inspect['Mountpoint'], str(tmp_path))
    try:
        again.start()
        assert again.query('up', sampled_at), 'samples written before the backup are gone after the restore'
    finally:
        again.stop()
    assert run_module('cloudos_backup', dict(common, state='verified'))['verified'][0]['ok'] is True


def test_unknown_volume_is_a_clear_error(engine, tmp_path):
    res = run_module('cloudos_backup', {'dest': str(tmp_path / 'b'), 'docker_host': engine.url, 'paths': [],
                                        'docker_volumes': ['no_such_volume']})
    assert res.failed and res['msg'] == "docker_volumes: volume 'no_such_volume' does not exist on this host"
    assert not (tmp_path / 'b').exists()


@pytest.fixture
def app_container(engine):
    engine.docker('volume', 'create', 'cloudos_app_data')
    mount = _mountpoint(engine, 'cloudos_app_data')
    for n in range(4):
        with open(os.path.join(mount, 'part%d' % n), 'wb') as handle:
            handle.write(os.urandom(1024 * 1024))
    engine.docker('run', '-d', '--name', 'cloudos-app', '--network', 'none', '-v', 'cloudos_app_data:/data',
                  engine.image, 'sleep', '3600')
    yield 'cloudos-app'
    engine.docker('rm', '-f', 'cloudos-app', check=False)
    engine.docker('volume', 'rm', '-f', 'cloudos_app_data', check=False)


def test_stopped_containers_run_again_after_success_and_failure(engine, app_container, tmp_path, tmpfs):
    started_before = _running(engine, app_container)['StartedAt']
    ok = run_module('cloudos_backup', {'dest': str(tmp_path / 'b'), 'docker_host': engine.url, 'paths': [],
                                       'docker_volumes': ['cloudos_app_data'], 'stop_containers': [app_container],
                                       'stop_timeout': 1, 'system_state': []})
    assert ok['changed'] and ok['containers']['stopped'] == [app_container]
    state = _running(engine, app_container)
    assert state['Running'] is True and state['StartedAt'] != started_before
    started_mid = state['StartedAt']
    full = tmpfs('1m')
    failed = run_module('cloudos_backup', {'dest': str(full / 'b'), 'docker_host': engine.url, 'paths': [],
                                           'docker_volumes': ['cloudos_app_data'], 'stop_containers': [app_container],
                                           'stop_timeout': 1, 'system_state': []})
    assert failed.failed and 'is full' in failed['msg']
    state = _running(engine, app_container)
    assert state['Running'] is True, 'the container stopped for the backup was not started again'
    assert state['StartedAt'] != started_mid  # it was really stopped and started
    assert os.listdir(str(full / 'b')) == ['.lock']
    shutil.rmtree(str(tmp_path / 'b'))
