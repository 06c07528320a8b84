"""cloudos_health ``containers`` against a real, private Docker engine started by the test.

The engine (dockerd from Debian's docker.io) has its own data root, exec root and socket under a
temporary directory, no bridge and no iptables rules, and is stopped when the module's tests end.
Images cannot be pulled here: the one image is made by ``docker import`` of Debian's static busybox.
"""

from __future__ import annotations

import time

import pytest

from tests.integration import lib as shared_lib
from tests.integration.health.health_helpers import run_module

pytestmark = pytest.mark.docker

IMAGE = 'cloudos-health-test/busybox:1'


class PrivateEngine(shared_lib.PrivateDockerEngine):
    """The shared private engine (its own bridge and data root)."""

    def __init__(self):
        super().__init__(prefix='coh-docker-')

    def import_busybox(self, tag=IMAGE, applets=('sh', 'sleep', 'false', 'true')):
        return super().import_busybox(tag, applets)


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
