# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``services`` section: systemd units matching ``service_patterns`` (default ``cloudos-*``).

One command whatever the number of units: ``systemctl show`` expands the patterns itself
(to the units systemd has loaded, as ``list-units --all`` would) and prints them all.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, not_installed)
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import SystemdError

SHOW_PROPERTIES = ('Id', 'LoadState', 'ActiveState', 'SubState', 'Result', 'NRestarts', 'TriggeredBy', 'UnitFileState')


def evaluate_unit(unit):
    """``(severity or None, message, action)`` for one ``systemctl show`` block."""
    name = unit.get('Id', '?')
    active = unit.get('ActiveState', '')
    sub = unit.get('SubState', '')
    result = unit.get('Result', '')
    action = 'journalctl -u %s -n 100 --no-pager; systemctl restart %s' % (name, name)
    if active == 'failed':
        return CRITICAL, '%s failed (result %s)' % (name, result or 'unknown'), action
    if active == 'inactive':
        if unit.get('TriggeredBy') and result in ('', 'success'):
            return None, '%s inactive, waits for %s' % (name, unit['TriggeredBy']), ''
        if unit.get('UnitFileState') in ('static',) and result in ('', 'success'):
            return None, '%s inactive (static unit)' % name, ''
        return WARNING, '%s is not running (inactive/%s, last result %s)' % (name, sub, result or 'none'), \
            'systemctl status %s; systemctl start %s' % (name, name)
    if active in ('activating', 'deactivating') and sub in ('auto-restart',):
        return CRITICAL, '%s is restart-looping (%s/%s, %s restarts)' % (name, active, sub, unit.get('NRestarts', '?')), action
    return None, '%s %s/%s' % (name, active, sub), ''


def probe(host, params, thresholds):
    sec = Section('services')
    required = params.get('required') or []
    patterns = params['service_patterns']
    systemd = host.systemd_client()
    if not host.systemd_running():
        reason = systemd.absent_reason()
        sec.set_absent(reason)
        not_installed(sec, 'services', required, 'systemd', reason)
        return sec
    try:
        shown = systemd.show_matching(patterns, SHOW_PROPERTIES)
    except SystemdError as exc:
        sec.summary = 'systemctl show failed'
        sec.add(CRITICAL, 'systemctl show %s failed (rc %s): %s' % (' '.join(patterns), exc.rc, exc.detail),
                'systemctl status; journalctl -p err -b')
        return sec
    units = [u for u in shown if u.get('LoadState') not in ('not-found', None)]
    if not units:
        sec.set_absent('no systemd unit matches %s' % ' '.join(patterns))
        not_installed(sec, 'services', required, 'the CloudOS services', sec.summary)
        return sec
    counts = {}
    details = []
    restarts = 0
    for unit in units:
        state = unit.get('ActiveState', 'unknown')
        counts[state] = counts.get(state, 0) + 1
        try:
            nrestarts = int(unit.get('NRestarts') or 0)
        except ValueError:
            nrestarts = 0
        restarts += nrestarts
        details.append({'unit': unit.get('Id'), 'active': state, 'sub': unit.get('SubState', ''),
                        'result': unit.get('Result', ''), 'restarts': nrestarts})
        severity, message, action = evaluate_unit(unit)
        if severity:
            sec.add(severity, message, action)
    sec.metrics.update({'units': len(units), 'active': counts.get('active', 0), 'failed': counts.get('failed', 0),
                        'inactive': counts.get('inactive', 0), 'restarts': restarts})
    sec.details['units'] = details
    sec.summary = '%d unit%s: %s' % (len(units), '' if len(units) == 1 else 's',
                                     ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())))
    return sec
