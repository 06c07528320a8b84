# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings, thresholds, severities and the host adapter of ``cloudos_health``'s probes.

The sections themselves are registered in ``_health/registry.py``; ``_sections`` runs them.
Everything here is plain Python: no Ansible import, no system access except through
the :class:`Host` adapter, so unit tests drive it with a fake host.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time

from datetime import datetime, timezone

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._common import (  # noqa: F401  pylint: disable=unused-import
    ABSENT, CRITICAL, OK, SKIPPED, WARNING, rfc3339, worst_status as worst)
from ansible_collections.cloudos.ops.plugins.module_utils._sections import (  # noqa: F401  pylint: disable=unused-import
    Thresholds, run_parallel)

# The guide's "Key Metrics to Monitor Daily" table, plus the critical levels this
# collection adds. A value strictly above a ``*`` threshold is a finding (below, for
# certificate days); ``*_critical`` raises it to critical.
DEFAULT_THRESHOLDS = {
    'cpu': 80,                          # % busy over cpu_sample_seconds
    'cpu_critical': 100,                # a short sample at 100 % is normal: never critical by default
    'memory': 85,                       # % of MemTotal not available
    'memory_critical': 95,
    'disk': 80,                         # % of blocks used (as df shows it)
    'disk_critical': 95,
    'alerts_warning': 2,                  # more than this many firing warning alerts -> warning
    'alerts_critical': 0,                 # more than this many firing critical alerts -> critical
    'container_restarts': 5,              # restarts of one container in the last 24 h -> warning
    'container_restarts_critical': 20,
    'ai_error_rate': 5,                 # % of inference requests that failed -> warning
    'ai_error_rate_critical': 25,
    'certificate_days': 30,               # fewer days left -> warning
    'certificate_days_critical': 7,       # fewer days left (or expired) -> critical
}

# Components a user may list in ``required``: a section name, or one component of it.
COMPONENTS = {
    'services': 'services', 'containers': 'containers', 'docker': 'containers',
    'kubernetes': 'kubernetes', 'monitoring': 'monitoring', 'prometheus': 'monitoring',
    'grafana': 'monitoring', 'alertmanager': 'monitoring', 'alerts': 'alerts',
    'ai_engine': 'ai_engine', 'certificates': 'certificates',
}

ACTIONS = {
    'cpu': 'Investigate (guide: CPU > 80 %): top -o %CPU; docker stats',
    'memory': 'Investigate (guide: memory > 85 %): ps aux --sort=-%mem | head -10; docker stats',
    'disk': 'Clean up (guide: disk > 80 %): journalctl --vacuum-time=7d; prune unused images; remove old backups',
}


# Thresholds where a higher value is worse (the critical level may not be below the warning one),
# and those where a lower value is worse (days left: the critical level may not be above it).
THRESHOLDS = Thresholds(DEFAULT_THRESHOLDS,
                        rising=(('cpu', 'cpu_critical'), ('memory', 'memory_critical'), ('disk', 'disk_critical'),
                                ('container_restarts', 'container_restarts_critical'),
                                ('ai_error_rate', 'ai_error_rate_critical')),
                        falling=(('certificate_days', 'certificate_days_critical'),))


def above(value, warning, critical):
    """Severity of a value where higher is worse: strictly above a level trips it."""
    if value is None:
        return OK
    if value > critical:
        return CRITICAL
    if value > warning:
        return WARNING
    return OK


def below(value, warning, critical):
    """Severity of a value where lower is worse (days left): strictly below trips it."""
    if value is None:
        return OK
    if value < critical:
        return CRITICAL
    if value < warning:
        return WARNING
    return OK


def rnd(value, digits=1):
    return None if value is None else round(float(value), digits)


class Section:
    """Collects one section's metrics, findings and details, then renders its dict."""

    def __init__(self, name):
        self.name = name
        self.metrics = {}
        self.findings = []
        self.details = {}
        self.summary = ''
        self.absent = False
        self.skipped = False

    def add(self, severity, message, action, metric=None, value=None, threshold=None):
        if severity not in (WARNING, CRITICAL):
            return None
        finding = {'check': self.name, 'severity': severity, 'message': message, 'action': action}
        if metric is not None:
            finding['metric'] = metric
            finding['value'] = value
            finding['threshold'] = threshold
        self.findings.append(finding)
        return finding

    def set_absent(self, summary):
        self.absent = True
        self.summary = summary

    @property
    def status(self):
        if self.findings:
            return worst(f['severity'] for f in self.findings)
        if self.skipped:
            return SKIPPED
        if self.absent:
            return ABSENT
        return OK

    def as_dict(self):
        data = {'status': self.status, 'summary': self.summary, 'metrics': self.metrics,
                'findings': self.findings}
        if self.details:
            data['details'] = self.details
        return data


def not_installed(section, component, required, what, how):
    """Mark ``component`` absent, or critical when the user listed it in ``required``."""
    if component in required or section.name in required:
        section.add(CRITICAL, '%s is required but was not found: %s' % (what, how),
                    'Install and start %s, or remove %r from the required option' % (what, component))
        return True
    return False


# --------------------------------------------------------------------------- host adapter

class Host:
    """The only door to the system: commands, files, HTTP, clocks.

    Probes receive one instance; unit tests substitute a fake. Shared facts
    (unit and container inventories) are computed once, on first use, under a lock.
    """

    def __init__(self, timeout=5.0, validate_certs=True, docker_host=None, run_command=None, docker_params=None):
        self.timeout = timeout
        self.run_command = run_command
        self.validate_certs = validate_certs
        self.docker_host = docker_host
        # the module's parameters, for the Docker options (TLS) of container_names()
        self.docker_params = docker_params
        self._lock = threading.Lock()
        self._units = {}
        self._containers = None
        # cpu_snapshot() taken when the run started; see start_cpu_window().
        self.cpu_window_start = None

    # time
    def now(self):
        return datetime.now(timezone.utc)

    def monotonic(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)

    # files
    def read_text(self, path):
        with open(path, 'r') as handle:
            return handle.read()

    def read_bytes(self, path):
        with open(path, 'rb') as handle:
            return handle.read()

    def exists(self, path):
        return os.path.exists(path)

    def statvfs(self, path):
        return os.statvfs(path)

    def stat_dev(self, path):
        return os.stat(path).st_dev

    def cpu_count(self):
        return os.cpu_count() or 1

    def own_cpu_ticks(self):
        """CPU time of this process (every thread, and children it waited for), in /proc/stat ticks."""
        times = os.times()
        return int(round((times.user + times.system + times.children_user + times.children_system)
                         * os.sysconf('SC_CLK_TCK')))

    def cpu_snapshot(self):
        """``(monotonic time, /proc/stat text, own_cpu_ticks())``: one end of a CPU sampling window."""
        return self.monotonic(), self.read_text('/proc/stat'), self.own_cpu_ticks()

    def start_cpu_window(self):
        """Take the first CPU sample now, so the sampling window runs while the module loads its
        libraries instead of after; the resources section takes the second sample."""
        try:
            self.cpu_window_start = self.cpu_snapshot()
        except (IOError, OSError):
            self.cpu_window_start = None

    def hostname(self):
        return socket.gethostname()

    # commands
    def which(self, name):
        for folder in os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin').split(os.pathsep) + ['/usr/bin', '/bin']:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        return None

    def run(self, args, data=None):
        """Run a command without a shell; return ``(rc, stdout, stderr)``; rc 124 on timeout.

        ``run_command(args, data) -> (rc, out, err)`` comes from the module (``AnsibleModule.run_command``);
        commands are bounded by coreutils ``timeout`` where it exists.
        """
        if self.run_command is None:
            return 127, '', 'no command runner available to run %s' % args[0]
        limit = self.which('timeout')
        if limit:
            args = [limit, '-k', '1', '%g' % max(0.1, float(self.timeout))] + list(args)
        rc, out, err = self.run_command(list(args), data)
        if limit and rc == 124:
            err = '%s timed out after %ss' % (args[4], self.timeout)
        return rc, out, err

    # HTTP
    def http_get(self, url, timeout=None):
        """GET ``url``; return ``_http.Response`` or raise ``_http.HttpError``."""
        from ansible_collections.cloudos.ops.plugins.module_utils._http import request
        return request(url, timeout=timeout or self.timeout, validate_certs=self.validate_certs,
                       headers={'Accept': '*/*'})

    # shared facts
    def systemd_client(self):
        """The systemd client (``_systemd.Systemd``) over this host's runner, files and PATH."""
        from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd
        return Systemd(self.run, exists=self.exists, which=self.which)

    def systemd_running(self):
        return self.systemd_client().running()

    def units_exist(self, names):
        """Names among ``names`` that systemd knows (loaded, whatever their state)."""
        wanted = [n if '.' in n else n + '.service' for n in names]
        with self._lock:
            missing = [n for n in wanted if n not in self._units]
            if missing:
                known = self.systemd_client().loaded(missing)
                self._units.update((unit, unit in known) for unit in missing)
            return [n for n in wanted if self._units.get(n)]

    def container_names(self):
        """Names of all containers (running or not) or ``[]`` when Docker cannot be asked."""
        with self._lock:
            if self._containers is None:
                from ansible_collections.cloudos.ops.plugins.module_utils import _docker
                from ansible_collections.cloudos.ops.plugins.module_utils._health.containers import docker_options
                self._containers = _docker.container_names(docker_options(self, self.docker_params), exists=self.exists)
            return list(self._containers)


def container_matches(name, hint):
    """A container name matches a hint as a whole word: ``cloudos-grafana`` matches ``grafana``,
    ``prometheus-alertmanager`` does not match ``prometheus`` (it matches ``alertmanager``)."""
    words = [w for w in re.split(r'[^a-z0-9]+', name.lower()) if w]
    hint_words = [w for w in re.split(r'[^a-z0-9]+', hint.lower()) if w]
    if not hint_words:
        return False
    for start in range(len(words) - len(hint_words) + 1):
        if words[start:start + len(hint_words)] == hint_words:
            rest = words[:start] + words[start + len(hint_words):]
            return not any(w in ('alertmanager', 'exporter') for w in rest)
    return False


def component_installed(host, units, container_hints):
    """Evidence that a component exists although its endpoint refused: a unit or a container."""
    found = host.units_exist(units) if units else []
    if found:
        return 'systemd unit %s exists' % found[0]
    if container_hints:
        for name in host.container_names():
            if any(container_matches(name, h) for h in container_hints):
                return 'container %s exists' % name
    return None


def probe_url(host, url, timeout=None, get=None):
    """GET ``url`` (through ``get()``, a client's call, when given): ``(response, None)`` or
    ``(None, HttpError)``; never raises."""
    from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError
    try:
        return (get() if get is not None else host.http_get(url, timeout=timeout)), None
    except HttpError as exc:
        return None, exc
    except Exception as exc:  # pylint: disable=broad-except
        return None, HttpError('GET %s failed: %s' % (url, exc), url=url, kind='connection')


def not_answering(host, err, units, hints):
    """Classify an endpoint that gave no usable answer: ``('absent', None)`` when nothing of the
    component exists, else ``('down', evidence)`` (refused although installed) or
    ``('failing', None)`` (it answered wrongly, too slowly, or TLS failed)."""
    if err.kind in ('refused', 'connection'):
        evidence = component_installed(host, units, hints)
        if evidence:
            return 'down', evidence
        return 'absent', None
    return 'failing', None


# --------------------------------------------------------------------------- libraries

def docker_reachable(params, exists, environ):
    """Whether a Docker Engine may answer: ``docker_host`` is set or a local socket exists."""
    return bool(params.get('docker_host') or exists('/var/run/docker.sock') or exists('/run/docker.sock'))


def docker_sdk_needed(params, exists, environ):
    """Whether the engine is only reachable through the Docker SDK (an ``ssh://`` endpoint): the
    endpoint rule and what ``_docker.Engine`` speaks are ``_docker``'s, decided there once."""
    return not _docker.speaks_engine(_docker.options(params), environ=environ, exists=exists)


def kubeconfig_present(params, exists, environ):
    """Whether there is a kubeconfig to read (option, ``$KUBECONFIG``, ``~/.kube/config``)."""
    return bool(params.get('kubeconfig') or environ.get('KUBECONFIG') or exists(os.path.expanduser('~/.kube/config')))


# --------------------------------------------------------------------------- parameters

def validate_params(params):
    """Check module parameters that argument_spec cannot; return the error message or ``None``."""
    from ansible_collections.cloudos.ops.plugins.module_utils._http import check_timeout, validate_url
    from ansible_collections.cloudos.ops.plugins.module_utils._certs import parse_endpoint
    for name in ('prometheus_url', 'grafana_url', 'alertmanager_url', 'ai_engine_url'):
        error = validate_url(params.get(name), name)
        if error:
            return error
    if not params['timeout'] > 0:
        return 'timeout must be greater than 0, got %r' % params['timeout']
    error = check_timeout(params['timeout'])
    if error:
        return error
    if not 0 <= params['cpu_sample_seconds'] <= 10:
        return 'cpu_sample_seconds must be between 0 and 10, got %r' % params['cpu_sample_seconds']
    for path in params['disks']:
        if not isinstance(path, str) or not path.startswith('/'):
            return 'disks entries must be absolute paths, got %r' % (path,)
    for pattern in params['service_patterns']:
        if not pattern or pattern.startswith('-'):
            return 'service_patterns entries must be unit names or globs, got %r' % (pattern,)
    for endpoint in params.get('certificate_endpoints') or []:
        try:
            parse_endpoint(endpoint)
        except ValueError as exc:
            return 'certificate_endpoints: %s' % exc
    for key, value in (params.get('component_units') or {}).items():
        if key not in ('prometheus', 'grafana', 'alertmanager', 'ai_engine', 'docker'):
            return 'component_units: unknown component %r (value %r); known: ai_engine, alertmanager, docker, grafana, prometheus' % (
                key, value)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return 'component_units.%s must be a list of unit names, got %r' % (key, value)
    return None
