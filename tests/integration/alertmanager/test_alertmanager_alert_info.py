"""alertmanager_alert_info against a real Alertmanager: the guide's "check current alerts"."""

from __future__ import annotations

import uuid

from tests.integration.alertmanager.am_helpers import TENANT_HEADER, run_task


def test_lists_and_filters_alerts(alertmanager, proxy):
    tag = uuid.uuid4().hex[:8]
    alertmanager.push_alerts([
        {'alertname': 'HighCPUUsage', 'instance': 'web-01', 'severity': 'warning', 'run': tag},
        {'alertname': 'HighCPUUsage', 'instance': 'web-02', 'severity': 'warning', 'run': tag},
        {'alertname': 'DiskFull', 'instance': 'db-01', 'severity': 'critical', 'run': tag},
    ])
    url = proxy.url('plain')
    run = 'run="%s"' % tag

    everything = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run]})
    assert not everything['changed']
    assert everything['count'] == 3
    assert everything['by_severity'] == {'warning': 2, 'critical': 1}

    web = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run, 'instance=~"web-\\\\d+"']})
    assert sorted(a['labels']['instance'] for a in web['alerts']) == ['web-01', 'web-02']

    critical = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run, {'name': 'severity',
                                                                                   'value': 'critical'}]})
    assert [a['labels']['alertname'] for a in critical['alerts']] == ['DiskFull']

    not_warning = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run, 'severity!="warning"']})
    assert not_warning['count'] == 1

    # Silence web-01 and ask for firing (unsilenced) alerts only, as the guide's morning check does.
    silence = run_task('alertmanager_silence', {'url': url, 'matchers': [run, 'instance="web-01"'],
                                                'created_by': 'integration', 'comment': tag, 'duration': '1h'})
    assert silence['changed']
    firing = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run], 'silenced': False,
                                                  'inhibited': False, 'unprocessed': False})
    assert sorted(a['labels']['instance'] for a in firing['alerts']) == ['db-01', 'web-02']
    assert firing['by_state'] == {'active': 2}
    silenced = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run], 'active': False,
                                                    'inhibited': False, 'unprocessed': False})
    assert [a['labels']['instance'] for a in silenced['alerts']] == ['web-01']
    assert silenced['alerts'][0]['status']['silencedBy'] == [silence['silence_id']]

    by_receiver = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run], 'receiver': 'black.*'})
    assert by_receiver['count'] == 3
    no_receiver = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run], 'receiver': 'pager'})
    assert no_receiver['count'] == 0

    # check mode changes nothing and still reads
    checked = run_task('alertmanager_alert_info', {'url': url, 'matchers': [run]}, check=True)
    assert checked['count'] == 3 and not checked['changed']

    run_task('alertmanager_silence', {'url': url, 'state': 'absent', 'id': silence['silence_id']})


def test_same_connection_options_and_errors(proxy):
    ok = run_task('alertmanager_alert_info', {'url': proxy.url('header'), 'headers': dict([TENANT_HEADER])})
    assert not ok.get('failed') and 'count' in ok
    gone = run_task('alertmanager_alert_info', {'url': proxy.url('gone')})
    assert gone['failed'] and gone['status'] == 410 and 'API v2' in gone['msg']
    bad = run_task('alertmanager_alert_info', {'url': proxy.url('plain'), 'matchers': ['instance=~"(?<=x)y"']})
    assert bad['failed'] and 'lookbehind' in bad['msg']
