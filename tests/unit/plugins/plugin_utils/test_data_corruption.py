"""The data-corruption report entry: one check per step of the runbook."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.plugin_utils import _data_corruption as dc

DIFFERS = {'backup_id': '20261201', 'restored': [{'target': '/etc/cloudos', 'changed': True},
                                                 {'target': '/opt/cloudos/config', 'changed': False}]}
SAME = {'backup_id': '20261201', 'restored': [{'target': '/etc/cloudos', 'changed': False}]}
WRITERS = {'units': ['cloudos-api.service'], 'containers': ['cloudos-web'], 'changed': True}
HEALTHY = {'health': {'status': 'ok', 'findings': []}}
SKIPPED = {'skipped': True}


def test_clean_host_is_untouched():
    record = dc.record({'precheck': SAME, 'writers': SKIPPED, 'resumed': SKIPPED, 'health': HEALTHY})
    assert record['status'] == 'ok'
    assert record['checks']['assess']['summary'] == 'live data matches set 20261201'
    assert [record['checks'][s]['status'] for s in ('writers', 'restore', 'integrity', 'resume')] == ['skipped'] * 4


def test_corruption_restored_and_resumed():
    record = dc.record({'precheck': DIFFERS, 'writers': WRITERS, 'scope': DIFFERS, 'integrity': SAME,
                        'resumed': WRITERS, 'health': HEALTHY})
    assert record['checks']['assess']['status'] == 'warning'
    assert record['checks']['assess']['summary'] == '1 source(s) differ from set 20261201: /etc/cloudos'
    assert record['checks']['writers']['summary'] == 'stopped 1 unit(s) and 1 container(s)'
    assert record['checks']['restore']['summary'] == 'restored set 20261201 (1 source(s))'
    assert record['checks']['integrity']['status'] == 'ok'
    assert record['checks']['resume']['summary'] == 'started 1 unit(s) and 1 container(s) again'
    assert record['status'] == 'warning'


def test_failed_restore_keeps_writers_stopped_and_is_critical():
    record = dc.record({'precheck': DIFFERS, 'writers': WRITERS, 'scope': DIFFERS, 'resumed': SKIPPED,
                        'health': {'health': {'status': 'critical', 'findings': [
                            {'check': 'services', 'severity': 'critical', 'message': 'cloudos-api inactive'}]}}},
                       failed_step='Step 3 of 5 - restore: no space left')
    assert record['status'] == 'critical'
    assert record['checks']['restore']['findings'][0]['message'] == 'the runbook stopped at Step 3 of 5 - restore: no space left'
    assert record['checks']['resume']['summary'] == 'writers left stopped'
    assert [f['check'] for f in record['findings']] == ['assess', 'restore', 'resume', 'health']


def test_integrity_failure_is_critical_and_check_mode_says_would():
    record = dc.record({'precheck': DIFFERS, 'writers': WRITERS, 'scope': DIFFERS, 'integrity': DIFFERS,
                        'resumed': WRITERS, 'health': HEALTHY})
    assert record['checks']['integrity']['status'] == 'critical'
    preview = dc.record({'precheck': DIFFERS, 'writers': WRITERS, 'scope': DIFFERS, 'integrity': DIFFERS,
                         'resumed': WRITERS, 'health': HEALTHY}, check_mode=True)
    assert preview['checks']['writers']['summary'].startswith('would stop')
    assert preview['checks']['integrity']['status'] == 'skipped'


def test_no_set_to_compare_with_is_critical():
    record = dc.record({'precheck': {'failed': False, 'msg': 'no complete backup set in /backup/cloudos'}})
    assert record['checks']['assess']['status'] == 'critical'
    assert 'no complete backup set' in record['findings'][0]['message']
