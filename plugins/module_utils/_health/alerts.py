# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``alerts`` section: alerts firing in Alertmanager, through API v2 (v1 answers 410 since 0.27).

Only active alerts that are neither silenced nor inhibited count. They are counted by
their ``severity`` label: more than ``alerts_critical`` (default 0) critical ones make
the section critical (one finding per alert); more than ``alerts_warning`` (default 2)
warning ones make it a warning (one finding naming them).
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import (
    AlertmanagerClient, AlertmanagerError, format_matcher)
from ansible_collections.cloudos.ops.plugins.module_utils._http import get_only
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, not_answering, not_installed)
from ansible_collections.cloudos.ops.plugins.module_utils._health.monitoring import (
    CONTAINER_HINTS, counted_here, units_for)

MAX_LISTED = 20


def parse_alerts(data):
    """``[{alertname, severity, summary, starts_at, instance}]`` from an API v2 alert list."""
    if not isinstance(data, list):
        raise ValueError('expected a JSON list of alerts, got %s' % type(data).__name__)
    out = []
    for alert in data:
        if not isinstance(alert, dict):
            raise ValueError('an alert is not a JSON object: %r' % (alert,))
        state = (alert.get('status') or {}).get('state', 'active')
        if state != 'active':
            continue
        labels = alert.get('labels') or {}
        notes = alert.get('annotations') or {}
        out.append({
            'alertname': labels.get('alertname', '(no alertname)'),
            'severity': (labels.get('severity') or 'none').lower(),
            'summary': notes.get('summary') or notes.get('description') or '',
            'instance': labels.get('instance', ''),
            'starts_at': alert.get('startsAt', ''),
        })
    out.sort(key=lambda a: ({'critical': 0, 'warning': 1}.get(a['severity'], 2), a['alertname']))
    return out


def label(alert):
    text = alert['alertname']
    if alert['instance']:
        text += ' on %s' % alert['instance']
    if alert['summary']:
        text += ': %s' % alert['summary']
    return text


def evaluate(sec, alerts, thresholds):
    crit = [a for a in alerts if a['severity'] in ('critical', 'page', 'error')]
    warn = [a for a in alerts if a['severity'] == 'warning']
    other = len(alerts) - len(crit) - len(warn)
    sec.metrics.update({'firing': len(alerts), 'critical': len(crit), 'warning': len(warn), 'other': other})
    if len(crit) > thresholds['alerts_critical']:
        for alert in crit[:MAX_LISTED]:
            sec.add(CRITICAL, 'critical alert firing: %s' % label(alert),
                    'Investigate now (guide: any critical alert); silence it with cloudos.ops.alertmanager_silence '
                    'only for planned maintenance', metric='critical', value=len(crit), threshold=thresholds['alerts_critical'])
    if len(warn) > thresholds['alerts_warning']:
        names = ', '.join(label(a) for a in warn[:MAX_LISTED])
        sec.add(WARNING, '%d warning alerts firing (more than %s): %s' % (len(warn), thresholds['alerts_warning'], names),
                'Investigate (guide: more than 2 warnings)', metric='warning', value=len(warn),
                threshold=thresholds['alerts_warning'])
    sec.details['alerts'] = alerts[:100]
    if not alerts:
        sec.summary = 'no alerts firing'
    else:
        sec.summary = '%d firing: %d critical, %d warning%s' % (len(alerts), len(crit), len(warn),
                                                                ', %d other' % other if other else '')


def read_firing(sec, host, params, labels=None, what='firing alerts', unknown='firing alerts unknown', action=None,
                required=None, refer_to=None):
    """Firing alerts (active, neither silenced nor inhibited, with ``labels``) as :func:`parse_alerts`
    gives them, through ``AlertmanagerClient``; or ``None`` with ``sec`` made absent or critical.

    ``required`` (a list) reports a missing Alertmanager as :func:`core.not_installed` does.
    ``refer_to`` (a section name): when Alertmanager does not answer at all (refused, no
    connection) that section reports the outage; ``sec`` is then ``skipped`` and says so
    instead of counting the same outage a second time.
    """
    base = params['alertmanager_url']
    client = AlertmanagerClient(base, timeout=None, send=get_only(host.http_get))
    matchers = [format_matcher(name, '=', str(value)) for name, value in sorted((labels or {}).items())]
    try:
        return parse_alerts(client.list_alerts(active=True, silenced=False, inhibited=False, unprocessed=None,
                                               matchers=matchers))
    except (AlertmanagerError, ValueError) as exc:
        err = exc
    sec.summary = unknown
    if getattr(err, 'kind', 'invalid') == 'invalid':
        sec.add(CRITICAL, 'Alertmanager at %s answered something that is not an API v2 alert list: %s'
                % (getattr(err, 'url', None) or base, getattr(err, 'message', err)),
                'Check that alertmanager_url points at Alertmanager >= 0.16')
        return None
    state, evidence = not_answering(host, err, units_for(params, 'alertmanager'), CONTAINER_HINTS['alertmanager'])
    if state == 'absent':
        sec.set_absent('Alertmanager not installed (nothing answers at %s)' % base)
        if required is not None:
            not_installed(sec, 'alerts', required, 'Alertmanager', sec.summary)
        return None
    if refer_to and getattr(err, 'kind', '') in ('refused', 'connection'):
        sec.skipped = True
        sec.summary = '%s: Alertmanager is not answering, counted under %s' % (unknown, refer_to)
        sec.details['not_answering'] = '%s%s' % ('%s but ' % evidence if evidence else '', err.message)
        return None
    sec.add(CRITICAL, 'cannot list %s: %s%s' % (what, '%s but ' % evidence if evidence else '', err.message),
            action or 'Bring Alertmanager back (see the monitoring check), then review alerts: amtool alert query')
    return None


def probe(host, params, thresholds):
    sec = Section('alerts')
    alerts = read_firing(sec, host, params, required=params.get('required') or [],
                         refer_to='monitoring' if counted_here(params) else None)
    if alerts is not None:
        evaluate(sec, alerts, thresholds)
    return sec
