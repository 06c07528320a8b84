# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health gate, capacity trend and report entry of the maintenance role (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance as m
from ansible_collections.cloudos.ops.plugins.plugin_utils import _report


def health(services='ok', containers='ok', alerts='ok', findings=()):
    return {'status': 'ok', 'checks': {'services': {'status': services}, 'containers': {'status': containers},
                                       'alerts': {'status': alerts}},
            'findings': [dict(f) for f in findings]}


FAILED_UNIT = {'check': 'services', 'severity': 'critical', 'message': 'cloudos-api failed', 'action': 'restart it'}
SLOW = {'check': 'containers', 'severity': 'warning', 'message': 'cloudos-web restarted 6 times', 'action': ''}


def test_gate_stops_when_a_host_ends_worse_and_says_why():
    gate = m.health_gate(health(), health(services='critical', findings=[FAILED_UNIT]))
    assert gate['stop'] and gate['before'] == 'ok' and gate['after'] == 'critical'
    assert 'health went from ok to critical' in gate['reason'] and 'cloudos-api failed' in gate['reason']
    assert gate['new_findings'] == [FAILED_UNIT]


def test_gate_passes_when_nothing_got_worse_or_things_improved():
    assert not m.health_gate(health(containers='warning', findings=[SLOW]), health(containers='warning', findings=[SLOW]))['stop']
    better = m.health_gate(health(services='critical', findings=[FAILED_UNIT]), health())
    assert not better['stop'] and better['resolved_findings'] == [FAILED_UNIT]


def test_gate_levels():
    warn = (health(), health(containers='warning', findings=[SLOW]))
    assert m.health_gate(*warn, gate='worse')['stop']
    assert not m.health_gate(*warn, gate='critical')['stop']
    assert not m.health_gate(health(), health(services='critical', findings=[FAILED_UNIT]), gate='never')['stop']
    # already critical before, a new critical finding still stops a 'critical' gate
    other = dict(FAILED_UNIT, message='cloudos-scheduler failed')
    assert m.health_gate(health(services='critical', findings=[FAILED_UNIT]),
                         health(services='critical', findings=[FAILED_UNIT, other]), gate='critical')['stop']


def test_gate_ignores_checks_and_stops_without_a_record():
    assert not m.health_gate(health(), health(alerts='critical', findings=[{'check': 'alerts', 'severity': 'critical',
                                                                            'message': 'x'}]),
                             ignore_checks=['alerts'])['stop']
    missing = m.health_gate(health(), None)
    assert missing['stop'] and 'after' in missing['reason']
    with pytest.raises(m.MaintenanceError, match='maintenance_health_gate'):
        m.health_gate(health(), health(), gate='sometimes')


def test_series_summary_trend_and_days_to_full():
    day = 86400
    values = [[i * day, str(50 + i)] for i in range(11)]  # +1 point a day, from 50 to 60
    summary = m.series_summary(values)
    assert summary['points'] == 11 and summary['first'] == 50 and summary['last'] == 60
    assert summary['trend_per_day'] == pytest.approx(1.0)
    assert summary['days_to_full'] == pytest.approx(40.0)
    assert m.series_summary([[0, '30'], [day, '30']])['days_to_full'] is None
    assert m.series_summary([]) == {'points': 0}
    findings = m.capacity_findings({'disk:/': summary, 'short': dict(summary, span_days=1)}, warn_days=45, critical_days=7)
    assert [f['metric'] for f in findings] == ['disk:/'] and findings[0]['severity'] == 'warning'


def test_host_report_renders_through_the_fleet_report():
    data = {
        'checked_at': '2024-02-01T12:00:00Z',
        'gate': m.health_gate(health(), health(services='critical', findings=[FAILED_UNIT])),
        'updates': {'updates': {'manager': 'apt', 'count': 3, 'security_count': 1, 'security': ['libssl3']}},
        'docker': {'plan': {'scope': ['dangling_images'], 'images': [{'id': 'a'}, {'id': 'b'}]}, 'bytes_freed': 2500000,
                   'not_removed': [{'kind': 'images', 'id': 'b', 'reason': 'tagged since the plan'}]},
        'journal': {'removed': [{'path': 'x'}], 'bytes_freed': 8388608, 'disk_usage': 'take up 8.0M'},
        'logrotate': {'needed': 2, 'forced': False, 'configs': ['/etc/logrotate.conf'], 'result': {}},
        'backup': {'verify': {'verified': [{'backup_id': '20240131T020000Z', 'ok': True}]},
                   'created_at': '2024-01-30T02:00:00Z', 'max_age_hours': '26'},
        'error': None,
    }
    entry = m.host_report(data)
    assert entry['status'] == 'critical'
    assert entry['checks']['health']['status'] == 'critical'
    assert 'Rollout stopped here' in entry['checks']['health']['findings'][0]['message']
    assert entry['checks']['updates']['status'] == 'warning' and entry['checks']['updates']['metrics']['security'] == 1
    assert entry['checks']['docker']['metrics']['bytes_freed'] == 2500000 and entry['checks']['docker']['metrics']['images'] == 2
    assert entry['checks']['backup']['status'] == 'warning'  # 58 hours old, limit 26
    assert entry['checks']['backup']['metrics']['age_hours'] == 58.0
    report = _report.build_report([_report.normalize_result('web-1', {'maintenance': entry}, key='maintenance')],
                                  kind='maintenance', fail_on='never')
    assert report['hosts'][0]['status'] == 'critical'
    text = _report.render_markdown(report)
    assert 'Rollout stopped here' in text
    assert 'freed 2.5 MB' in _report.render_json(report)


def test_host_report_failed_task_and_missing_backup():
    entry = m.host_report({'error': {'task': 'Vacuum the journal', 'msg': 'boom'},
                           'backup': {'verify': {'failed': True, 'msg': 'no complete backup set in /backup/cloudos'}}})
    assert entry['status'] == 'critical'
    assert 'Vacuum the journal' in entry['checks']['run']['summary']
    assert 'no complete backup set' in entry['checks']['backup']['findings'][0]['message']
