"""A real ``cloudos_health`` AnsiballZ payload, run on the fleet image's Python (Debian 12's 3.11):
each module of this collection it imports from the payload's zip is compiled once.

``zipimport`` by itself compiles every module it imports twice (``find_spec`` asks
``get_filename``, which compiles, then ``get_code`` compiles again); module_utils/_payload.py,
imported first by the module, builds the specs without compiling. The payload is made by Ansible
(``ANSIBLE_KEEP_REMOTE_FILES``) on the controller and run in a fleet container (no network) under
a wrapper that counts ``compile()`` calls by file. ansible-core's own modules, imported by
AnsiballZ before the module runs, are still compiled twice: that shows the counting sees them.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import subprocess

import pytest

from tests.fleet.hosts import fleet_image
from tests.integration.lib import ansible_env, BIN, ROOT

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

COUNT = r'''
import builtins, json, os, runpy, sys
seen = []
real = builtins.compile
def counting(source, filename, *args, **kwargs):
    seen.append(str(filename))
    return real(source, filename, *args, **kwargs)
builtins.compile = counting
out = os.open('/tmp/compiled.json', os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
sys.argv = [sys.argv[1]]
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
finally:
    os.write(out, json.dumps(seen).encode())
    os.close(out)
'''


@pytest.fixture(scope='module')
def compiled(tmp_path_factory):
    work = tmp_path_factory.mktemp('payload')
    env = ansible_env({'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': str(work / 'remote'),
                       'ANSIBLE_PIPELINING': '0'})
    proc = subprocess.run([os.path.join(BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=/usr/bin/python3', '-m', 'cloudos.ops.cloudos_health',
                           '-a', json.dumps({'checks': ['all'], 'timeout': 1, 'cpu_sample_seconds': 0})],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    found = glob.glob(str(work / 'remote' / '*' / 'AnsiballZ_cloudos_health.py'))
    assert len(found) == 1, (found, proc.stdout[-2000:], proc.stderr[-2000:])
    (work / 'count.py').write_text(COUNT)
    os.chmod(str(work), 0o755)
    run = subprocess.run(['docker', 'run', '--rm', '--network', 'none', '-v', '%s:/work:ro' % work, fleet_image(),
                          'sh', '-c', 'python3 /work/count.py /work/%s >/tmp/out.json 2>&1; cat /tmp/compiled.json; echo; '
                          'cat /tmp/out.json' % os.path.relpath(found[0], str(work))],
                         capture_output=True, text=True, timeout=300, check=False)
    counts_line, result = run.stdout.split('\n', 1)
    assert '"health"' in result, run.stdout[-3000:] + run.stderr[-2000:]
    return collections.Counter(name.split('.zip/', 1)[1] for name in json.loads(counts_line) if '.zip/' in name)


def test_the_collections_modules_are_compiled_once(compiled):
    ours = dict((name, count) for name, count in compiled.items() if name.startswith('ansible_collections/cloudos/'))
    assert 'ansible_collections/cloudos/ops/plugins/module_utils/_health/core.py' in ours, sorted(compiled)
    assert len(ours) > 15, ours
    # Before _payload runs: the module itself (runpy finds it), the packages above _payload, and _payload.
    before = ('ansible_collections/cloudos/ops/plugins/modules/cloudos_health.py', '/__init__.py', '/_payload.py')
    twice = dict((name, count) for name, count in ours.items() if count != 1 and not name.endswith(before))
    assert twice == {}, twice
    assert ours['ansible_collections/cloudos/ops/plugins/module_utils/_health/__init__.py'] == 1


def test_modules_imported_before_it_are_still_compiled_twice(compiled):
    assert compiled['ansible/module_utils/basic.py'] == 2, compiled
