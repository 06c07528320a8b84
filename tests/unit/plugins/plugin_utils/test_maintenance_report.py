# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health gate and report entry of the maintenance role (plugins/plugin_utils/_maintenance_report.py).

One test per report section summariser asserts what a reader of the weekly report sees.
"""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.plugin_utils import _maintenance_report as m
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
    # Binary units, as every size in the reports (ansible-core's bytes_to_human): 2500000 bytes.
    assert 'freed 2.38 MB' in _report.render_json(report)


def test_host_report_failed_task_and_missing_backup():
    entry = m.host_report({'error': {'task': 'Vacuum the journal', 'msg': 'boom'},
                           'backup': {'verify': {'failed': True, 'msg': 'no complete backup set in /backup/cloudos'}}})
    assert entry['status'] == 'critical'
    assert 'Vacuum the journal' in entry['checks']['run']['summary']
    assert 'no complete backup set' in entry['checks']['backup']['findings'][0]['message']


# --------------------------------------------------------------------------- one test per summariser

def test_every_section_has_a_summariser_in_report_order():
    assert list(m.SUMMARISERS) == ['health', 'updates', 'logrotate', 'docker', 'images', 'journal', 'backup',
                                   'certificates', 'restore_drill', 'dr_test', 'capacity', 'run']
    # A section that did not run is left out of the report; nothing ran: an empty, ok entry.
    assert m.host_report({}) == {'status': 'ok', 'checked_at': None, 'checks': {}, 'findings': None}
    assert m.host_report({'updates': {'skipped': True}, 'docker': {}})['checks'] == {}


def test_summarise_health_shows_before_and_after_and_each_new_finding():
    stopped = m.summarise_health({'gate': m.health_gate(health(), health(services='critical', findings=[FAILED_UNIT]))})
    assert stopped['status'] == 'critical'
    assert stopped['summary'].startswith('before ok, after critical - health went from ok to critical')
    assert [f['message'] for f in stopped['findings']] == [
        'Rollout stopped here: health went from ok to critical: services: cloudos-api failed',
        'new after maintenance: cloudos-api failed']
    assert stopped['findings'][1]['action'] == 'restart it'
    assert stopped['metrics'] == {'before': 'ok', 'after': 'critical', 'new_findings': 1, 'resolved_findings': 0}
    passed = m.summarise_health({'gate': m.health_gate(health(containers='warning', findings=[SLOW]),
                                                       health(containers='warning', findings=[SLOW]))})
    assert (passed['status'], passed['summary'], passed['findings']) == ('warning', 'before warning, after warning', [])
    assert m.summarise_health({'gate': m.health_gate(health(), health())})['status'] == 'ok'
    assert m.summarise_health({}) is None


def test_summarise_updates_pending_security_applied_and_failed():
    pending = m.summarise_updates({'updates': {'updates': {'manager': 'apt', 'count': 3, 'security_count': 2,
                                                           'security': ['libssl3', 'openssh-server']}}})
    assert (pending['status'], pending['summary']) == ('warning', '3 pending, 2 security')
    assert pending['findings'][0]['message'] == '2 security update(s) pending: libssl3, openssh-server'
    assert pending['metrics'] == {'pending': 3, 'security': 2, 'applied': 0, 'manager': 'apt'}
    applied = m.summarise_updates({'updates': {'updates': {'count': 3, 'security_count': 2}},
                                   'security_applied': {'applied': ['libssl3', 'openssh-server'], 'changed': True}})
    assert (applied['status'], applied['summary'], applied['findings']) == ('ok', '3 pending, 2 security, 2 applied', [])
    broken = m.summarise_updates({'updates': {'updates': {'count': 1, 'security_count': 1, 'security': ['x']}},
                                  'security_applied': {'failed': True, 'msg': 'dpkg was interrupted'}})
    assert broken['status'] == 'critical'
    assert broken['findings'][1]['message'] == 'applying security updates failed: dpkg was interrupted'
    failed = m.summarise_updates({'updates': {'failed': True, 'msg': 'apt-get update: 404'}})
    assert (failed['status'], failed['summary']) == ('critical', 'update check failed: apt-get update: 404')


def test_summarise_logrotate_counts_rotations_and_says_would_in_check_mode():
    data = {'logrotate': {'needed': 2, 'forced': True, 'configs': ['/etc/logrotate.conf'], 'result': {}}}
    check = m.summarise_logrotate(data)
    assert (check['status'], check['summary']) == ('ok', 'rotated 2 log(s) (forced)')
    assert check['metrics'] == {'rotated': 2, 'forced': True, 'configs': ['/etc/logrotate.conf']}
    assert m.summarise_logrotate(dict(data, check_mode=True))['summary'] == 'would rotate 2 log(s) (forced)'
    failed = m.summarise_logrotate({'logrotate': {'result': {'failed': True, 'stderr': 'error: bad line 3'}}})
    assert (failed['status'], failed['summary']) == ('critical', 'logrotate failed: error: bad line 3')


def test_summarise_docker_shows_freed_bytes_in_binary_units_and_what_was_kept():
    data = {'docker': {'plan': {'scope': ['dangling_images', 'build_cache'], 'images': [{'id': 'a'}, {'id': 'b'}],
                                'build_cache': [{'id': 'c'}]}, 'bytes_freed': 5 * 1024 ** 3,
                       'not_removed': [{'kind': 'images', 'id': 'b', 'reason': 'tagged since the plan'}]}}
    check = m.summarise_docker(data)
    assert (check['status'], check['summary']) == ('ok', 'freed 5.00 GB (2 images, 1 build cache)')
    assert check['findings'] == [{'severity': 'info', 'message': 'kept images b: tagged since the plan', 'action': ''}]
    assert check['metrics']['bytes_freed'] == 5 * 1024 ** 3 and check['metrics']['skipped'] == 1
    assert m.summarise_docker({'docker': {'plan': {}}, 'check_mode': True})['summary'] == 'would free 0.00 Bytes (nothing to remove)'
    assert m.summarise_docker({'docker': {'failed': True, 'msg': 'no socket'}})['summary'] == 'Docker clean-up failed: no socket'


def test_summarise_images_lists_each_tag_with_its_size():
    rows = [{'repository': 'cloudos/api', 'tag': '1.4', 'created': '2024-01-30', 'size': 123456789}]
    check = m.summarise_images({'images': {'images': rows}})
    assert (check['status'], check['summary']) == ('ok', '1 image tag(s)')
    assert check['metrics'] == {'images': ['cloudos/api:1.4 2024-01-30 117.74 MB']}
    assert m.summarise_images({'images': {'failed': True, 'msg': 'x'}})['status'] == 'critical'


def test_summarise_journal_shows_files_space_and_usage():
    data = {'journal': {'removed': [{'path': 'a'}, {'path': 'b'}], 'bytes_freed': 8388608, 'usage_before': 9,
                        'usage_after': 1, 'disk_usage': 'Archived and active journals take up 8.0M'}}
    check = m.summarise_journal(data)
    assert (check['status'], check['summary']) == (
        'ok', 'removed 2 file(s), 8.00 MB; Archived and active journals take up 8.0M')
    assert check['metrics'] == {'bytes_freed': 8388608, 'usage_before': 9, 'usage_after': 1}
    assert m.summarise_journal(dict(data, check_mode=True))['summary'].startswith('would remove 2 file(s)')
    assert m.summarise_journal({'journal': {'failed': True, 'msg': 'boom'}})['summary'] == 'journal vacuum failed: boom'


def test_summarise_backup_age_damage_and_no_set():
    fresh = m.summarise_backup({'checked_at': '2024-02-01T12:00:00Z', 'backup': {
        'verify': {'verified': [{'backup_id': 'old', 'ok': True}, {'backup_id': '20240201T020000Z', 'ok': True}]},
        'created_at': '2024-02-01T02:00:00Z', 'max_age_hours': 26}})
    assert (fresh['status'], fresh['summary'], fresh['findings']) == ('ok', 'newest set 20240201T020000Z, 10.0 h old', [])
    assert fresh['metrics'] == {'backup_id': '20240201T020000Z', 'created_at': '2024-02-01T02:00:00Z', 'age_hours': 10.0}
    old = m.summarise_backup({'backup': {'verify': {'verified': [{'backup_id': 'b1', 'ok': True}]},
                                         'age_hours': 30.0, 'max_age_hours': '26'}})
    assert old['status'] == 'warning'
    assert old['findings'][0]['message'] == 'newest backup set is 30.0 hours old (limit 26.0)'
    assert (old['findings'][0]['value'], old['findings'][0]['threshold']) == (30.0, 26.0)
    damaged = m.summarise_backup({'backup': {'verify': {'verified': [
        {'backup_id': 'b2', 'ok': False, 'mismatches': [{'file': 'db.sql', 'problem': 'sha256 differs'}]}]}}})
    assert damaged['status'] == 'critical'
    assert damaged['findings'][0]['message'] == 'backup set b2 does not verify: db.sql: sha256 differs'
    none = m.summarise_backup({'backup': {'verify': {'failed': True, 'msg': 'no complete backup set'}}})
    assert (none['status'], none['summary']) == ('critical', 'newest set none')
    assert none['findings'][0]['message'] == 'no backup set verified: no complete backup set'


def test_summarise_certificates_takes_the_health_section_as_it_is():
    section = {'status': 'warning', 'summary': '1 certificate expires within 30 days', 'metrics': {'days': 12},
               'findings': [{'severity': 'warning', 'message': 'api.crt expires in 12 days', 'action': 'renew'}]}
    check = m.summarise_certificates({'certificates': {'health': {'checks': {'certificates': section}}}})
    assert check == section
    missing = m.summarise_certificates({'certificates': {'health': {'checks': {}}}})
    assert (missing['status'], missing['summary']) == ('critical', 'certificate check failed: failed')


def test_summarise_restore_drill_and_dr_test_pass_or_fail_as_a_whole():
    drill = m.summarise_restore_drill({'restore_drill': {'summary': '3 sources restored and compared', 'metrics': {'sources': 3}}})
    assert (drill['status'], drill['summary'], drill['metrics']) == ('ok', '3 sources restored and compared', {'sources': 3})
    assert m.summarise_dr_test({'dr_test': {'changed': False}})['summary'] == 'disaster-recovery test passed'
    failed = m.summarise_dr_test({'dr_test': {'failed': True, 'msg': 'standby did not answer'}})
    assert (failed['status'], failed['summary']) == ('critical', 'disaster-recovery test failed: standby did not answer')
    assert m.summarise_restore_drill({}) is None
    assert m.summarise_restore_drill.__name__ == 'summarise_restore_drill'


def test_summarise_capacity_one_line_per_series_and_the_module_findings():
    finding = {'check': 'capacity', 'severity': 'warning', 'message': 'disk:/ is at 72.5 % and grows 0.80 points a day'}
    check = m.summarise_capacity({'capacity': {'capacity': {'days': 30, 'findings': [finding],
                                                            'series': {'disk:/': {'last': 72.5, 'trend_per_day': 0.8}}}}})
    assert (check['status'], check['summary']) == ('warning', '1 series over 30 days')
    assert check['metrics'] == {'disk:/': '72.5% now, 0.8/day'}
    assert check['findings'] == [finding]
    critical = m.summarise_capacity({'capacity': {'capacity': {'days': 30, 'findings': [dict(finding, severity='critical')]}}})
    assert critical['status'] == 'critical'
    assert m.summarise_capacity({'capacity': {'capacity': {'days': 30}}})['status'] == 'ok'
    assert m.summarise_capacity({'capacity': {'failed': True, 'msg': 'Prometheus 503'}})['summary'] == \
        'capacity summary failed: Prometheus 503'


def test_summarise_run_names_the_task_the_maintenance_failed_at():
    check = m.summarise_run({'error': {'task': 'Prune Docker', 'msg': 'socket closed'}})
    assert (check['status'], check['summary']) == ('critical', 'failed at "Prune Docker": socket closed')
    assert check['findings'][0]['message'] == 'maintenance failed at task "Prune Docker": socket closed'
    assert m.summarise_run({'error': None}) is None
