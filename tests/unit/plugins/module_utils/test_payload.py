# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_payload: modules imported from a zip (as from an AnsiballZ payload) are compiled once, and
imported exactly as without it (same files, package paths, order of the path).

Each case runs in a fresh interpreter: the finder changes sys.meta_path for the whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib.machinery import PathFinder

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _payload

PROBE = r'''
import builtins, json, sys
sys.path.insert(0, sys.argv[1])
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
compiled = []
real = builtins.compile
def counting(source, filename, *args, **kwargs):
    compiled.append(filename)
    return real(source, filename, *args, **kwargs)
if sys.argv[2] == 'finder':
    import importlib.util
    spec = importlib.util.spec_from_file_location('_payload', %r)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
builtins.compile = counting
import pkg.sub.leaf, pkg.other, json as stdlib_json
builtins.compile = real
from pkg.sub import leaf
print(json.dumps({
    'compiled': sorted(f.split('.zip')[-1] for f in compiled if '.zip' in f),
    'files': {m: sys.modules[m].__file__ for m in ('pkg', 'pkg.sub', 'pkg.sub.leaf', 'pkg.other')},
    'paths': {m: list(sys.modules[m].__path__) for m in ('pkg', 'pkg.sub')},
    'origins': {m: sys.modules[m].__spec__.origin for m in ('pkg', 'pkg.sub.leaf')},
    'relative': leaf.SIBLING, 'value': leaf.VALUE, 'stdlib': stdlib_json.__file__,
}))
''' % _payload.__file__


@pytest.fixture(name='archive')
def archive_fixture(tmp_path):
    path = tmp_path / 'payload.zip'
    with zipfile.ZipFile(path, 'w') as handle:
        handle.writestr('pkg/__init__.py', '')
        handle.writestr('pkg/sub/__init__.py', '')
        handle.writestr('pkg/sub/leaf.py', 'from . import sibling\nVALUE = 42\nSIBLING = sibling.NAME\n')
        handle.writestr('pkg/sub/sibling.py', 'NAME = "sibling"\n')
        handle.writestr('pkg/other.py', 'X = 1\n')
    return str(path)


def probe(archive, mode, *extra):
    proc = subprocess.run([sys.executable, '-c', PROBE, archive, mode] + list(extra), capture_output=True, text=True,
                          check=False, env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_each_module_in_the_zip_is_compiled_once(archive):
    plain, fast = probe(archive, 'plain'), probe(archive, 'finder')
    modules = ['/pkg/__init__.py', '/pkg/other.py', '/pkg/sub/__init__.py', '/pkg/sub/leaf.py', '/pkg/sub/sibling.py']
    assert plain['compiled'] == sorted(modules * 2)  # what zipimport does by itself: twice each
    assert fast['compiled'] == modules


def test_modules_are_the_same_with_and_without_it(archive):
    plain, fast = probe(archive, 'plain'), probe(archive, 'finder')
    for key in ('files', 'paths', 'origins', 'relative', 'value', 'stdlib'):
        assert fast[key] == plain[key], key
    assert fast['files']['pkg.sub.leaf'] == os.path.join(archive, 'pkg', 'sub', 'leaf.py')


def test_a_directory_before_the_zip_still_wins(archive, tmp_path):
    shadow = tmp_path / 'shadow'
    (shadow / 'pkg' / 'sub').mkdir(parents=True)
    for name in ('pkg/__init__.py', 'pkg/sub/__init__.py', 'pkg/sub/sibling.py', 'pkg/other.py'):
        (shadow / name).write_text('NAME = "shadow"\n')
    (shadow / 'pkg' / 'sub' / 'leaf.py').write_text('VALUE = 7\nSIBLING = "shadow"\n')
    fast = probe(archive, 'finder', str(shadow))
    assert fast['value'] == 7 and fast['files']['pkg.other'] == str(shadow / 'pkg' / 'other.py')
    assert fast['compiled'] == []


def test_install_is_idempotent_and_goes_just_before_the_path_finder():
    _payload.install()
    _payload.install()
    assert sys.meta_path.count(_payload.ZipSpecFinder) == 1
    position = sys.meta_path.index(_payload.ZipSpecFinder)
    assert sys.meta_path[position + 1] is PathFinder  # built-in and frozen finders stay ahead of it
    assert _payload.ZipSpecFinder.find_spec('json') is None  # not from a zip: left to the path machinery
