# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The repair role's memory across runs, kept on the controller: restart budgets and escalations.

Controller-only (plugin_utils): the role reads the state file, asks :func:`budget` how many
restarts each unit and container of a host has left, runs the repair, then folds the results in
with :func:`update` and asks :func:`escalations` what to tell people. The file is untrusted input
like any other (:func:`load` checks its shape); it never holds secrets.

State (``cloudos.ops/repair-state/v1``)::

    {"schema": "cloudos.ops/repair-state/v1",
     "items": {"<host>|unit:cloudos-api.service": {
         "first_seen": "2026-12-01T07:00:00Z",   # first run that found it broken (cleared when healthy)
         "attempts": ["2026-12-01T07:00:05Z"],   # our restarts inside the budget window
         "escalated": "2026-12-01T07:10:00Z",     # when people were told (cleared by a resolve)
         "summary": "failed (exit-code)"}}}
"""

from __future__ import annotations

import json

from datetime import timedelta

from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_time, rfc3339

SCHEMA = 'cloudos.ops/repair-state/v1'
MAX_BYTES = 4 * 1024 * 1024


class StateError(ValueError):
    """A state file that is not what the repair role writes; the message names the file."""


def empty():
    return {'schema': SCHEMA, 'items': {}}


def load(text, path='repair state'):
    """Parse and check a state file's text (``''`` or ``None``: no state yet)."""
    if text is not None and len(text) > MAX_BYTES:
        raise StateError('%s is larger than %d bytes: not a repair state file' % (path, MAX_BYTES))
    if text is None or not str(text).strip():
        return empty()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError('%s is not JSON (%s): fix or remove it; the repair role will not overwrite it' % (path, exc))
    if not isinstance(data, dict) or data.get('schema') != SCHEMA or not isinstance(data.get('items'), dict):
        raise StateError('%s is not a %s file' % (path, SCHEMA))
    items = {}
    for key, entry in data['items'].items():
        if not isinstance(key, str) or '|' not in key or not isinstance(entry, dict):
            raise StateError('%s: entry %r is malformed' % (path, key))
        attempts = entry.get('attempts') or []
        if not isinstance(attempts, list) or not all(parse_time(a) for a in attempts):
            raise StateError('%s: entry %r has attempts that are not RFC 3339 times' % (path, key))
        for field in ('first_seen', 'escalated'):
            if entry.get(field) is not None and parse_time(entry[field]) is None:
                raise StateError('%s: entry %r has a %s that is not an RFC 3339 time' % (path, key, field))
        items[key] = {'first_seen': entry.get('first_seen'), 'attempts': list(attempts),
                      'escalated': entry.get('escalated'), 'summary': str(entry.get('summary') or '')}
    return {'schema': SCHEMA, 'items': items}


def _recent(attempts, now, window):
    since = now - timedelta(seconds=window)
    return [a for a in attempts if since <= parse_time(a) <= now]


def budget(state, host, max_restarts, window, now):
    """``{"unit:x": restarts left}`` for the items of ``host`` that the state knows."""
    out = {}
    prefix = host + '|'
    for key, entry in state['items'].items():
        if key.startswith(prefix):
            out[key[len(prefix):]] = max(0, int(max_restarts) - len(_recent(entry['attempts'], now, window)))
    return out


def update(state, results, now, window):
    """A new state with ``results`` (host -> cloudos_repair result) folded in.

    Our restarts are remembered inside the budget window; an item that is broken gets its
    ``first_seen`` (kept from earlier runs); an item that is healthy now is forgotten unless it was
    escalated and the resolve has not been sent yet (:func:`escalations` sends it, then
    :func:`mark_resolved` forgets it).
    """
    items = dict((k, dict(v)) for k, v in state['items'].items())
    stamp = rfc3339(now)
    for host, result in sorted(results.items()):
        for entry in result.get('decisions') or []:
            key = '%s|%s' % (host, entry['key'])
            known = items.get(key) or {'first_seen': None, 'attempts': [], 'escalated': None, 'summary': ''}
            known['attempts'] = _recent(known['attempts'], now, window)
            if entry.get('action') and not entry.get('refused') and not str(entry.get('result', '')).startswith('would '):
                known['attempts'].append(stamp)
            broken = not entry.get('healthy') and entry.get('result') != 'recovered'
            if broken and entry.get('disposition') == 'left alone' and not entry.get('action'):
                broken = False  # a person's decision (stopped, paused): not an incident of ours
            if broken:
                known['first_seen'] = known['first_seen'] or stamp
                known['summary'] = entry.get('reason') or known['summary']
                items[key] = known
            elif known['escalated'] or known['attempts']:
                known['first_seen'] = None
                items[key] = known
            else:
                items.pop(key, None)
    return {'schema': SCHEMA, 'items': items}


def escalations(state, results, now, escalate_after, alert_name='CloudOSRepairFailed'):
    """Alerts for cloudos_notify: ``firing`` for items broken for ``escalate_after`` seconds (or that
    repair must not touch again) and not escalated yet; ``resolved`` for escalated items that are
    healthy now. Returns ``(alerts, escalated_keys, resolved_keys)``."""
    alerts, fired, resolved = [], [], []
    for host, result in sorted(results.items()):
        wanted = set(result.get('escalate') or [])
        for entry in result.get('decisions') or []:
            key = '%s|%s' % (host, entry['key'])
            known = state['items'].get(key)
            if known is None:
                continue
            labels = {entry['kind']: entry['name']}
            if entry['key'] in wanted and not known.get('escalated'):
                first = parse_time(known.get('first_seen')) or now
                if entry.get('disposition') == 'escalate' or (now - first).total_seconds() >= escalate_after:
                    alerts.append({'name': alert_name, 'status': 'firing', 'severity': 'critical', 'source': host,
                                   'key': '%s/%s' % (host, entry['key']), 'labels': labels,
                                   'summary': '%s %s: %s' % (entry['kind'], entry['name'], entry.get('reason') or 'still failing'),
                                   'starts_at': known.get('first_seen')})
                    fired.append(key)
            elif known.get('escalated') and entry['key'] not in wanted and (entry.get('healthy') or entry.get('result') == 'recovered'):
                alerts.append({'name': alert_name, 'status': 'resolved', 'severity': 'critical', 'source': host,
                               'key': '%s/%s' % (host, entry['key']), 'labels': labels,
                               'summary': '%s %s is healthy again' % (entry['kind'], entry['name'])})
                resolved.append(key)
    return alerts, fired, resolved


def mark(state, fired, resolved, now):
    """The state after the notifications for ``fired`` and ``resolved`` keys were sent."""
    items = dict((k, dict(v)) for k, v in state['items'].items())
    for key in fired:
        if key in items:
            items[key]['escalated'] = rfc3339(now)
    for key in resolved:
        entry = items.get(key)
        if entry is not None:
            entry['escalated'] = None
            if not entry['attempts'] and not entry['first_seen']:
                items.pop(key)
    return {'schema': SCHEMA, 'items': items}


def dump(state):
    return json.dumps(state, indent=2, sort_keys=True) + '\n'


# --------------------------------------------------------------------------- report

def report_section(result, check_mode=False):
    """The ``repair`` check of a host's report entry, from what cloudos_repair returned."""
    if not isinstance(result, dict) or 'decisions' not in result:
        return {'status': 'critical', 'summary': 'repair did not run', 'metrics': {}, 'findings': [
            {'check': 'repair', 'severity': 'critical', 'message': 'cloudos_repair did not run on this host: %s'
             % (result or {}).get('msg', 'no result'), 'action': 'Run the repair by hand: systemctl status cloudos-*; docker ps -a'}]}
    items = result['decisions']
    acted = [e for e in items if e.get('action')]
    findings = []
    for entry in items:
        if entry['key'] not in (result.get('escalate') or []):
            continue
        what = '%s %s' % (entry['kind'], entry['name'])
        if entry.get('action') and entry.get('result'):
            message = '%s is still not up after %s (%s; now %s)' % (
                what, entry['action'], entry.get('result'), entry.get('state_after', entry.get('state', '?')))
        else:
            message = '%s needs a person: %s' % (what, entry.get('reason'))
        action = ('journalctl -u %s -n 200 --no-pager; systemctl status %s' % (entry['name'], entry['name'])
                  if entry['kind'] == 'unit' else 'docker logs --tail 200 %s; docker inspect %s' % (entry['name'], entry['name']))
        findings.append({'check': 'repair', 'severity': 'critical', 'message': message, 'action': action})
    verb = 'would restart' if check_mode else 'restarted'
    recovered = result.get('recovered') or []
    left = [e for e in items if e['key'] in (result.get('left_alone') or [])]
    parts = ['%s %d' % (verb, len(acted))]
    if acted:
        outcome = [(e['name'], 'recovered' if e['key'] in recovered else e.get('result') or 'planned') for e in acted]
        parts[0] += ' (%s)' % ', '.join('%s %s' % pair for pair in outcome)
    if left:
        parts.append('left alone %d (%s)' % (len(left), '; '.join('%s: %s' % (e['name'], e.get('reason')) for e in left)))
    parts.append('%d need%s a person' % (len(result.get('escalate') or []), '' if len(result.get('escalate') or []) != 1 else 's'))
    summary = ', '.join(parts)
    return {
        'status': 'critical' if findings else 'ok',
        'summary': summary,
        'metrics': {'restarted': len(acted), 'recovered': len(result.get('recovered') or []),
                    'left_alone': len(result.get('left_alone') or []), 'escalate': len(result.get('escalate') or [])},
        'findings': findings,
        'details': {'items': [dict((k, e.get(k)) for k in ('key', 'state', 'action', 'reason', 'result', 'state_after')
                                   if e.get(k) is not None) for e in items]},
    }


def report_record(after, result, check_mode=False):
    """A host's report entry: its health after the repair, plus the ``repair`` check."""
    record = dict(after) if isinstance(after, dict) else {'status': 'critical', 'checks': {}, 'findings': []}
    section = report_section(result, check_mode)
    record['checks'] = dict(record.get('checks') or {}, repair=section)
    record['findings'] = list(record.get('findings') or []) + section['findings']
    return record
