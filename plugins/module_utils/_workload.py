# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop a host's CloudOS workload (units and containers) and start exactly that again.

Private to this collection (the leading underscore): no compatibility promise.

The data-corruption runbook's first and last steps: "stop all write operations" and "resume
operations". ``stopped`` stops what runs now and returns its names; ``started`` starts the names it
is given (those a ``stopped`` run returned), so that resuming never starts what was not running.
The adapter is the systemd client (``_systemd.Systemd``) and a low-level Docker connection
(``_docker.connect``).
"""

from __future__ import annotations

import fnmatch


class WorkloadError(ValueError):
    """Bad input; the message names the parameter and the value."""


def validate(params):
    for name in ('unit_patterns', 'container_patterns', 'units', 'containers'):
        for value in params.get(name) or []:
            if not isinstance(value, str) or not value or value.startswith('-') or '\n' in value:
                raise WorkloadError('%s entries must be unit or container names, got %r' % (name, value))
    if params['state'] == 'started' and (params.get('unit_patterns') or params.get('container_patterns')) \
            and not (params.get('units') or params.get('containers')):
        # patterns would start what nobody stopped: resuming takes the names a stop returned
        raise WorkloadError('state=started takes units and containers (the names a state=stopped run returned), '
                            'not patterns')
    if params.get('stop_timeout') is not None and not 0 <= params['stop_timeout'] <= 3600:
        raise WorkloadError('stop_timeout must be between 0 and 3600 seconds, got %r' % params['stop_timeout'])


class Adapter:
    def __init__(self, systemd, docker_conn=None):
        self.systemd = systemd
        self.docker = docker_conn

    def running_units(self, patterns):
        if not patterns or not self.systemd.running():
            return []
        return self.systemd.list_units(patterns, extra=('--state=running', '--type=service'))

    def running_containers(self, patterns):
        if not patterns or self.docker is None:
            return []
        names = []
        for summary in self.docker.client.containers():
            name = ((summary.get('Names') or ['/'])[0]).lstrip('/')
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                names.append(name)
        return sorted(names)

    def stop_unit(self, name, timeout):
        self.systemd.stop(name)

    def start_unit(self, name):
        self.systemd.start(name)

    def stop_container(self, name, timeout):
        self.docker.client.stop(name, timeout=int(timeout))

    def start_container(self, name):
        self.docker.client.start(name)


def _each(names, func, what, errors, *args):
    done = []
    for name in names:
        try:
            func(name, *args)
            done.append(name)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append('%s %s: %s' % (what, name, getattr(exc, 'explanation', None) or exc))
    return done


def run(params, adapter, check_mode=False):
    """``{changed, units, containers, errors}``: what was (or would be) stopped or started."""
    validate(params)
    errors = []
    if params['state'] == 'stopped':
        units = adapter.running_units(params.get('unit_patterns') or [])
        containers = adapter.running_containers(params.get('container_patterns') or [])
        if not check_mode:
            # containers first: they may talk to the units (the API) while they shut down
            containers = _each(containers, adapter.stop_container, 'stopping container', errors,
                               params.get('stop_timeout', 30))
            units = _each(units, adapter.stop_unit, 'stopping unit', errors, params.get('stop_timeout', 30))
    else:
        units = list(params.get('units') or [])
        containers = list(params.get('containers') or [])
        if not check_mode:
            units = _each(units, adapter.start_unit, 'starting unit', errors)
            containers = _each(containers, adapter.start_container, 'starting container', errors)
    return {'changed': bool(units or containers), 'state': params['state'], 'units': units,
            'containers': containers, 'errors': errors}
