# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``alerts``: API v2 alert lists counted by severity against the guide's rule
(more than 2 warnings, or any critical)."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._health import alerts

from health_fakes import THRESHOLDS, FakeHost, params

URL = 'http://localhost:9093/api/v2/alerts?active=true&silenced=false&inhibited=false'


def alert(name, severity, summary='', state='active'):
    return {'labels': {'alertname': name, 'severity': severity, 'instance': 'node1:9100'},
            'annotations': {'summary': summary} if summary else {},
            'status': {'state': state, 'silencedBy': [], 'inhibitedBy': []}, 'startsAt': '2026-11-26T05:00:00Z'}


def run(data, **p):
    host = FakeHost(urls={URL: (200, data)})
    return alerts.probe(host, params(**p), THRESHOLDS), host


@pytest.mark.parametrize('crit, warn, status', [
    (0, 0, 'ok'), (0, 2, 'ok'), (0, 3, 'warning'), (1, 0, 'critical'), (1, 3, 'critical')])
def test_guide_rule(crit, warn, status):
    data = [alert('C%d' % i, 'critical') for i in range(crit)] + [alert('W%d' % i, 'warning') for i in range(warn)]
    sec, dummy = run(data)
    assert sec.status == status
    assert sec.metrics['critical'] == crit and sec.metrics['warning'] == warn


def test_findings_name_alert_and_summary():
    sec, host = run([alert('DiskFull', 'critical', '/ is 97% full'), alert('HighCPUUsage', 'warning', 'CPU > 80%'),
                     alert('HighMemory', 'warning'), alert('SlowDisk', 'warning'), alert('Info', 'info')])
    assert host.fetched == [URL]
    crit = [f for f in sec.findings if f['severity'] == 'critical']
    assert crit[0]['message'] == 'critical alert firing: DiskFull on node1:9100: / is 97% full'
    warn = [f for f in sec.findings if f['severity'] == 'warning'][0]
    assert warn['message'].startswith('3 warning alerts firing (more than 2): HighCPUUsage on node1:9100: CPU > 80%')
    assert (warn['value'], warn['threshold']) == (3, 2)
    assert sec.summary == '5 firing: 1 critical, 3 warning, 1 other'
    assert [a['alertname'] for a in sec.details['alerts']][:1] == ['DiskFull']


def test_suppressed_alerts_do_not_count():
    sec, dummy = run([alert('C', 'critical', state='suppressed')])
    assert sec.status == 'ok' and sec.summary == 'no alerts firing'


def test_thresholds_override():
    sec, dummy = run([alert('W%d' % i, 'warning') for i in range(4)], thresholds={})
    assert sec.status == 'warning'
    sec = alerts.probe(FakeHost(urls={URL: (200, [alert('W%d' % i, 'warning') for i in range(4)])}), params(),
                       dict(THRESHOLDS, alerts_warning=5))
    assert sec.status == 'ok'


def test_absent_when_nothing_answers_and_nothing_installed():
    sec = alerts.probe(FakeHost(), params(), THRESHOLDS)
    assert sec.status == 'absent'


def test_down_when_refused_but_unit_exists_is_critical_when_monitoring_does_not_run():
    # Changed (issue 17): only when this run has no monitoring section to count the outage.
    sec = alerts.probe(FakeHost(units=['prometheus-alertmanager.service']), params(checks=['alerts']), THRESHOLDS)
    assert sec.status == 'critical'
    assert 'systemd unit prometheus-alertmanager.service exists but' in sec.findings[0]['message']


def test_alertmanager_down_is_counted_once_under_monitoring_and_alerts_refers_to_it():
    from ansible_collections.cloudos.ops.plugins.module_utils._health import monitoring
    host = FakeHost(units=['prometheus-alertmanager.service'])
    sec = alerts.probe(host, params(), THRESHOLDS)
    assert sec.status == 'skipped' and sec.findings == []
    assert 'counted under monitoring' in sec.summary
    mon = monitoring.probe(host, params(), THRESHOLDS)
    assert [f['message'] for f in mon.findings if 'Alertmanager' in f['message']]


def test_garbage_answer_is_critical():
    sec = alerts.probe(FakeHost(urls={URL: (200, '<html>proxy</html>')}), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'not an API v2 alert list' in sec.findings[0]['message']
    sec = alerts.probe(FakeHost(urls={URL: (200, {'status': 'success', 'data': []})}), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'expected a JSON list' in sec.findings[0]['message']


def test_v1_gone_is_reported_as_such():
    sec = alerts.probe(FakeHost(urls={URL: (410, 'gone')}), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'HTTP 410' in sec.findings[0]['message']


def test_v1_gone_keeps_the_client_hint():
    sec = alerts.probe(FakeHost(urls={URL: (410, 'gone')}), params(), THRESHOLDS)
    assert 'does not serve Alertmanager API v2' in sec.findings[0]['message']


@pytest.mark.parametrize('answer', [[1, 2], None, 'text', [{'labels': {}}, ['nested']]])
def test_wrong_shaped_answers_are_critical_not_a_crash(answer):
    sec = alerts.probe(FakeHost(urls={URL: (200, answer)}), params(), THRESHOLDS)
    assert sec.status == 'critical' and sec.summary == 'firing alerts unknown'
    assert 'not an API v2 alert list' in sec.findings[0]['message'] and URL in sec.findings[0]['message']


def test_security_alerts_use_the_same_client_with_label_filters():
    from ansible_collections.cloudos.ops.plugins.module_utils import _security
    url = URL + '&filter=team%3D%22security+ops%22'
    host = FakeHost(urls={url: (200, [alert('Intrusion', 'critical')])})
    sec = _security.probe_alerts(host, params(alert_labels={'team': 'security ops'}),
                                 {'security_alerts_critical': 0, 'security_alerts_warning': 0})
    assert host.fetched == [url]
    assert sec.status == 'critical' and sec.findings[0]['message'].startswith('security alert firing: Intrusion')
    gone = _security.probe_alerts(FakeHost(urls={url: (410, 'gone')}), params(alert_labels={'team': 'security ops'}),
                                  {'security_alerts_critical': 0, 'security_alerts_warning': 0})
    assert gone.summary == 'security alerts unknown'
    assert gone.findings[0]['message'].startswith('cannot list firing security alerts: GET %s answered HTTP 410' % url)
    assert 'does not serve Alertmanager API v2' in gone.findings[0]['message']
