"""A three-host fleet on this machine for playbooks/weekly_maintenance.yml.

The hosts ``maint-a``, ``maint-b`` and ``maint-c`` are all this machine (``ansible_connection=local``);
what makes them different hosts is what the test gives each one:

* its own real Prometheus (``/usr/bin/prometheus``, Debian package) on a free 127.0.0.1 port,
  listed in ``required`` so that a Prometheus that stops answering makes that host critical;
* its own logrotate configuration, state file and log under the test's temporary directory
  (real ``/usr/sbin/logrotate``; the machine's ``/etc/logrotate.conf`` and
  ``/var/lib/logrotate/status`` are never used).

Shared by the three: a real Alertmanager (``/usr/bin/prometheus-alertmanager``) on 127.0.0.1,
which receives the maintenance window's silences and is also the health check's Alertmanager,
and a Grafana fixture server (``tests/fixtures/fixture_server.py grafana``: Grafana cannot be
installed here; the fixture answers ``/api/health`` as Grafana does).

Every maintenance item that would act on the machine itself (updates, Docker clean-up, journal
vacuum, image inventory, backup verification, certificates) is turned off with its
``maintenance_<item>_enabled`` variable; ``become`` is off (the tests run as the invoking user).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.integration import lib as shared
from tests.integration.alertmanager.am_helpers import Alertmanager
from tests.integration.health.health_helpers import Fixture, start_alertmanager, start_prometheus

ROOT = shared.ROOT
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'weekly_maintenance.yml')
LOGROTATE = '/usr/sbin/logrotate'
HOSTS = ('maint-a', 'maint-b', 'maint-c')
# The identity the role gives each host's silence (maintenance_window defaults).
CREATED_BY = 'cloudos.ops maintenance_window'

OFF = {'maintenance_%s_enabled' % item: False
       for item in ('updates', 'docker_prune', 'journal', 'images', 'backup', 'certificates')}


def logrotate_config(log, postrotate=None):
    """A logrotate stanza that rotates ``log`` as soon as it holds one byte."""
    lines = ['%s {' % log, '    size 1', '    rotate 2', '    missingok', '    nocompress']
    if postrotate:
        lines += ['    postrotate', '        %s' % postrotate, '    endscript']
    lines.append('}')
    return '\n'.join(lines) + '\n'


class Host:
    """One inventory host: its Prometheus and its logrotate files."""

    def __init__(self, name, base):
        self.name = name
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir, mode=0o700)
        self.prometheus = start_prometheus(self.dir)
        self.log = os.path.join(self.dir, 'cloudos-app.log')
        self.config = os.path.join(self.dir, 'logrotate.conf')
        self.state = os.path.join(self.dir, 'logrotate.status')
        self.write_log()
        self.set_logrotate()

    def write_log(self, text='cloudos-api request served\n'):
        with open(self.log, 'w') as handle:
            handle.write(text)

    def set_logrotate(self, postrotate=None):
        with open(self.config, 'w') as handle:
            handle.write(logrotate_config(self.log, postrotate))
        os.chmod(self.config, 0o644)

    def reset(self):
        """A fresh log to rotate, no rotated copies, no logrotate state, no postrotate script."""
        for name in self.rotated() + ['logrotate.status']:
            if os.path.exists(os.path.join(self.dir, name)):
                os.unlink(os.path.join(self.dir, name))
        self.write_log()
        self.set_logrotate()

    def ensure_prometheus(self):
        """Start this host's Prometheus again if an earlier test stopped it."""
        if self.prometheus.proc.poll() is not None:
            self.prometheus.proc.wait()
            self.prometheus.start()

    def rotated(self):
        return sorted(n for n in os.listdir(self.dir) if n.startswith('cloudos-app.log.'))

    def hostvars(self, alertmanager_url, grafana_url):
        return {
            'ansible_connection': 'local',
            'ansible_python_interpreter': sys.executable,
            'ansible_become': False,
            'maintenance_logrotate_configs': [self.config],
            'maintenance_logrotate_state_file': self.state,
            'maintenance_health_options': {
                'prometheus_url': self.prometheus.url,
                'alertmanager_url': alertmanager_url,
                'grafana_url': grafana_url,
                'required': ['prometheus'],
                'timeout': 10,
            },
        }


class Fleet:
    """The three hosts, the Alertmanager and the Grafana fixture, plus the inventory file."""

    def __init__(self, base, hosts, grafana):
        self.base = base
        self.hosts = hosts
        self.grafana = grafana
        self.alertmanager = None
        self.am_service = None

    def __getitem__(self, name):
        return self.hosts[name]

    def start_alertmanager(self, tmp):
        self.am_service = start_alertmanager(tmp)
        self.alertmanager = Alertmanager(self.am_service.url, self.am_service.proc, tmp)
        return self.alertmanager

    def inventory(self, tmp, names=HOSTS):
        path = os.path.join(tmp, 'hosts.yml')
        data = {'all': {'hosts': {name: self.hosts[name].hostvars(self.alertmanager.url, self.grafana.url)
                                  for name in names}}}
        with open(path, 'w') as handle:
            json.dump(data, handle, indent=1)
        return path

    def run(self, tmp, names=HOSTS, check=False, extra=None):
        """Run the real playbook; return ``(proc, json callback output, report.json or None)``."""
        report_root = os.path.join(tmp, 'reports')
        extra_vars = dict(OFF, maintenance_report_root=report_root, maintenance_report_formats=['json', 'markdown'],
                          maintenance_window_alertmanager_url=self.alertmanager.url,
                          maintenance_health_checks=['monitoring'], maintenance_serial=1)
        extra_vars.update(extra or {})
        proc = shared.run_playbook(PLAYBOOK, inventory=self.inventory(tmp, names), extra_vars=extra_vars, check=check,
                                   timeout=600)
        try:
            output = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError('no json output from ansible-playbook\nstdout:\n%s\nstderr:\n%s'
                                 % (proc.stdout[-4000:], proc.stderr[-4000:]))
        runs = sorted(os.listdir(report_root)) if os.path.isdir(report_root) else []
        report = None
        if runs:
            with open(os.path.join(report_root, runs[-1], 'report.json')) as handle:
                report = json.load(handle)
        return proc, output, report

    def silences(self):
        """Every silence Alertmanager knows, expired ones included."""
        return self.alertmanager.api('GET', '/api/v2/silences')


def silences_for(silences, host):
    """The silences whose matchers name ``host`` (the window's per-host matcher)."""
    return [s for s in silences if any(host in m['value'] for m in s['matchers'])]


def task_results(output, host, task_name):
    """Results of the task named ``task_name`` (role prefix ignored) for ``host`` in the json
    callback output, skipped ones included."""
    found = []
    for play in output['plays']:
        for task in play['tasks']:
            if task['task']['name'].split(' : ')[-1] == task_name and host in task['hosts']:
                found.append(task['hosts'][host])
    return found


def hosts_seen(output):
    """Every host that any task of the maintenance play ran (or was skipped) for."""
    return sorted({host for play in output['plays'] if play['play']['name'] == 'CloudOS maintenance'
                   for task in play['tasks'] for host in task['hosts']})


# Tasks of the items the tests turn off: each must be skipped, never run, on every host.
MACHINE_TASKS = ('Refresh the package lists (apt)', 'List pending and security updates',
                 'Upgrade only the packages with a security update (apt)', 'Upgrade only security updates (dnf)',
                 'Remove unused Docker objects in the configured scope', 'Vacuum the journal', 'List CloudOS images',
                 'Verify the newest backup set', 'Check certificate expiry', 'Run the restore drill',
                 'Restore the newest set end to end')


def assert_machine_untouched(output, complete=True):
    """Every task of a turned-off item was skipped; with ``complete``, each one was reached
    (a run that fails stops early and never reaches the items after the failed one)."""
    for host in hosts_seen(output):
        for name in MACHINE_TASKS:
            results = task_results(output, host, name)
            assert results or not complete, 'task %r not found in the run (renamed?)' % name
            assert all(r.get('skipped') for r in results), (host, name, results)


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    shared.require_binary(LOGROTATE)
    base = str(tmp_path_factory.mktemp('maintenance-fleet'))
    hosts = {}
    grafana = None
    try:
        grafana = Fixture('grafana', base, {}, '/api/health')
        for name in HOSTS:
            hosts[name] = Host(name, base)
        yield Fleet(base, hosts, grafana)
    finally:
        for host in hosts.values():
            host.prometheus.stop()
        if grafana is not None:
            grafana.stop()


@pytest.fixture
def maintenance_fleet(fleet, tmp_path):
    """The module's fleet, healthy, with fresh logs, and a fresh Alertmanager for this test only."""
    for host in fleet.hosts.values():
        host.ensure_prometheus()
        host.reset()
    (tmp_path / 'alertmanager').mkdir()
    fleet.start_alertmanager(str(tmp_path / 'alertmanager'))
    try:
        yield fleet
    finally:
        fleet.am_service.stop()
