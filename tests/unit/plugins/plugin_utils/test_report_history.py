"""History of fleet reports: finding identity, new/still/resolved, the previous run, pruning, and the
"Changes since the last run" of every format (plugins/plugin_utils/_report_history.py and renderers)."""

from __future__ import annotations

import copy
import json

from xml.etree import ElementTree

from ansible_collections.cloudos.ops.plugins.plugin_utils import _report as R, _report_history as H
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_nagios import EXIT_CODES, nagios_line

from tests import report_schema

import report_samples as S

NEW_FINDING = {'check': 'services', 'severity': 'critical', 'message': 'cloudos-api.service is failed',
               'action': 'systemctl status cloudos-api'}


def run(results, started='2025-11-26T06:50:10Z', **kwargs):
    hosts = [R.normalize_result(name, result) for name, result in results.items()]
    kwargs.setdefault('columns', ['system', 'services', 'alerts', 'kubernetes', 'ai_engine'])
    return R.build_report(hosts, title='t', kind='daily_health', started_at=started,
                          finished_at=started.replace('50:10', '50:14'), **kwargs)


def day1():
    return S.fleet()


def day2():
    """ai1: the alert is gone (resolved), the disk warning stays (87 % now), a new critical on web1."""
    fleet = S.fleet()
    ai1 = fleet['ai1']['health']
    ai1['checks']['alerts'] = {'status': 'ok', 'summary': 'no alert firing', 'metrics': {}, 'findings': []}
    disk = dict(S.DISK_FINDING, message='Disk /opt is 87.0 % full', value=87.0)
    ai1['checks']['system']['findings'] = [disk]
    ai1['findings'] = [disk]
    ai1['status'] = 'warning'
    web1 = fleet['web1']['health']
    web1['checks']['services'] = {'status': 'critical', 'summary': '1 failed', 'metrics': {}, 'findings': [NEW_FINDING]}
    web1['findings'] = [NEW_FINDING]
    web1['status'] = 'critical'
    return fleet


def compared(previous=None, current=None, previous_id='2025-11-25T065010Z'):
    before = None if previous is None else json.loads(R.render_json(H.compare(run(previous, '2025-11-25T06:50:10Z'), None)))
    after = run(current or day2(), '2025-11-26T06:50:10Z')
    return H.compare(after, before, previous_id if before else None, '/r/' + previous_id if before else None)


# ----------------------------------------------------------------------------- identity

def test_numbers_in_the_message_do_not_change_identity_the_metric_wins():
    assert H.finding_key({'message': 'disk 86% used'}) == H.finding_key({'message': 'disk  87% used'})
    assert H.finding_key({'message': 'disk 86% used'}) != H.finding_key({'message': 'memory 86% used'})
    assert H.finding_key({'message': 'a', 'metric': 'disk'}) == H.finding_key({'message': 'b 1', 'metric': 'disk'})


def test_the_same_key_twice_on_one_host_and_check_is_told_apart_by_order():
    findings = [{'host': 'h', 'check': 'c', 'message': 'x 1'}, {'host': 'h', 'check': 'c', 'message': 'x 2'}]
    ids = [pair[0] for pair in H.identities(findings)]
    assert len(set(ids)) == 2


# ----------------------------------------------------------------------------- compare

def test_without_history_every_finding_is_new_and_the_report_says_so():
    report = compared()
    assert report['previous_run'] is None
    assert report['changes']['history'] is False
    assert all(f['change'] == 'new' and f['streak'] == 1 for f in report['findings'])
    assert all(f['first_seen'] == '2025-11-26T06:50:10Z' for f in report['findings'])
    assert 'No previous run' in H.headline(report['changes'])
    assert 'No previous run' in R.render_markdown(report)
    assert report_schema.errors(json.loads(R.render_json(report))) == []


def test_new_still_and_resolved_findings_with_first_seen_and_streak():
    report = compared(day1())
    by = dict(((f['host'], f['check']), f) for f in report['findings'])
    assert by[('web1', 'services')]['change'] == 'new'
    disk = by[('ai1', 'system')]
    assert disk['change'] == 'still' and disk['streak'] == 2 and disk['first_seen'] == '2025-11-25T06:50:10Z'
    # The host's own copy of the finding carries the same annotations.
    ai1 = [e for e in report['hosts'] if e['host'] == 'ai1'][0]
    assert ai1['findings'][0]['change'] == 'still' and ai1['findings'][0]['streak'] == 2
    changes = report['changes']
    assert [(f['host'], f['check'], f['change']) for f in changes['resolved']] == [('ai1', 'alerts', 'resolved')]
    assert changes['counts']['new_critical'] == 1 and changes['counts']['resolved'] == 1
    assert changes['changed'] is True
    assert report['previous_run']['run_id'] == '2025-11-25T065010Z'
    assert report_schema.errors(json.loads(R.render_json(report))) == []


def test_the_streak_grows_and_first_seen_stays_over_three_runs():
    two = json.loads(R.render_json(compared(day1())))
    three = H.compare(run(day2(), '2025-11-27T06:50:10Z'), two, '2025-11-26T065010Z', '/r/x')
    disk = [f for f in three['findings'] if f['host'] == 'ai1' and f['check'] == 'system'][0]
    assert (disk['change'], disk['streak'], disk['first_seen']) == ('still', 3, '2025-11-25T06:50:10Z')
    assert three['changes']['changed'] is False
    assert three['changes']['counts']['new'] == 0


def test_an_unreachable_host_resolves_nothing_and_hosts_that_come_and_go_are_listed():
    now = day1()
    now['ai1'] = {'unreachable': True, 'msg': 'no route'}
    del now['web1']
    now['new1'] = S.fleet()['web1']
    report = compared(day1(), now)
    assert report['changes']['resolved'] == []
    assert report['changes']['hosts_added'] == ['new1']
    assert report['changes']['hosts_removed'] == ['web1']
    assert 'appeared: new1' in H.headline(report['changes'])


def test_a_previous_run_of_an_earlier_version_without_annotations_counts_as_one_run():
    old = json.loads(R.render_json(run(day1(), '2025-11-25T06:50:10Z')))
    assert 'changes' not in old
    report = H.compare(run(day2()), old, 'old', '/r/old')
    disk = [f for f in report['findings'] if f['check'] == 'system'][0]
    assert disk['streak'] == 2 and disk['first_seen'] == '2025-11-25T06:50:10Z'


# ----------------------------------------------------------------------------- runs on disk

def test_the_previous_run_is_the_newest_complete_one_never_the_current_or_a_partial_one():
    good = {'schema': R.SCHEMA, 'hosts': [], 'findings': [], 'run': {}}
    reports = {'2025-11-24T065010Z': good, '2025-11-25T065010Z': None, '2025-11-26T065010Z': good}
    names = list(reports) + ['latest', 'notes']
    assert H.previous_run_dir(names, '2025-11-26T065010Z', reports.get) == ('2025-11-24T065010Z', good)
    assert H.previous_run_dir(names, 'elsewhere', reports.get)[0] == '2025-11-26T065010Z'
    assert H.previous_run_dir(['2025-11-26T065010Z'], '2025-11-26T065010Z', reports.get) == (None, None)
    # A run named after this one (a clock set back) is not "previous".
    assert H.previous_run_dir(names, '2025-11-25T000000Z', reports.get)[0] == '2025-11-24T065010Z'


def test_read_report_refuses_partial_and_foreign_files(tmp_path):
    (tmp_path / 'partial.json').write_text('{"schema": "cloudos.ops/fleet-report/v1", "hosts": [')
    (tmp_path / 'other.json').write_text('{"schema": "x"}')
    assert H.read_report(str(tmp_path / 'partial.json')) is None
    assert H.read_report(str(tmp_path / 'other.json')) is None
    assert H.read_report(str(tmp_path / 'missing.json')) is None


def test_prune_keeps_the_newest_and_never_the_current_run_or_latest_target():
    names = ['2025-11-%02dT065010Z' % d for d in range(1, 11)] + ['latest', 'keepme']
    assert H.prune_candidates(names, 3, '2025-11-10T065010Z') == ['2025-11-%02dT065010Z' % d for d in range(1, 8)]
    assert '2025-11-02T065010Z' not in H.prune_candidates(names, 3, '2025-11-10T065010Z', ['2025-11-02T065010Z'])
    assert H.prune_candidates(names, 0, '2025-11-10T065010Z') == []
    assert H.prune_candidates(names, 1, 'x') == ['2025-11-%02dT065010Z' % d for d in range(1, 10)]


# ----------------------------------------------------------------------------- every format

def test_every_format_shows_the_new_and_the_resolved_finding():
    report = compared(day1())
    files = dict((fmt, text) for fmt, (name, text) in R.render_all(report, list(R.RENDERERS)).items())
    data = json.loads(files['json'])
    assert [f['host'] for f in data['changes']['new'] if f['severity'] == 'critical'] == ['web1']
    md = files['markdown']
    assert md.index('## Changes since the last run') < md.index('## Hosts')
    assert '**new** critical web1/services: cloudos-api.service is failed' in md
    assert '**resolved** critical ai1/alerts' in md
    assert 'still failing' in md.lower() and 'since 2025-11-25T06:50:10Z, 2 runs' in md
    html = files['html']
    assert html.index('id="changes"') < html.index('id="grid"')
    assert 'data-change="new" data-host="web1" data-check="services"' in html
    assert 'data-change="resolved" data-host="ai1" data-check="alerts"' in html
    junit = ElementTree.fromstring(files['junit'].split('\n', 1)[1])
    texts = ''.join(ElementTree.tostring(e, encoding='unicode') for e in junit.iter('testcase'))
    assert '[new] [CRITICAL] cloudos-api.service is failed' in texts
    assert '[resolved] [CRITICAL] 1 critical alert firing' in texts
    nagios = dict(line.split('\t', 1) for line in files['nagios'].splitlines())
    assert nagios['web1'].startswith('CRITICAL: web1 critical: 1 critical, 0 warning; 1 new, 0 resolved')
    assert '; resolved: alerts: 1 critical alert firing' in nagios['ai1']
    tap = files['tap']
    assert tap.startswith('TAP version 14\n1..')
    assert 'not ok' in tap and 'change: "new"' in tap and '  resolved:\n' in tap


def test_nagios_states_exit_codes_and_perfdata():
    report = compared(day1())
    entries = dict((e['host'], e) for e in report['hosts'])
    state, line = nagios_line(report, entries['web1'])
    assert (state, EXIT_CODES[state]) == ('CRITICAL', 2)
    text, perf = line.split(' | ')
    assert "'services'=2;1;2;0;2" in perf and "'system'=0;1;2;0;2" in perf and "'findings_critical'=1;;;0;" in perf
    assert nagios_line(report, entries['gone1'])[0] == 'UNKNOWN'
    assert nagios_line(report, entries['ctl1'])[0] == 'WARNING'
    # A | in a message would end the text: it never reaches the output unescaped.
    assert line.count('|') == 1


def test_tap_maps_statuses_like_junit_warnings_fail_by_the_configured_level():
    report = run(day1())
    report['summary']['junit_fail_on'] = 'warning'
    tap = R.render_tap(report)
    lines = [line for line in tap.splitlines() if line.startswith(('ok', 'not ok'))]
    assert int(tap.splitlines()[1][3:]) == len(lines)
    assert any(line.startswith('not ok') and 'ai1 system: warning' in line for line in lines)
    assert any('ai1 kubernetes # SKIP absent' in line for line in lines)
    assert any(line.startswith('not ok') and 'gone1 system: unreachable' in line for line in lines)
    report['summary']['junit_fail_on'] = 'critical'
    assert any(line.startswith('ok') and 'ai1 system: warning' in line for line in R.render_tap(report).splitlines())


def failures(rep):
    return int(ElementTree.fromstring(R.render_junit(rep).split('\n', 1)[1]).get('failures'))


def test_junit_fail_on_is_explicit_and_overrides_the_fail_on_default():
    report = run(day1(), fail_on='critical')
    by_default = failures(report)
    report['summary']['junit_fail_on'] = 'warning'
    assert failures(report) == by_default + 2  # ai1/system and ctl1/services are warnings
    warn = run(day1(), fail_on='warning')
    warn['summary']['junit_fail_on'] = 'critical'
    assert failures(warn) == by_default


def test_markdown_keeps_ampersands_of_urls_and_escapes_entities():
    from ansible_collections.cloudos.ops.plugins.plugin_utils._report_markdown import md
    assert md('http://grafana/d/x?orgId=1&from=now-1h') == 'http://grafana/d/x?orgId=1&from=now-1h'
    assert md('a &lt; b') == 'a &amp;lt; b'


def test_html_grid_cells_show_their_text_without_a_tooltip_and_print():
    html = R.render_html(run(day1()))
    assert 'text-overflow:ellipsis' not in html
    assert '@media print' in html and 'print-color-adjust:exact' in html
    assert '/opt 86 % full</span>' in html


def test_no_history_data_no_changes_section():
    report = run(day1())
    assert 'Changes since the last run' not in R.render_markdown(report)
    assert 'id="changes"' not in R.render_html(report)
    assert copy.deepcopy(report) == report


# ----------------------------------------------------------------------------- notify on change only

def _now(text):
    from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_time
    return parse_time(text)


def test_a_change_is_one_notification_with_firing_and_resolved_alerts():
    from ansible_collections.cloudos.ops.plugins.plugin_utils._report_notify import decide
    from ansible_collections.cloudos.ops.plugins.module_utils._notify import normalise_alerts
    decision = decide(compared(day1()), None, _now('2025-11-26T06:51:00Z'), 86400, url='http://r/x.html')
    assert decision['due'] and decision['reason'] == 'change'
    statuses = sorted((a['status'], a['source']) for a in decision['alerts'])
    assert statuses == [('firing', 'web1'), ('resolved', 'ai1')]
    assert normalise_alerts(decision['alerts'])  # what cloudos_notify accepts
    assert decision['state']['last_sent'] == '2025-11-26T06:51:00Z'


def test_an_unchanged_rerun_is_silent_until_the_reminder_is_due():
    from ansible_collections.cloudos.ops.plugins.plugin_utils._report_notify import decide
    two = json.loads(R.render_json(compared(day1())))
    three = H.compare(run(day2(), '2025-11-27T06:50:10Z'), two, 'x', '/r/x')
    state = {'last_sent': '2025-11-26T06:51:00Z'}
    assert decide(three, state, _now('2025-11-26T07:00:00Z'), 86400)['due'] is False
    assert decide(three, state, _now('2025-11-26T07:00:00Z'), 86400)['state'] == state
    reminder = decide(three, state, _now('2025-11-27T06:51:00Z'), 86400)
    # Every critical finding (the unreachable gone1 too), not the warnings.
    assert reminder['reason'] == 'reminder' and sorted(a['source'] for a in reminder['alerts']) == ['gone1', 'web1']
    assert 'reminder: 2 critical findings' in reminder['title']
    assert decide(three, state, _now('2025-11-26T06:51:00Z'), 0)['reason'] == 'reminder'


def test_nothing_critical_no_reminder():
    from ansible_collections.cloudos.ops.plugins.plugin_utils._report_notify import decide
    calm = {'web1': S.fleet()['web1']}
    report = H.compare(run(calm, '2025-11-27T06:50:10Z'), json.loads(R.render_json(run(calm))), 'x', '/r/x')
    assert decide(report, None, _now('2025-11-28T00:00:00Z'), 0)['due'] is False


# ----------------------------------------------------------------------------- textfile export

def test_textfile_has_check_gauges_counts_timestamp_and_duration():
    from ansible_collections.cloudos.ops.plugins.module_utils._health.textfile import textfile
    text = textfile(S.fleet()['ai1'])
    assert 'cloudos_health_check_status{check="alerts"} 2' in text
    assert 'cloudos_health_check_status{check="system"} 1' in text
    assert 'cloudos_health_check_status{check="kubernetes"} 0' in text
    assert 'cloudos_health_status 2' in text
    assert 'cloudos_health_findings{severity="critical"} 1' in text
    assert 'cloudos_health_findings{severity="warning"} 1' in text
    assert 'cloudos_health_last_run_timestamp_seconds 1764139812' in text
    assert 'cloudos_health_duration_seconds 0.84' in text
    assert text.endswith('\n') and '# TYPE cloudos_health_status gauge' in text


def test_textfile_without_a_result_says_so():
    from ansible_collections.cloudos.ops.plugins.module_utils._health.textfile import textfile
    text = textfile({'failed': True, 'msg': 'no python'}, now=1000)
    assert 'cloudos_health_status 3' in text and 'cloudos_health_last_run_timestamp_seconds 1000' in text


def test_html_findings_rows_carry_their_change():
    html = R.render_html(compared(day1()))
    assert 'data-change="new"><td class="sev sev-critical">' in html
    assert 'data-change="still"' in html and 'since 2025-11-25T06:50:10Z, 2 runs</span>' in html
