# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a fleet report is worth a notification, and what it says (for cloudos.ops.cloudos_notify).

Controller-only and private to this collection: no compatibility promise. Pure: a report that
went through ``_report_history.compare``, the notification state of the report root and the
current time in; a decision out. The action plugin reads and the role writes the state file
(``.notify-state.json`` in the report root, written atomically after a notification went out).

The rule
  * the fleet's state changed (``changes.changed``: a new critical or warning finding, a
    resolved one, a host that appeared or disappeared): one notification, reason ``change``;
  * else, while something is critical (a critical finding, which includes unreachable and
    errored hosts), a reminder when the last notification is at least ``reminder`` seconds old
    (or there was none), reason ``reminder``;
  * else nothing: an unchanged re-run is silent.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._common import CRITICAL, WARNING, parse_time, rfc3339
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_history import finding_key, headline

STATE_FILE = '.notify-state.json'
ALERT_NAME = 'CloudOSHealthFinding'


def _alert(finding, status, url=''):
    alert = {
        'name': ALERT_NAME,
        'status': status,
        'severity': finding['severity'] if finding['severity'] in (CRITICAL, WARNING) else 'info',
        'summary': '%s %s: %s' % (finding['host'], finding['check'], finding['message']),
        'description': finding.get('action') or '',
        'source': finding['host'],
        'key': '%s/%s/%s/%s' % (ALERT_NAME, finding['host'], finding['check'], finding_key(finding)),
        'labels': {'check': finding['check'], 'change': finding.get('change') or ''},
    }
    if finding.get('first_seen'):
        alert['starts_at'] = finding['first_seen']
    if url:
        alert['url'] = url
    return alert


def _unique(alerts):
    seen, out = set(), []
    for alert in alerts:
        if (alert['key'], alert['status']) not in seen:
            seen.add((alert['key'], alert['status']))
            out.append(alert)
    return out


def decide(report, state, now, reminder, url=''):
    """``{'due', 'reason', 'alerts', 'title', 'state'}``; ``state`` is what to remember when sent.

    ``state`` in: the parsed state file (``{'last_sent': RFC 3339, ...}``) or None; ``now`` an
    aware datetime; ``reminder`` seconds (0: a reminder on every run while something is critical).
    """
    changes = report.get('changes') or {}
    critical = [f for f in report['findings'] if f['severity'] == CRITICAL]
    last = parse_time((state or {}).get('last_sent')) if isinstance(state, dict) else None
    reason = None
    alerts = []
    if changes.get('changed'):
        reason = 'change'
        alerts = [_alert(f, 'firing', url) for f in changes.get('new', []) if f['severity'] in (CRITICAL, WARNING)]
        alerts += [_alert(f, 'resolved', url) for f in changes.get('resolved', [])]
        if not alerts:
            alerts = [{'name': 'CloudOSFleetChanged', 'status': 'firing', 'severity': 'info',
                       'summary': headline(changes), 'key': 'CloudOSFleetChanged', 'url': url or ''}]
    elif critical and (last is None or (now - last).total_seconds() >= reminder):
        reason = 'reminder'
        alerts = [_alert(f, 'firing', url) for f in critical]
    summary = report['summary']
    title = '%s: %s%s' % (report['title'], summary['status'], (' \u2014 ' + headline(changes)) if changes else '')
    if reason == 'reminder':
        title = '%s (reminder: %d critical finding%s)' % (title, len(critical), '' if len(critical) == 1 else 's')
    return {
        'due': reason is not None,
        'reason': reason,
        'alerts': _unique(alerts),
        'title': title,
        'state': {'last_sent': rfc3339(now), 'reason': reason, 'status': summary['status'],
                  'critical': len(critical)} if reason else (state or {}),
    }
