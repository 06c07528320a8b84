"""The execution environment: `ansible-builder create` makes a context whose install steps work.

No image registry is reachable here, so the image itself is not built. Instead the test
replays, in a scratch virtualenv, the steps the generated Containerfile runs: pip install of
ansible-core and ansible-runner (its ANSIBLE_INSTALL_REFS), `ansible-galaxy collection install
-r requirements.yml` from the context's `_build/` directory (the only part of the context the
image build sees), ansible-builder's own introspection of the installed collection, and pip
install of what that introspection found. Then `ansible-doc` and a daily_health run use only
what was installed, from a read-only collection path.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys

import pytest

from tests.integration.lib import ROOT


def sh(argv, **kwargs):
    kwargs.setdefault('capture_output', True)
    kwargs.setdefault('text', True)
    proc = subprocess.run([str(a) for a in argv], check=False, **kwargs)
    assert proc.returncode == 0, '%s failed (rc %s)\n%s\n%s' % (
        ' '.join(str(a) for a in argv), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def read_only(tree):
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) & ~0o222)
    os.chmod(tree, stat.S_IMODE(os.stat(tree).st_mode) & ~0o222)


def listing(tree):
    out = set()
    for dirpath, _dirnames, filenames in os.walk(tree):
        out.update(os.path.join(dirpath, f) for f in filenames)
    return out


@pytest.fixture(scope='module')
def ee(tmp_path_factory):
    """The context, and a scratch environment built from it the way the image is built."""
    tmp = tmp_path_factory.mktemp('ee')
    sh([os.path.join(ROOT, 'scripts', 'ee-context'), tmp], cwd=ROOT)
    context = tmp / 'context'
    containerfile = (context / 'Containerfile').read_text()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]+)"', containerfile, re.M).group(1).split()
    # the steps replayed below are the ones the Containerfile runs
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert 'introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt' in containerfile
    assert 'COPY _build /build' in containerfile

    venv = tmp / 'venv'
    sh([sys.executable, '-m', 'venv', venv])
    pip = [venv / 'bin' / 'python', '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']
    sh(pip + refs)
    share = tmp / 'usr-share-ansible'
    collections = share / 'collections'
    env = dict(os.environ, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1')
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    sh([venv / 'bin' / 'ansible-galaxy', 'collection', 'install', '-r', 'requirements.yml',
        '--collections-path', collections], cwd=context / '_build', env=env)
    sh([venv / 'bin' / 'python', context / '_build' / 'scripts' / 'introspect.py', 'introspect',
        '--write-pip', tmp / 'requirements.txt', '--write-bindep', tmp / 'bindep.txt', collections])
    python_reqs = (tmp / 'requirements.txt').read_text()
    sh(pip + ['-r', tmp / 'requirements.txt'])
    installed = collections / 'ansible_collections' / 'cloudos' / 'ops'
    read_only(str(installed))
    return {'tmp': tmp, 'context': context, 'venv': venv, 'collections': collections, 'installed': installed,
            'refs': refs, 'python_reqs': python_reqs, 'bindep': (tmp / 'bindep.txt').read_text()}


def test_context_has_the_collection_from_its_tarball(ee):
    build = ee['context'] / '_build'
    assert (build / 'collections' / 'cloudos-ops.tar.gz').is_file()
    assert 'collections/cloudos-ops.tar.gz' in (build / 'requirements.yml').read_text()
    manifest = json.loads((ee['installed'] / 'MANIFEST.json').read_text())
    assert manifest['collection_info']['namespace'] == 'cloudos'
    assert manifest['collection_info']['name'] == 'ops'
    assert (ee['installed'] / 'meta' / 'execution-environment.yml').is_file()


def test_dependencies_are_ranges_from_the_collection_not_pins(ee):
    reqs = [line.split('#')[0].strip() for line in ee['python_reqs'].splitlines() if line.split('#')[0].strip()]
    names = sorted(re.split(r'[<>=!~ ]', r)[0].lower() for r in reqs)
    assert names == ['docker', 'kubernetes'], reqs
    assert not [r for r in reqs if '==' in r], 'an execution environment must not get exact pins: %s' % reqs
    assert 'openssl' in ee['bindep'] and 'rsync' not in ee['bindep']
    assert sorted(r.split('==')[0] for r in ee['refs']) == ['ansible-core', 'ansible-runner']


def test_ansible_doc_works_from_what_was_installed(ee):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ee['collections']))
    proc = sh([ee['venv'] / 'bin' / 'ansible-doc', 'cloudos.ops.cloudos_health'], env=env)
    assert 'cloudos_health' in proc.stdout and 'OPTIONS' in proc.stdout
    assert str(ee['installed']) in proc.stdout  # the installed copy, not this checkout


def test_daily_health_runs_from_the_read_only_installed_collection(ee, tmp_path):
    before = listing(str(ee['installed']))
    reports = tmp_path / 'reports'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ee['collections']),
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    calm = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}
    proc = subprocess.run(
        [str(ee['venv'] / 'bin' / 'ansible-playbook'), 'cloudos.ops.daily_health', '-i', 'localhost,', '-c', 'local',
         # what this machine runs is not ours to control: the report, not the verdict, is under test
         '-e', json.dumps({'daily_health_report_root': str(reports), 'daily_health_thresholds': calm,
                           'daily_health_fail_on': 'never',
                           'ansible_python_interpreter': str(ee['venv'] / 'bin' / 'python')})],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = [os.path.join(d, f) for d, _n, files in os.walk(str(reports)) for f in files if f == 'report.json']
    assert len(found) == 1, found
    with open(found[0]) as handle:
        report = json.load(handle)
    assert [h['host'] for h in report['hosts']] == ['localhost']
    assert listing(str(ee['installed'])) == before
