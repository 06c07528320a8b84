"""Jobs as AWX runs them: ansible-runner, a project that imports the collection's playbooks, the
collection installed read-only from its built tarball, fleet hosts reached with the docker
connection. Fixtures: ``installed`` (the read-only collection), ``awx_fleet`` (3 prepared fleet
hosts), ``alertmanager`` (a local one); ``Job`` runs one job and reads its artifacts."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.fleet import hosts as fleet_hosts
from tests.integration.lib import BIN, ROOT, run_playbook, start_alertmanager

RUNNER = os.path.join(BIN, 'ansible-runner')
GALAXY = os.path.join(BIN, 'ansible-galaxy')
LABEL = 'cloudos.test=awx'
HOSTS = ['cloudos-awx-1', 'cloudos-awx-2', 'cloudos-awx-3']
# Thresholds nothing on a shared test machine can cross (the fleet hosts share its CPU and disks).
CALM = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}


def clean_env(**extra):
    """This process's environment without any ANSIBLE_* setting (pytest plugins set some) and
    without PWD: a job under AWX has neither."""
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith('ANSIBLE_') and k not in ('PWD', 'OLDPWD'))
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    env.update(extra)
    return env


def ansible_package_collections():
    """Where the `ansible` package keeps its collections (community.docker for the docker connection)."""
    out = subprocess.run([sys.executable, '-c', 'import ansible_collections, os; '
                          'print(os.path.dirname(ansible_collections.__path__[0]))'],
                         capture_output=True, text=True, check=True, cwd='/')
    return out.stdout.strip()


def tree_state(path):
    """Every file and directory under ``path`` with its size and mtime (to prove nothing was written)."""
    state = {}
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(directory, name)
            st = os.lstat(full)
            state[os.path.relpath(full, path)] = (st.st_size, st.st_mtime_ns)
    return state


class Installed:
    def __init__(self, root):
        self.root = root                        # the collections path (holds ansible_collections/)
        self.collection = os.path.join(root, 'ansible_collections', 'cloudos', 'ops')
        self.paths = os.pathsep.join([root, ansible_package_collections()])

    def verify(self):
        return subprocess.run([GALAXY, 'collection', 'verify', '--offline', '-p', self.root, 'cloudos.ops'],
                              capture_output=True, text=True, check=False, cwd='/',
                              env=clean_env(ANSIBLE_COLLECTIONS_PATH=self.root))


@pytest.fixture(scope='session')
def installed(tmp_path_factory):
    """The collection built with `ansible-galaxy collection build` and installed with
    `ansible-galaxy collection install -p`, then made read-only."""
    work = tmp_path_factory.mktemp('installed')
    subprocess.run([GALAXY, 'collection', 'build', '--output-path', str(work / 'dist'), ROOT],
                   capture_output=True, text=True, check=True, cwd=ROOT, env=clean_env())
    tarball = glob.glob(str(work / 'dist' / 'cloudos-ops-*.tar.gz'))[0]
    proc = subprocess.run([GALAXY, 'collection', 'install', '--no-deps', '-p', str(work / 'collections'), tarball],
                          capture_output=True, text=True, check=False, cwd=str(work),
                          env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(work / 'collections')))
    result = Installed(str(work / 'collections'))
    assert proc.returncode == 0 and os.path.isdir(result.collection), proc.stdout + proc.stderr
    subprocess.run(['chmod', '-R', 'a-w', result.collection], check=True)
    try:
        yield result
    finally:
        subprocess.run(['chmod', '-R', 'u+w', result.collection], check=False)


@pytest.fixture(scope='session')
def awx_fleet(tmp_path_factory):
    """Three fleet hosts, prepared as CloudOS hosts (tests/fleet/prepare.yml)."""
    image = fleet_hosts.fleet_image()
    if subprocess.run(['docker', 'info'], capture_output=True, check=False).returncode != 0:
        pytest.fail('no Docker engine: bash -c "source tests/fleet/engine.sh; ensure_engine"')
    work = tmp_path_factory.mktemp('awx-fleet')
    inventory = fleet_hosts.write_inventory(str(work / 'hosts.yml'), HOSTS, group='cloudos')
    fleet_hosts.start_hosts(image, HOSTS, LABEL)
    try:
        assert fleet_hosts.wait_booted(HOSTS) == [], 'fleet hosts did not boot'
        proc = run_playbook(os.path.join(ROOT, 'tests', 'fleet', 'prepare.yml'), inventory=inventory,
                            env={'ANSIBLE_STDOUT_CALLBACK': 'default'})
        with open(str(work / 'prepare.log'), 'w') as handle:
            handle.write(proc.stdout + proc.stderr)
        failures = [line for line in proc.stdout.splitlines() if line.startswith(('fatal:', 'failed:'))]
        assert proc.returncode == 0, '\n'.join(failures)[-4000:] + proc.stdout[-1500:] + proc.stderr[-1500:]
        yield HOSTS
    finally:
        fleet_hosts.remove_hosts(LABEL)


@pytest.fixture(scope='session')
def alertmanager(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('awx-alertmanager')
    service = start_alertmanager(workdir, log=str(workdir / 'alertmanager.log'))
    try:
        yield service
    finally:
        service.stop()


def silences(url, comment):
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen(url + '/api/v2/silences', timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
        data = json.loads(resp.read().decode())
    return [s for s in data if s.get('comment') == comment and s['status']['state'] != 'expired']


class Job:
    """One AWX-like job: its own private data directory, ``ansible-runner run <dir> -p site.yml``."""

    def __init__(self, base, installed, playbook, hosts, extravars=None, cmdline=None, envvars=None, ident=None):
        self.ident = ident or uuid.uuid4().hex[:12]
        self.dir = os.path.join(str(base), 'job-' + self.ident)
        self.installed = installed
        os.makedirs(os.path.join(self.dir, 'project'))
        os.makedirs(os.path.join(self.dir, 'inventory'))
        os.makedirs(os.path.join(self.dir, 'env'))
        with open(os.path.join(self.dir, 'project', 'site.yml'), 'w') as handle:
            handle.write('---\n- name: Run the collection playbook\n  ansible.builtin.import_playbook: %s\n' % playbook)
        fleet_hosts.write_inventory(os.path.join(self.dir, 'inventory', 'hosts.yml'), hosts, group='cloudos')
        env = {'ANSIBLE_COLLECTIONS_PATH': installed.paths, 'ANSIBLE_DEPRECATION_WARNINGS': '0',
               'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORKS': '10'}
        env.update(envvars or {})
        self._write('envvars', json.dumps(env))
        self._write('extravars', json.dumps(extravars or {}))
        if cmdline:
            self._write('cmdline', cmdline)
        self.artifacts = os.path.join(self.dir, 'artifacts', self.ident)
        self.proc = None

    def _write(self, name, text):
        with open(os.path.join(self.dir, 'env', name), 'w') as handle:
            handle.write(text)

    def run(self, timeout=900):
        # As under AWX: no PWD to lean on, no ANSIBLE_* of this checkout (env/envvars has the job's).
        self.proc = subprocess.run([RUNNER, 'run', self.dir, '-p', 'site.yml', '--ident', self.ident],
                                   capture_output=True, text=True, env=clean_env(), cwd='/', timeout=timeout,
                                   check=False)
        return self

    @property
    def rc(self):
        with open(os.path.join(self.artifacts, 'rc')) as handle:
            return int(handle.read().strip())

    @property
    def status(self):
        with open(os.path.join(self.artifacts, 'status')) as handle:
            return handle.read().strip()

    def events(self):
        out = []
        for path in glob.glob(os.path.join(self.artifacts, 'job_events', '*.json')):
            with open(path) as handle:
                out.append(json.load(handle))
        return sorted(out, key=lambda e: e.get('counter', 0))

    def artifact_data(self):
        stats = [e for e in self.events() if e.get('event') == 'playbook_on_stats']
        assert len(stats) == 1, self.output()
        return stats[0]['event_data'].get('artifact_data') or {}

    def output(self):
        return '%s\n%s' % ((self.proc.stdout or '')[-5000:], (self.proc.stderr or '')[-3000:])

    def check(self, rc=0, status='successful'):
        assert (self.rc, self.status) == (rc, status), self.output()
        return self
