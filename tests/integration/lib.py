"""Shared helpers for integration tests: run the collection's real modules through Ansible.

Modules are executed exactly as a user would run them (``ansible localhost -m
cloudos.ops.<module>``, with the json callback), not imported, so that argument
parsing, check mode, diff and no_log behave as in production.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.collections'),
        'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
        'ANSIBLE_STDOUT_CALLBACK': 'json',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.update(extra or {})
    return env


class ModuleResult(dict):
    """The module's result dict, plus ``rc`` and ``stderr`` of the ansible process."""

    rc = 0
    stderr = ''

    @property
    def failed(self):
        return bool(self.get('failed'))


def run_module(name, args, check=False, diff=False, env=None, timeout=300):
    """Run ``cloudos.ops.<name>`` (or a full FQCN) on localhost and return its result."""
    fqcn = name if '.' in name else 'cloudos.ops.%s' % name
    cmd = [os.path.join(BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable,
           '-m', fqcn, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env),
                          cwd=ROOT, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout)
        host = data['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError('ansible produced no module result (%s)\nstdout:\n%s\nstderr:\n%s'
                             % (exc, proc.stdout[-4000:], proc.stderr[-4000:]))
    result = ModuleResult(host)
    result.rc = proc.returncode
    result.stderr = proc.stderr
    return result


def run_playbook(playbook, inventory='localhost,', extra_vars=None, check=False, diff=False,
                 env=None, timeout=1200, args=()):
    """Run a playbook; return the CompletedProcess (stdout is the json callback's)."""
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, playbook]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env),
                          cwd=ROOT, timeout=timeout, check=False)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def require_binary(path):
    """Fail (not skip) with a clear message when a test dependency is not installed."""
    found = shutil.which(path) or (os.path.exists(path) and path)
    if not found:
        pytest.fail('%s is not installed: run `make setup-system` (installs the Debian test '
                    'dependencies) and try again' % path)
    return found


class PrivateDockerEngine:
    """A throw-away dockerd of its own (data root, socket, bridge), for tests that need a
    real Docker engine without touching the machine's engine or its containers.

    It gets a bridge of its own: a dockerd started with ``--bridge=none`` deletes the host's
    ``docker0`` interface on start-up, which breaks the machine's engine (and the fleet).
    """

    def __init__(self, prefix='cloudos-docker-', root=None):
        self.root = root or tempfile.mkdtemp(prefix=prefix, dir='/tmp')
        self.sock = os.path.join(self.root, 'docker.sock')
        self.url = 'unix://' + self.sock
        self.bridge = 'cob' + hashlib.sha1(self.root.encode()).hexdigest()[:8]
        self.proc = None

    def docker(self, *args, check=True, **kwargs):
        return subprocess.run(['docker', '-H', self.url] + list(args), check=check, capture_output=True,
                              text=kwargs.pop('text', True), **kwargs)

    def start(self, timeout=60):
        require_binary('dockerd')
        subprocess.run(['ip', 'link', 'add', self.bridge, 'type', 'bridge'], check=True, capture_output=True)
        log_path = os.path.join(self.root, 'dockerd.log')
        with open(log_path, 'w') as log:
            self.proc = subprocess.Popen(
                ['dockerd', '--data-root', os.path.join(self.root, 'data'),
                 '--exec-root', os.path.join(self.root, 'exec'),
                 '--pidfile', os.path.join(self.root, 'dockerd.pid'), '-H', self.url,
                 '--bridge', self.bridge, '--iptables=false', '--ip6tables=false', '--storage-driver=vfs'],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('dockerd exited: %s' % open(log_path).read()[-3000:])
            if os.path.exists(self.sock) and self.docker('info', check=False).returncode == 0:
                return self
            time.sleep(0.5)
        raise AssertionError('dockerd did not come up: %s' % open(log_path).read()[-3000:])

    def import_busybox(self, tag, applets=('sh', 'sleep', 'ls', 'cat', 'true', 'false')):
        """Import an image holding Debian's static busybox (nothing is pulled)."""
        busybox = require_binary('/bin/busybox')
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tar:
            for name in ('bin', 'tmp'):
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            tar.add(busybox, 'bin/busybox')
            for name in applets:
                info = tarfile.TarInfo('bin/' + name)
                info.type, info.linkname = tarfile.SYMTYPE, 'busybox'
                tar.addfile(info)
        subprocess.run(['docker', '-H', self.url, 'import', '-', tag], input=buf.getvalue(), check=True,
                       capture_output=True)
        return tag

    def stop(self):
        if self.proc and self.proc.poll() is None:
            for cid in self.docker('ps', '-q', check=False).stdout.split():
                self.docker('kill', cid, check=False)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for sub in ('exec', 'data'):
            subprocess.run(['umount', '-R', os.path.join(self.root, sub)], check=False, capture_output=True)
        subprocess.run(['ip', 'link', 'del', self.bridge], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


# ----------------------------------------------------------------------------- local services
ALERTMANAGER = '/usr/bin/prometheus-alertmanager'
PROMETHEUS = '/usr/bin/prometheus'
NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'
ALERTMANAGER_CONFIG = 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n'


def _output(proc):
    try:
        return proc.stdout.read().decode('utf-8', 'replace')[-2000:] if proc.stdout else ''
    except Exception:  # pylint: disable=broad-except
        return ''


def wait_http(url, proc=None, what='server', timeout=30):
    """Wait until ``url`` answers 200; fail early (with its output) if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError('%s exited with %s before it was ready:\n%s' % (what, proc.returncode, _output(proc)))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - 127.0.0.1 only
                if resp.status == 200:
                    return
        except Exception as exc:  # pylint: disable=broad-except
            last = exc
        time.sleep(0.2)
    raise AssertionError('%s did not become ready at %s: %s' % (what, url, last))


def stop_process(proc):
    """Terminate ``proc``, then kill it if it does not exit within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Service:
    """A started subprocess answering HTTP on 127.0.0.1:port (ready when ``ready_path`` answers 200)."""

    def __init__(self, args, port, ready_path, what, cwd=None, log=None):
        self.args = args
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.ready_path = ready_path
        self.what = what
        self.cwd = cwd
        self.log = log
        self.proc = None
        self.start()

    def start(self):
        out = open(self.log, 'a') if self.log else subprocess.PIPE  # pylint: disable=consider-using-with
        try:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.cwd)  # pylint: disable=consider-using-with
        finally:
            if self.log:
                out.close()
        wait_http(self.url + self.ready_path, self.proc, self.what)

    def stop(self):
        stop_process(self.proc)


def start_alertmanager(workdir, log=None):
    """The Debian package's Alertmanager on a free loopback port, gossip off, state under ``workdir``."""
    require_binary(ALERTMANAGER)
    port = free_port()
    config = os.path.join(str(workdir), 'alertmanager.yml')
    with open(config, 'w') as handle:
        handle.write(ALERTMANAGER_CONFIG)
    return Service([ALERTMANAGER, '--config.file=%s' % config, '--storage.path=%s' % os.path.join(str(workdir), 'am'),
                    '--web.listen-address=127.0.0.1:%d' % port, '--cluster.listen-address=', '--log.level=warn'],
                   port, '/-/ready', 'alertmanager', cwd=str(workdir), log=log)


def start_prometheus(workdir, scrape=None, interval='15s', log=None):
    """The Debian package's Prometheus on a free loopback port, its TSDB under ``workdir``.

    ``scrape`` maps a job name to a list of ``host:port`` targets; the job ``self`` (Prometheus
    scraping itself) is added whenever ``scrape`` is given. Without it nothing is scraped.
    """
    require_binary(PROMETHEUS)
    port = free_port()
    jobs = dict(scrape or {})
    if scrape is not None:
        jobs.setdefault('self', ['127.0.0.1:%d' % port])
    config = os.path.join(str(workdir), 'prometheus.yml')
    with open(config, 'w') as handle:
        handle.write('global:\n  scrape_interval: %s\n' % interval)
        if not jobs:
            handle.write('scrape_configs: []\n')
        else:
            handle.write('scrape_configs:\n')
            for job, targets in sorted(jobs.items()):
                handle.write('  - job_name: %s\n    static_configs:\n      - targets: %s\n' % (job, json.dumps(targets)))
    return Service([PROMETHEUS, '--config.file=%s' % config,
                    '--storage.tsdb.path=%s' % os.path.join(str(workdir), 'tsdb'),
                    '--web.listen-address=127.0.0.1:%d' % port, '--log.level=warn'],
                   port, '/-/ready', 'prometheus', cwd=str(workdir), log=log)


def start_node_exporter(workdir, log=None):
    """The Debian package's node exporter on a free loopback port (its default collectors)."""
    require_binary(NODE_EXPORTER)
    port = free_port()
    return Service([NODE_EXPORTER, '--web.listen-address=127.0.0.1:%d' % port, '--log.level=warn'],
                   port, '/metrics', 'node exporter', cwd=str(workdir), log=log)
