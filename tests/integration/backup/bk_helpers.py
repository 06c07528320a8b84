"""Helpers and fixtures of the backup integration tests: small tmpfs mounts and a private Docker engine.

The private engine has its own data root, exec root, pid file and socket under a temp
directory, no bridge and no iptables rules; it is stopped (and its files removed) when the
session ends. Images cannot be pulled here: the one image used is made by ``docker import``
of a tar holding Debian's static busybox.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile

import pytest

from tests.integration import lib as shared  # noqa: E402  pylint: disable=wrong-import-position
ROOT, run_module, run_playbook, ansible_env = shared.ROOT, shared.run_module, shared.run_playbook, shared.ansible_env
free_port, require_binary = shared.free_port, shared.require_binary

_TREE = os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils', 'backup_helpers.py')
_spec = importlib.util.spec_from_file_location('cloudos_backup_tree_helpers', _TREE)
trees = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(trees)
make_tree, snapshot, crafted_archive = trees.make_tree, trees.snapshot, trees.crafted_archive


@pytest.fixture
def tmpfs(tmp_path):
    """Return a function mounting a tmpfs of the given size (and options) on a new directory."""
    mounted = []

    def mount(size='2m', options=''):
        point = tmp_path / ('tmpfs%d' % len(mounted))
        point.mkdir()
        opts = 'size=%s' % size + (',' + options if options else '')
        subprocess.run(['mount', '-t', 'tmpfs', '-o', opts, 'tmpfs', str(point)], check=True)
        mounted.append(str(point))
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(['umount', '-l', point], check=False)


class Engine(shared.PrivateDockerEngine):
    """The shared private engine, with this module's busybox tag as the default."""

    def __init__(self, root=None):
        super().__init__(prefix='cob-docker-', root=root)

    def import_busybox(self, tag='cloudos-test/busybox:1', applets=('sh', 'sleep', 'ls', 'cat')):
        return super().import_busybox(tag, applets)


@pytest.fixture(scope='session')
def engine():
    """A private dockerd for this test session, with a busybox image imported."""
    root = tempfile.mkdtemp(prefix='cob-docker-', dir='/tmp')
    eng = Engine(root)
    try:
        eng.start()
        eng.image = eng.import_busybox()
        yield eng
    finally:
        eng.stop()
