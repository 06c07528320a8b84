# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guide's "service recovery" step, done without fighting the supervisors.

Private to this collection (the leading underscore): no compatibility promise.

:func:`plan_unit` and :func:`plan_container` decide, from what systemd and the Docker Engine say
about one unit or container, whether to act and why not. The rules:

* systemd units: only ``failed`` units are started again. A unit systemd is already restarting
  (``SubState=auto-restart``) is left to systemd. A unit at its start limit
  (``Result=start-limit-hit``) stays failed until ``systemctl reset-failed``; that is done only
  when ``reset_failed`` allows it, else the unit is reported for a person. Every start we make
  counts towards ``StartLimitBurst`` too, so one run starts a unit at most once. A unit that is
  merely ``inactive`` was stopped by someone (or was never wanted): it is left alone.
* containers: Docker's restart policy says whether a container should run. One that exited under
  ``always`` or ``unless-stopped`` was stopped by a person (the engine restarts it otherwise): it
  is never resurrected. One that exited non-zero under ``on-failure`` after the engine gave up is
  started again; a running but ``unhealthy`` one is restarted (no policy restarts those); one the
  engine is restarting is left to it; ``paused`` and ``dead`` ones are reported, not touched.
* a restart budget per unit/container across runs (kept on the controller by the role): when it is
  spent, the item is escalated instead of restarted again.

:func:`repair` executes a plan through an adapter (the systemd and Docker clients) and waits,
bounded, for each item to settle; :func:`verdict` says what became of it.
"""

from __future__ import annotations

import fnmatch
import re
import time

UNIT_PROPERTIES = ('Id', 'LoadState', 'ActiveState', 'SubState', 'Result', 'NRestarts', 'UnitFileState',
                   'StartLimitBurst', 'StartLimitIntervalUSec', 'InactiveEnterTimestampMonotonic')
_SPAN_UNITS = {'us': 1, 'usec': 1, 'ms': 1000, 'msec': 1000, 's': 10 ** 6, 'sec': 10 ** 6, 'min': 60 * 10 ** 6,
               'h': 3600 * 10 ** 6, 'hour': 3600 * 10 ** 6, 'd': 86400 * 10 ** 6, 'day': 86400 * 10 ** 6,
               'w': 7 * 86400 * 10 ** 6}

# what an item needs; None: nothing to do
RESTART, START, RESET_AND_START = 'restart', 'start', 'reset-failed and start'
# why nothing is done although the item is not healthy
LEFT_ALONE, ESCALATE = 'left alone', 'escalate'


class RepairError(ValueError):
    """Bad input; the message names the parameter and the value."""


def chosen(name, allow, deny):
    """``(True, '')`` when ``name`` may be repaired, else ``(False, reason)`` (globs)."""
    for pattern in deny or []:
        if fnmatch.fnmatchcase(name, pattern):
            return False, 'on the deny list (%s)' % pattern
    if allow and not any(fnmatch.fnmatchcase(name, p) for p in allow):
        return False, 'not on the allow list'
    return True, ''


def item(kind, name, state, action=None, reason='', healthy=False, disposition=None):
    if disposition is None:
        disposition = 'act' if action else ('ok' if healthy else LEFT_ALONE)
    return {'kind': kind, 'name': name, 'key': '%s:%s' % (kind, name), 'state': state, 'action': action,
            'reason': reason, 'healthy': healthy, 'disposition': disposition}


def _refused(kind, name, state, budget_left, allow, deny):
    """The item when the lists or the budget forbid acting on it, else ``None``."""
    ok, why = chosen(name, allow, deny)
    if not ok:
        return item(kind, name, state, reason=why)
    if budget_left is not None and budget_left <= 0:
        return item(kind, name, state, reason='restart budget spent: it keeps failing', disposition=ESCALATE)
    return None


def timespan_us(text):
    """Microseconds of a systemd time span as ``systemctl show`` prints it (``10s``, ``1min 30s``,
    ``500ms``, a bare number of microseconds); ``None`` when unreadable or ``infinity``."""
    text = str(text or '').strip()
    if text.isdigit():
        return int(text)
    total, found = 0, False
    for number, unit in re.findall(r'(\d+(?:\.\d+)?)\s*([a-z]+)', text):
        if unit not in _SPAN_UNITS:
            return None
        total += float(number) * _SPAN_UNITS[unit]
        found = True
    return int(total) if found else None


def start_limit_used_up(unit, now_us):
    """Whether systemd would refuse a start now: the unit restarted itself (``Restart=``) until its
    ``StartLimitBurst`` was used up, and the last failure is still inside ``StartLimitIntervalUSec``.
    Such a unit shows ``Result=exit-code``, not ``start-limit-hit``, until someone tries to start it."""
    try:
        burst = int(unit.get('StartLimitBurst') or 0)
        restarts = int(unit.get('NRestarts') or 0)
        failed_at = int(unit.get('InactiveEnterTimestampMonotonic') or 0)
    except ValueError:
        return False
    interval = timespan_us(unit.get('StartLimitIntervalUSec'))
    if burst <= 0 or not interval or not failed_at or now_us is None:
        return False
    return restarts + 1 >= burst and 0 <= now_us - failed_at < interval


def plan_unit(unit, budget_left, reset_failed=False, allow=(), deny=(), now_us=None):
    """What to do about one unit (a ``systemctl show`` block); ``now_us`` is CLOCK_MONOTONIC in
    microseconds, the clock of systemd's timestamps."""
    name = unit.get('Id') or '?'
    active, sub, result = unit.get('ActiveState', ''), unit.get('SubState', ''), unit.get('Result', '')
    state = '%s/%s%s' % (active, sub, ' (%s)' % result if result and result != 'success' else '')
    if active == 'active' or active == 'reloading':
        return item('unit', name, state, healthy=True, reason='running')
    if sub == 'auto-restart':
        return item('unit', name, state, reason='systemd is already restarting it (Restart= in the unit)')
    if active != 'failed':
        return item('unit', name, state, reason='not failed (%s): stopped on purpose or not wanted; left alone' % active)
    refused = _refused('unit', name, state, budget_left, allow, deny)
    if refused:
        return refused
    if result == 'start-limit-hit' or start_limit_used_up(unit, now_us):
        if not reset_failed:
            return item('unit', name, state, disposition=ESCALATE,
                        reason='at its start limit (StartLimitBurst=%s in %s); it stays failed until '
                               'systemctl reset-failed, which repair_reset_failed does not allow'
                               % (unit.get('StartLimitBurst', '?'), unit.get('StartLimitIntervalUSec', '?')))
        return item('unit', name, state, action=RESET_AND_START, reason='at its start limit; reset-failed is allowed')
    entry = item('unit', name, state, action=START, reason='failed (%s)' % (result or 'unknown'))
    entry['reset_allowed'] = bool(reset_failed)
    return entry


def plan_container(info, budget_left, allow=(), deny=()):
    """What to do about one container (a ``docker inspect`` document)."""
    name = (info.get('Name') or '?').lstrip('/')
    status = (info.get('State') or {}).get('Status', 'unknown')
    health = ((info.get('State') or {}).get('Health') or {}).get('Status') or 'none'
    exit_code = (info.get('State') or {}).get('ExitCode')
    policy = ((info.get('HostConfig') or {}).get('RestartPolicy') or {}).get('Name') or 'no'
    state = '%s%s, restart policy %s' % (status, '/%s' % health if health != 'none' else '', policy)
    if status == 'running' and health != 'unhealthy':
        return item('container', name, state, healthy=True, reason='running')
    if status == 'restarting':
        return item('container', name, state, reason='the engine is restarting it (restart policy %s)' % policy)
    if status == 'paused':
        return item('container', name, state, reason='paused by a person (docker unpause %s to resume)' % name)
    if status == 'dead':
        return item('container', name, state, disposition=ESCALATE,
                    reason='dead: it cannot be started again, it needs docker rm and a re-create')
    if status in ('exited', 'created') and policy in ('always', 'unless-stopped'):
        return item('container', name, state,
                    reason='stopped by a person (under %s the engine would restart it otherwise): never resurrected' % policy)
    if status in ('exited', 'created') and policy == 'no':
        return item('container', name, state, reason='its restart policy says it should not run')
    if status in ('exited', 'created') and policy == 'on-failure' and exit_code in (0, None):
        return item('container', name, state, reason='it completed (exit code 0 under on-failure)')
    refused = _refused('container', name, state, budget_left, allow, deny)
    if refused:
        return refused
    if status == 'running':
        return item('container', name, state, action=RESTART, reason='unhealthy (its health check fails)')
    return item('container', name, state, action=START,
                reason='exited with code %s and the engine gave up (on-failure)' % exit_code)


def validate(params):
    """Raise :class:`RepairError` for parameters argument_spec cannot check."""
    if params.get('wait') is not None and not 0 <= params['wait'] <= 600:
        raise RepairError('wait must be between 0 and 600 seconds, got %r' % params['wait'])
    if params.get('settle') is not None and not 0 <= params['settle'] <= 120:
        raise RepairError('settle must be between 0 and 120 seconds, got %r' % params['settle'])
    if params.get('max_restarts') is not None and params['max_restarts'] < 0:
        raise RepairError('max_restarts must not be negative, got %r' % params['max_restarts'])
    for key, value in (params.get('budget') or {}).items():
        if not isinstance(key, str) or not key.startswith(('unit:', 'container:')):
            raise RepairError('budget keys are unit:<name> or container:<name>, got %r' % (key,))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RepairError('budget[%s] must be a whole number >= 0, got %r' % (key, value))
    for name in ('unit_patterns', 'container_patterns', 'allow', 'deny'):
        for pattern in params.get(name) or []:
            if not isinstance(pattern, str) or not pattern or pattern.startswith('-'):
                raise RepairError('%s entries must be names or globs, got %r' % (name, pattern))


def budget_for(key, budget, max_restarts):
    if key in (budget or {}):
        return budget[key]
    return max_restarts


def make_plan(units, containers, params):
    """The plan for every unit and container: a list of :func:`item` dicts, units first."""
    budget, max_restarts = params.get('budget') or {}, params.get('max_restarts')
    now_us = params.get('now_us')
    allow, deny = params.get('allow') or [], params.get('deny') or []
    out = []
    for unit in units:
        key = 'unit:%s' % unit.get('Id')
        out.append(plan_unit(unit, budget_for(key, budget, max_restarts), params.get('reset_failed'), allow, deny,
                             now_us))
    for info in containers:
        key = 'container:%s' % (info.get('Name') or '').lstrip('/')
        out.append(plan_container(info, budget_for(key, budget, max_restarts), allow, deny))
    return out


def verdict(entry, now_state):
    """``recovered``, ``still failing``, ``pending`` (still starting when the wait ended)."""
    if now_state is None:
        return 'still failing'
    if entry['kind'] == 'unit':
        active, sub = now_state.get('ActiveState'), now_state.get('SubState')
        if active == 'active':
            return 'recovered'
        if active in ('activating', 'reloading') and sub != 'auto-restart':
            return 'pending'
        return 'still failing'
    status = (now_state.get('State') or {}).get('Status')
    health = ((now_state.get('State') or {}).get('Health') or {}).get('Status') or 'none'
    if status == 'running' and health in ('healthy', 'none'):
        return 'recovered'
    if status == 'running' and health == 'starting':
        return 'pending'
    return 'still failing'


def repair(plan, adapter, wait=30.0, settle=3.0, clock=time.monotonic, sleep=time.sleep):
    """Carry out ``plan`` through ``adapter`` and wait up to ``wait`` seconds for the items it acted on.

    ``adapter`` has ``reset_failed(unit)``, ``start_unit(unit)``, ``start_container(name)``,
    ``restart_container(name)`` (each returns ``None`` or an error text) and
    ``unit_states(names)`` / ``container_states(names)`` (name -> state). An item counts as
    recovered only when it is still up ``settle`` seconds after the last action, so a unit that
    starts and dies at once is not reported as repaired.
    """
    for entry in [e for e in plan if e['action']]:
        if entry['kind'] == 'unit':
            entry['error'] = _start_unit(entry, adapter)
        elif entry['action'] == RESTART:
            entry['error'] = adapter.restart_container(entry['name'])
        else:
            entry['error'] = adapter.start_container(entry['name'])
    acted = [e for e in plan if e['action'] and not e.get('refused')]
    if not acted:
        return plan
    started = clock()
    deadline = started + max(wait, settle)
    while True:
        states = _states(adapter, acted)
        verdicts = dict((e['key'], verdict(e, states.get(e['key']))) for e in acted)
        settled = clock() - started >= settle
        if settled and all(v != 'pending' for v in verdicts.values()):
            if all(v == 'recovered' for v in verdicts.values()) or clock() >= deadline:
                break
        if clock() >= deadline:
            break
        sleep(0.5)
    for entry in acted:
        entry['result'] = 'action failed' if entry.get('error') else verdicts[entry['key']]
        state = states.get(entry['key'])
        if state is not None:
            entry['state_after'] = describe_state(entry['kind'], state)
    return plan


def _start_unit(entry, adapter):
    """Start one unit; ``None`` or the error. A unit that used up its start burst through its own
    ``Restart=`` shows ``Result=exit-code``, and systemd refuses our start (``start-limit-hit``):
    then ``reset-failed`` and one more start when allowed, else the unit is left for a person."""
    if entry['action'] == RESET_AND_START:
        error = adapter.reset_failed(entry['name'])
        if error:
            return error
    error = adapter.start_unit(entry['name'])
    if error is None:
        return None
    state = adapter.unit_states([entry['name']]).get(entry['name']) or {}
    if state.get('Result') != 'start-limit-hit':
        return error
    if entry.get('reset_allowed') and entry['action'] != RESET_AND_START:
        entry['action'] = RESET_AND_START
        return adapter.reset_failed(entry['name']) or adapter.start_unit(entry['name'])
    entry.update(refused=True, disposition=ESCALATE, result='start limit',
                 reason='at its start limit: systemd refused the start (it restarted it itself until '
                        'StartLimitBurst was used up); it stays failed until systemctl reset-failed, '
                        'which repair_reset_failed does not allow')
    return None


def _states(adapter, acted):
    units = [e['name'] for e in acted if e['kind'] == 'unit']
    containers = [e['name'] for e in acted if e['kind'] == 'container']
    out = {}
    if units:
        for name, state in adapter.unit_states(units).items():
            out['unit:%s' % name] = state
    if containers:
        for name, state in adapter.container_states(containers).items():
            out['container:%s' % name] = state
    return out


def describe_state(kind, state):
    if kind == 'unit':
        return '%s/%s' % (state.get('ActiveState', '?'), state.get('SubState', '?'))
    status = (state.get('State') or {}).get('Status', '?')
    health = ((state.get('State') or {}).get('Health') or {}).get('Status')
    return status + ('/%s' % health if health else '')


def summarise(plan, check_mode=False):
    """The module's result: ``decisions``, ``restarted``, ``recovered``, ``still_failing``, ``escalate``, ``left_alone``."""
    acted = [e for e in plan if e['action'] and not e.get('refused')]
    result = {
        'decisions': plan,
        'actions': [{'key': e['key'], 'action': e['action']} for e in acted],
        'recovered': [e['key'] for e in acted if e.get('result') == 'recovered'],
        'still_failing': [e['key'] for e in acted if e.get('result') in ('still failing', 'pending', 'action failed')],
        'escalate': [e['key'] for e in plan if e['disposition'] == ESCALATE],
        'left_alone': [e['key'] for e in plan if e['disposition'] == LEFT_ALONE],
        'changed': bool(acted),
    }
    # what still needs a person: items we could not fix and items we must not touch
    result['escalate'] += [k for k in result['still_failing'] if k not in result['escalate']]
    if check_mode:
        for entry in acted:
            entry['result'] = 'would %s' % entry['action']
    return result


# --------------------------------------------------------------------------- adapter

class HostAdapter:
    """The repair's door to the host: systemd through ``_systemd.Systemd``, Docker through
    ``_docker.connect`` (a low-level client, opened once and closed by :meth:`close`)."""

    def __init__(self, systemd, docker_conn=None):
        self.systemd = systemd
        self.docker = docker_conn

    # systemd
    def units(self, patterns):
        names = self.systemd.list_units(patterns)
        if not names:
            return []
        blocks = self.systemd.show(names, UNIT_PROPERTIES)
        return [b for b in blocks.values() if b.get('LoadState') not in (None, 'not-found')]

    def reset_failed(self, name):
        return self._systemd_call(self.systemd.reset_failed, name)

    def start_unit(self, name):
        return self._systemd_call(self.systemd.start, name)

    @staticmethod
    def _systemd_call(func, name):
        try:
            func(name)
        except Exception as exc:  # pylint: disable=broad-except
            return str(exc)
        return None

    def unit_states(self, names):
        return self.systemd.show(names, UNIT_PROPERTIES)

    # Docker
    def containers(self, patterns):
        if self.docker is None:
            return []
        out = []
        for summary in self.docker.client.containers(all=True):
            name = ((summary.get('Names') or ['/'])[0]).lstrip('/')
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                out.append(self.docker.client.inspect_container(summary['Id']))
        return out

    def start_container(self, name):
        return self._docker_call(self.docker.client.start, name)

    def restart_container(self, name):
        return self._docker_call(self.docker.client.restart, name)

    def _docker_call(self, func, name):
        try:
            func(name)
        except Exception as exc:  # pylint: disable=broad-except
            return 'Docker engine at %s: %s' % (self.docker.url, getattr(exc, 'explanation', None) or exc)
        return None

    def container_states(self, names):
        out = {}
        for name in names:
            try:
                out[name] = self.docker.client.inspect_container(name)
            except Exception:  # pylint: disable=broad-except
                out[name] = None
        return out


def run(params, adapter, check_mode, clock=time.monotonic, sleep=time.sleep):
    """The module's work: inventory, plan, act (unless ``check_mode``), wait, summarise."""
    validate(params)
    units = adapter.units(params['unit_patterns']) if params['unit_patterns'] else []
    containers = adapter.containers(params['container_patterns']) if params['container_patterns'] else []
    plan = make_plan(units, containers, dict(params, now_us=int(clock() * 10 ** 6)))
    if not check_mode:
        repair(plan, adapter, wait=params['wait'], settle=params['settle'], clock=clock, sleep=sleep)
    return summarise(plan, check_mode=check_mode)
