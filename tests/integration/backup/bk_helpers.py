"""Helpers and fixtures of the backup integration tests: small tmpfs mounts and a private Docker engine.

The private engine has its own data root, exec root, pid file and socket under a temp
directory, no bridge and no iptables rules; it is stopped (and its files removed) when the
session ends. Images cannot be pulled here: the one image used is made by ``docker import``
of a tar holding Debian's static busybox.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

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


class Engine(object):
    def __init__(self, root):
        self.root = root
        self.sock = os.path.join(root, 'docker.sock')
        self.url = 'unix://' + self.sock
        self.proc = None

    def docker(self, *args, check=True, **kwargs):
        return subprocess.run(['docker', '-H', self.url] + list(args), check=check, capture_output=True, text=True,
                              **kwargs)

    def start(self):
        require_binary('dockerd')
        log = open(os.path.join(self.root, 'dockerd.log'), 'w')
        self.proc = subprocess.Popen(
            ['dockerd', '--data-root', os.path.join(self.root, 'data'), '--exec-root', os.path.join(self.root, 'exec'),
             '--pidfile', os.path.join(self.root, 'dockerd.pid'), '-H', self.url, '--bridge=none', '--iptables=false',
             '--ip6tables=false', '--storage-driver=vfs'],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('dockerd exited: %s' % open(log.name).read()[-3000:])
            if os.path.exists(self.sock) and self.docker('info', check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError('dockerd did not come up: %s' % open(log.name).read()[-3000:])

    def import_busybox(self, tag='cloudos-test/busybox:1'):
        busybox = require_binary('/bin/busybox')
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tar:
            for name in ('bin', 'tmp'):
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            tar.add(busybox, 'bin/busybox')
            for name in ('sh', 'sleep', 'ls', 'cat'):
                info = tarfile.TarInfo('bin/' + name)
                info.type, info.linkname = tarfile.SYMTYPE, 'busybox'
                tar.addfile(info)
        subprocess.run(['docker', '-H', self.url, 'import', '-', tag], input=buf.getvalue(), check=True,
                       capture_output=True)
        return tag

    def stop(self):
        if self.proc and self.proc.poll() is None:
            for line in self.docker('ps', '-q', check=False).stdout.split():
                self.docker('kill', line, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(['umount', '-R', os.path.join(self.root, 'exec')], check=False, capture_output=True)
        subprocess.run(['umount', '-R', os.path.join(self.root, 'data')], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


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
