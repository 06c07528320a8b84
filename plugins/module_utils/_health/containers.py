# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``containers`` section: every container of the Docker Engine, through the collection's Docker
client (``_docker``: endpoint rule, TLS, error texts).

The engine is asked through ``_docker.open_engine``: the Engine API itself (ping, container
list, one inspect per container, the event log) over the unix socket or ``tcp://`` (with TLS),
on the standard library. The Docker SDK is not needed and not imported; only an ``ssh://``
endpoint goes through it (and without it the section says the SDK is missing). Restarts in the last
24 hours come from the engine's event log (``start`` events of each container, minus
its first start when it was created inside the window); when events cannot be read,
``RestartCount`` (restarts since creation, by the restart policy) is used instead.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_time
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, above, not_installed)

MAX_EVENTS = 20000
DAY = 86400


def docker_options(host, params=None):
    """The Docker options of this run: the module's, with the host's endpoint and timeout.

    ``validate_certs`` of cloudos_health is about every TLS certificate it sees: for the engine it
    applies when ``tls`` is on, and does not turn TLS on by itself, so a plain ``tcp://`` engine
    stays reachable; without ``tls``, ``DOCKER_TLS_VERIFY`` decides, as for the docker CLI.
    """
    params = params or {}
    opts = _docker.options(params, docker_host=host.docker_host or params.get('docker_host'),
                           timeout=max(1, int(round(host.timeout))))
    opts['validate_certs'] = bool(params.get('validate_certs', True)) if params.get('tls') else None
    return opts


def open_engine(host, params=None):
    """A ``_docker.Engine`` that answered a ping, or raise ``_docker.DockerError``."""
    return _docker.open_engine(docker_options(host, params), exists=host.exists)


def count_starts(events, limit=MAX_EVENTS):
    """Count ``start`` events per container id; ``limit`` bounds the read."""
    starts = {}
    for index, event in enumerate(events):
        if index >= limit:
            break
        if not isinstance(event, dict):
            continue
        if (event.get('status') or event.get('Action')) != 'start':
            continue
        cid = event.get('id') or (event.get('Actor') or {}).get('ID')
        if cid:
            starts[cid] = starts.get(cid, 0) + 1
    return starts


def restarts_in_window(starts, created, now, window=DAY):
    """Restarts inside the window from the number of starts seen in it."""
    if created is not None and (now - created).total_seconds() <= window:
        starts -= 1
    return max(0, starts)


def evaluate(info, restarts, source, thresholds):
    """Findings ``[(severity, message, action)]`` for one inspected container."""
    name = info['name']
    logs = 'docker logs --tail 100 %s; docker inspect %s' % (name, name)
    out = []
    state = info['state']
    if state == 'restarting':
        out.append((CRITICAL, 'container %s is restarting (restart loop, %s restarts so far)' % (name, info['restart_count']),
                    logs))
    elif state == 'dead':
        out.append((CRITICAL, 'container %s is dead' % name, logs + '; docker rm %s and recreate it' % name))
    elif state == 'exited' and info['exit_code'] not in (0, None):
        out.append((WARNING, 'container %s exited with code %s' % (name, info['exit_code']), logs + '; docker start %s' % name))
    elif state == 'paused':
        out.append((WARNING, 'container %s is paused' % name, 'docker unpause %s' % name))
    if info['health'] == 'unhealthy':
        out.append((CRITICAL, 'container %s is unhealthy (health check failing)' % name,
                    "docker inspect --format '{{json .State.Health}}' %s; docker logs --tail 100 %s" % (name, name)))
    sev = above(restarts, thresholds['container_restarts'], thresholds['container_restarts_critical'])
    if sev in (WARNING, CRITICAL):
        what = 'in the last 24 h' if source == 'events' else 'since creation (RestartCount; events unavailable)'
        out.append((sev, 'container %s restarted %d times %s (threshold %s per day)'
                    % (name, restarts, what, thresholds['container_restarts']), 'Investigate (guide: > 5 restarts a day): ' + logs))
    return out


def describe(attrs):
    state = attrs.get('State') or {}
    health = (state.get('Health') or {}).get('Status') or 'none'
    return {
        'id': attrs.get('Id', ''),
        'name': (attrs.get('Name') or '').lstrip('/'),
        'image': (attrs.get('Config') or {}).get('Image', ''),
        'state': state.get('Status', 'unknown'),
        'exit_code': state.get('ExitCode'),
        'health': health,
        'restart_count': int(attrs.get('RestartCount') or 0),
        'created': parse_time(attrs.get('Created')),
        'started_at': parse_time(state.get('StartedAt')),
    }


def read_starts(engine, now):
    """Start events per container id over the last 24 h, or ``None`` when unavailable."""
    since = int(now.timestamp()) - DAY
    until = int(now.timestamp())
    try:
        events = engine.events(since=since, until=until, limit=MAX_EVENTS,
                               filters={'type': 'container', 'event': ['restart', 'start', 'die']})
        return count_starts(events)
    except Exception:  # pylint: disable=broad-except
        return None


def probe(host, params, thresholds):
    sec = Section('containers')
    required = params.get('required') or []
    try:
        engine = open_engine(host, params)
    except _docker.DockerError as exc:
        if exc.reason == 'absent':
            units = (params.get('component_units') or {}).get('docker') or ['docker.service']
            installed = host.units_exist(units)
            if installed:
                sec.summary = 'Docker engine down'
                sec.add(CRITICAL, 'the Docker engine is installed (systemd unit %s exists) but not running: %s' % (installed[0], exc),
                        'systemctl status docker; journalctl -u docker -n 100 --no-pager; systemctl start docker')
                return sec
            sec.set_absent(str(exc))
            not_installed(sec, 'docker', required, 'Docker', str(exc))
        elif exc.reason == 'library':  # only an ssh:// endpoint needs the SDK
            sec.summary = 'cannot check containers'
            sec.add(CRITICAL if ('containers' in required or 'docker' in required) else WARNING, str(exc),
                    'apt-get install python3-docker')
        else:
            sec.summary = 'Docker engine down'
            sec.add(CRITICAL, str(exc), 'systemctl status docker; journalctl -u docker -n 100 --no-pager; systemctl restart docker')
        return sec
    try:
        now = host.now()
        containers = [describe(engine.inspect(c['Id'])) for c in engine.containers(all=True)]
        starts = read_starts(engine, now)
    except Exception as exc:  # pylint: disable=broad-except
        sec.summary = 'Docker engine error'
        sec.add(CRITICAL, 'listing containers failed: %s' % exc, 'systemctl status docker; docker ps -a')
        return sec
    finally:
        engine.close()
    source = 'events' if starts is not None else 'RestartCount'
    counts = {}
    details = []
    total_restarts = 0
    unhealthy = 0
    for info in containers:
        if starts is not None:
            restarts = restarts_in_window(starts.get(info['id'], 0), info['created'], now)
        else:
            restarts = info['restart_count']
        total_restarts += restarts
        counts[info['state']] = counts.get(info['state'], 0) + 1
        unhealthy += info['health'] == 'unhealthy'
        details.append({'name': info['name'], 'image': info['image'], 'state': info['state'], 'health': info['health'],
                        'restart_count': info['restart_count'], 'restarts_24h': restarts if source == 'events' else None})
        for severity, message, action in evaluate(info, restarts, source, thresholds):
            sec.add(severity, message, action, metric='restarts_24h' if 'restarted' in message else None,
                    value=restarts if 'restarted' in message else None,
                    threshold=thresholds['container_restarts'] if 'restarted' in message else None)
    sec.metrics.update({'containers': len(containers), 'running': counts.get('running', 0),
                        'unhealthy': unhealthy, 'restarts_24h': total_restarts, 'restarts_source': source})
    sec.details['containers'] = details
    if not containers:
        sec.summary = 'Docker engine answers; no containers'
    else:
        sec.summary = '%d container%s: %s; %d restart%s %s' % (
            len(containers), '' if len(containers) == 1 else 's',
            ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())),
            total_restarts, '' if total_restarts == 1 else 's',
            'in 24 h' if source == 'events' else 'since creation')
    return sec
