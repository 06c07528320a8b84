"""What a ``cloudos_health`` run imports on a fleet host, read from ``python3 -X importtime``.

All sections are selected. Without a kubeconfig and without a Docker socket, none of the optional
libraries is imported (nor ``ansible.module_utils.urls``: ``_http`` is on the standard library).
With the host's Docker socket mounted and its dockerd answering, the containers section asks the
Engine API over the socket through ``_http``: still none of ``docker``, ``requests``, ``urllib3``
is imported. Only an engine the Engine client does not speak (``ssh://``) takes the SDK path,
which imports the SDK once, without setuptools' distutils shim (no ``pkg_resources``).
No module is imported twice. As in test_docker_import_fleet.py, the collection and a copy of
``ansible/module_utils`` (what an AnsiballZ payload holds) are mounted into a fleet container.
"""

from __future__ import annotations

import collections
import json
import os
import re

import pytest

from tests.integration.health.health_helpers import module_payload, run_in_fleet_container

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

RUN = r'''
import collections, json, sys


class Searches:
    """First on sys.meta_path: counts how often each module is looked for (once per execution)."""
    counts = collections.Counter()

    def find_spec(self, name, path=None, target=None):
        self.counts[name] += 1


sys.meta_path.insert(0, Searches())
args = {'checks': ['all'], 'timeout': 2, 'cpu_sample_seconds': 0.2, '_ansible_check_mode': True}
args.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
with open('/tmp/args.json', 'w') as handle:
    json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
sys.argv = ['cloudos_health', '/tmp/args.json']
from ansible_collections.cloudos.ops.plugins.modules import cloudos_health
try:
    cloudos_health.main()
except SystemExit:
    pass
print()
print('MODULES ' + ' '.join(sorted(sys.modules)))
print('TWICE ' + ' '.join(sorted(name for name, n in Searches.counts.items() if n > 1 and name in sys.modules)))
'''

NEVER = ('ansible.module_utils.urls', 'kubernetes', 'pkg_resources', 'setuptools')
OPTIONAL = ('docker', 'requests', 'urllib3', 'cryptography')
# ansible-core's own JSON profile loader looks its ``_json._profiles`` modules up twice (in every
# module, ping too); what this collection imports, directly or through a library, is looked up once.
OURS = ('ansible_collections', 'docker', 'requests', 'urllib3', 'cryptography', 'distutils', 'kubernetes')
TRACE = re.compile(r'import time:\s+\d+ \|\s+\d+ \| *(\S+)$')


@pytest.fixture(scope='module')
def payload(tmp_path_factory):
    return module_payload(tmp_path_factory.mktemp('payload'), {'run.py': RUN})


def docker_socket():
    host = os.environ.get('DOCKER_HOST', 'unix:///var/run/docker.sock')
    return host[len('unix://'):] if host.startswith('unix://') else '/var/run/docker.sock'


def trace(payload, *mounts, args=None):
    """(the module's result, the modules loaded at the end, Counter of the modules the trace shows imported,
    the loaded modules that were looked for more than once).

    ``-X importtime`` does not time the module ``importlib.import_module`` itself loads (only what that
    imports), so the counting finder of RUN tells whether anything was executed twice."""
    argv = ['-X', 'importtime', '/payload/run.py'] + ([json.dumps(args)] if args else [])
    proc = run_in_fleet_container(payload, argv, mounts)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result_line, modules_line, twice_line = [line for line in proc.stdout.splitlines() if line.strip()][-3:]
    loaded = set(modules_line.split()[1:])
    imported = collections.Counter(m.group(1) for m in map(TRACE.match, proc.stderr.splitlines()) if m)
    twice = [name for name in twice_line.split()[1:] if name.split('.')[0] in OURS]
    return json.loads(result_line), loaded, imported, twice


def roots(modules):
    return set(name.split('.')[0] for name in modules) | set(modules)


def test_no_kubeconfig_no_docker_socket_imports_no_optional_library(payload):
    result, loaded, imported, twice = trace(payload)
    assert set(result['health']['checks']) >= {'containers', 'kubernetes', 'certificates'}
    assert result['health']['checks']['kubernetes']['status'] == 'absent'
    assert roots(loaded) & set(NEVER + OPTIONAL) == set()
    assert [name for name in loaded if imported[name] > 1] == [] and twice == []


def test_with_a_docker_socket_the_engine_is_asked_without_the_sdk_requests_or_urllib3(payload):
    socket = docker_socket()
    result, loaded, imported, twice = trace(payload, '-v', '%s:/var/run/docker.sock' % socket)
    containers = result['health']['checks']['containers']
    assert containers['status'] != 'absent' and containers['summary'] not in ('Docker engine down', 'Docker engine error')
    assert 'containers' in containers['metrics'] and containers['metrics']['restarts_source'] == 'events'
    assert roots(loaded) & {'docker', 'requests', 'urllib3'} == set()
    assert [name for name in imported if name.split('.')[0] in ('docker', 'requests', 'urllib3')] == []
    assert roots(loaded) & set(NEVER) == set()
    assert [name for name in loaded if imported[name] > 1] == [] and twice == []


def test_the_sdk_path_imports_the_sdk_once_without_pkg_resources(payload):
    # an ssh:// engine is asked through the SDK (it cannot be reached here: no network)
    result, loaded, imported, twice = trace(payload, args={'docker_host': 'ssh://ops@192.0.2.1'})
    assert result['health']['checks']['containers']['status'] != 'absent'
    assert 'docker' in loaded and imported['docker.api.client'] == 1
    assert roots(loaded) & set(NEVER) == set()
    assert [name for name in loaded if imported[name] > 1] == [] and twice == []
