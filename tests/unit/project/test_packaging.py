"""The collection as users install it, and the toolchain finder contributors rely on."""

from __future__ import annotations

import os
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


def test_find_python_names_what_it_looked_for_when_nothing_fits(tmp_path):
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path), 'PYENV_ROOT': str(tmp_path / 'no-pyenv')}
    old = tmp_path / 'python3'
    old.write_text('#!/bin/sh\nexit 1\n')
    old.chmod(0o755)
    env['CLOUDOS_PYTHON'] = str(old)
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'find-python')], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        # A system python3 that is new enough is a valid answer.
        out = subprocess.run([proc.stdout.strip(), '-c', 'import sys; print(sys.version_info >= (3, 12))'],
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == 'True'
    else:
        assert 'No Python >= 3.12' in proc.stderr
        assert 'CLOUDOS_PYTHON' in proc.stderr
        assert str(old) in proc.stderr


def test_find_python_prefers_a_usable_interpreter():
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'find-python')],
                          capture_output=True, text=True, check=True)
    out = subprocess.run([proc.stdout.strip(), '-c', 'import sys; print(sys.version_info[:2] >= (3, 12))'],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'True'
