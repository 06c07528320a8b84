"""On the fleet image (Debian 12: Python 3.11, python3-docker 5, python3-setuptools), the checks
that use the Docker SDK (security facts; health only for an ``ssh://`` engine, the others go
through the Engine API) import it without setuptools' distutils shim.

setuptools' ``distutils-precedence.pth`` puts its finder on ``sys.meta_path`` at interpreter
start; ``import docker`` then pulls ``setuptools`` and ``pkg_resources`` in. The module runs on
the host with only ansible-core's ``module_utils`` (as an AnsiballZ payload has), so the test does
the same: the collection and a copy of ``ansible/module_utils`` are mounted into a fleet container.
The control run (a plain ``import docker``) shows the shim is really there.
"""

from __future__ import annotations

import pytest

from tests.integration.health.health_helpers import module_payload, run_in_fleet_container

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

PROBE = r'''
import sys
from ansible_collections.cloudos.ops.plugins.module_utils._health.registry import HEALTH
from ansible_collections.cloudos.ops.plugins.module_utils._security import SECURITY
if sys.argv[1] == 'preload':
    loaded = SECURITY.preload(['containers'], {'docker_host': 'unix:///var/run/docker.sock'})
elif sys.argv[1] == 'preload-ssh':
    loaded = HEALTH.preload(['containers'], {'docker_host': 'ssh://ops@engine'})
else:
    import docker
    loaded = ['docker']
print(sys.version_info[:2] < (3, 12), loaded == ['docker'], 'pkg_resources' in sys.modules, 'setuptools' in sys.modules)
'''


@pytest.fixture(scope='module')
def payload(tmp_path_factory):
    """What an AnsiballZ payload holds: ansible's module_utils (no controller code) and ours."""
    return module_payload(tmp_path_factory.mktemp('payload'), {'probe.py': PROBE})


def probe(payload, mode):
    proc = run_in_fleet_container(payload, ['/payload/probe.py', mode])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


def test_the_shim_is_there_without_the_bypass(payload):
    assert probe(payload, 'plain') == ['True', 'True', 'True', 'True']


@pytest.mark.parametrize('mode', ['preload', 'preload-ssh'])
def test_the_sdk_users_import_docker_without_setuptools(payload, mode):
    # Python 3.11, docker imported, and neither pkg_resources nor setuptools loaded
    assert probe(payload, mode) == ['True', 'True', 'False', 'False']
