"""The collection as users install it, and the toolchain finder contributors rely on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


def test_built_collection_ships_plugins_but_no_test_or_dev_files(tmp_path):
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force',
                    '--output-path', str(tmp_path), ROOT], check=True, capture_output=True)
    (tarball,) = list(tmp_path.glob('cloudos-ops-*.tar.gz'))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert 'MANIFEST.json' in names
    assert 'meta/runtime.yml' in names
    assert any(n.startswith('plugins/modules/') and n.endswith('.py') for n in names)
    assert any(n.startswith('playbooks/') for n in names)
    leaked = [n for n in names if n.split('/')[0] in {
        'tests', 'molecule', 'bench', '.ci', '.config', '.venv', '.collections', 'collections', 'scripts', '.cache'}]
    assert leaked == []


def _sandbox(tmp_path):
    """A PATH holding only the tools scripts/find-python needs, so that no Python of this
    machine (whatever its version) can answer: the test's assertions always run."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for tool in ('env', 'bash', 'find', 'sort'):
        found = shutil.which(tool)
        assert found, '%s is needed to run scripts/find-python' % tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def _fake_python(path, rc):
    path.write_text('#!/bin/sh\nexit %d\n' % rc)
    path.chmod(0o755)
    return path


def test_find_python_names_what_it_looked_for_when_nothing_fits(tmp_path):
    bin_dir = _sandbox(tmp_path)
    _fake_python(bin_dir / 'python3', 1)
    old = _fake_python(tmp_path / 'python3', 1)
    env = {'PATH': str(bin_dir), 'HOME': str(tmp_path), 'PYENV_ROOT': str(tmp_path / 'no-pyenv'),
           'CLOUDOS_PYTHON': str(old)}
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'find-python')], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout
    assert 'No Python >= 3.12' in proc.stderr
    assert 'CLOUDOS_PYTHON' in proc.stderr
    assert str(old) in proc.stderr
    assert str(bin_dir / 'python3') in proc.stderr


def test_find_python_takes_pyenvs_newest_usable_version(tmp_path):
    bin_dir = _sandbox(tmp_path)
    _fake_python(bin_dir / 'python3', 1)
    pyenv = tmp_path / 'pyenv'
    for version, rc in (('3.11.7', 0), ('3.12.1', 0), ('3.13.0', 1)):
        (pyenv / 'versions' / version / 'bin').mkdir(parents=True)
        _fake_python(pyenv / 'versions' / version / 'bin' / 'python3', rc)
    env = {'PATH': str(bin_dir), 'HOME': str(tmp_path), 'PYENV_ROOT': str(pyenv)}
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'find-python')], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(pyenv / 'versions' / '3.12.1' / 'bin' / 'python3')


def test_find_python_prefers_a_usable_interpreter():
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'find-python')],
                          capture_output=True, text=True, check=True)
    out = subprocess.run([proc.stdout.strip(), '-c', 'import sys; print(sys.version_info[:2] >= (3, 12))'],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'True'


def test_module_tests_take_patch_module_args_from_the_compat_helper():
    # ansible.module_utils.testing exists only from ansible-core 2.19; `make compat` runs the unit
    # tests on the oldest core requires_ansible allows, where a direct import fails to collect.
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    allowed = {os.path.join(root, 'compat.py'), os.path.abspath(__file__)}
    direct = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith('.py') and path not in allowed:
                with open(path) as handle:
                    if 'from ansible.module_utils.testing import' in handle.read():
                        direct.append(os.path.relpath(path, root))
    assert direct == []
