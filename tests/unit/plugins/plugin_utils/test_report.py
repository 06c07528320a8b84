"""Fleet report renderers: document, Markdown, HTML, JUnit XML (plugins/plugin_utils/_report*.py)."""

from __future__ import annotations

import json

from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from ansible_collections.cloudos.ops.plugins.plugin_utils import _report as R

import report_samples as S


def make_report(fail_on='critical', results=None, **kwargs):
    results = S.fleet() if results is None else results
    hosts = [R.normalize_result(name, result) for name, result in results.items()]
    kwargs.setdefault('title', 'CloudOS daily health')
    kwargs.setdefault('kind', 'daily_health')
    kwargs.setdefault('started_at', '2025-11-26T06:50:10Z')
    kwargs.setdefault('finished_at', '2025-11-26T06:50:14.500000+00:00')
    kwargs.setdefault('thresholds', S.THRESHOLDS)
    return R.build_report(hosts, fail_on=fail_on, **kwargs)


class Grid(HTMLParser):
    """Collects the grid: {host: {check: (status class, text)}} and every text node."""

    def __init__(self):
        super().__init__()
        self.rows = {}
        self.texts = []
        self.scripts = 0
        self._host = None
        self._cell = None
        self._buf = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'script':
            self.scripts += 1
        if tag == 'tr' and 'host-row' in (attrs.get('class') or ''):
            self._host = attrs['data-host']
            self.rows[self._host] = {}
        if tag == 'td' and self._host and 'cell' in (attrs.get('class') or '').split():
            classes = [c for c in attrs['class'].split() if c.startswith('st-')]
            self._cell = (attrs['data-check'], classes[0][3:])
            self._buf = []

    def handle_endtag(self, tag):
        if tag == 'td' and self._cell:
            check, status = self._cell
            self.rows[self._host][check] = (status, ''.join(self._buf))
            self._cell = None
        if tag == 'tr':
            self._host = None

    def handle_data(self, data):
        self.texts.append(data)
        if self._cell:
            self._buf.append(data)


def parse_html(text):
    grid = Grid()
    grid.feed(text)
    grid.close()
    return grid


# ----------------------------------------------------------------------------- document

def test_document_summarises_worst_status_counts_and_failing_hosts():
    report = make_report()
    summary = report['summary']
    assert summary['hosts'] == 4
    assert summary['status'] == 'unreachable'
    assert summary['status_counts']['ok'] == 1
    assert summary['status_counts']['warning'] == 1
    assert summary['status_counts']['critical'] == 1
    assert summary['status_counts']['unreachable'] == 1
    assert summary['fail_on_reached'] is True
    assert summary['failing_hosts'] == ['gone1', 'ai1']
    assert summary['finding_counts'] == {'critical': 2, 'warning': 2, 'info': 0}
    # Five checks on three reachable hosts.
    assert sum(summary['check_counts'].values()) == 15
    assert summary['check_counts']['absent'] == 3
    assert report['run']['duration_ms'] == 4500
    # Worst first, then by name.
    assert [h['host'] for h in report['hosts']] == ['gone1', 'ai1', 'ctl1', 'web1']


def test_document_lists_every_finding_with_its_host_critical_first():
    report = make_report()
    findings = report['findings']
    assert [(f['host'], f['severity']) for f in findings][:2] == [('gone1', 'critical'), ('ai1', 'critical')]
    alert = [f for f in findings if f['check'] == 'alerts'][0]
    assert alert['action'].startswith('Investigate every critical alert')
    assert alert['value'] == 1 and alert['threshold'] == 0
    assert json.loads(R.render_json(report)) == report


@pytest.mark.parametrize('fail_on,reached,failing', [
    ('warning', True, ['gone1', 'ai1', 'ctl1']),
    ('critical', True, ['gone1', 'ai1']),
    ('never', False, []),
])
def test_fail_on_levels(fail_on, reached, failing):
    summary = make_report(fail_on=fail_on)['summary']
    assert summary['fail_on_reached'] is reached
    assert summary['failing_hosts'] == failing


def test_healthy_fleet_does_not_reach_critical():
    results = S.fleet()
    results = {'web1': results['web1']}
    summary = make_report(results=results)['summary']
    assert summary['status'] == 'ok'
    assert summary['fail_on_reached'] is False


def test_bad_fail_on_names_the_value():
    with pytest.raises(R.ReportError, match="fail_on.*'sometimes'"):
        make_report(fail_on='sometimes')


def test_missing_result_is_unreachable_and_module_failure_is_error():
    missing = R.normalize_result('db9', None)
    assert missing['status'] == 'unreachable'
    assert missing['findings'][0]['severity'] == 'critical'
    failed = R.normalize_result('db8', {'failed': True, 'msg': 'No python interpreter found', 'changed': False})
    assert failed['status'] == 'error'
    assert 'No python interpreter found' in failed['error']
    assert R.reaches('error', 'critical') and R.reaches('unreachable', 'critical')
    assert not R.reaches('warning', 'critical')


def test_host_status_is_raised_to_its_worst_check():
    result = S.health('x', 'ok', {'alerts': {'status': 'critical', 'summary': 's', 'findings': []}}, [])
    assert R.normalize_result('x', result)['status'] == 'critical'


def test_unknown_check_status_is_counted_as_critical_not_dropped():
    # Changed deliberately (issue 13, rule 5): an unknown status was shown as a warning.
    result = S.health('x', 'ok', {'odd': {'status': 'purple', 'summary': 'hm'}}, [])
    check = R.normalize_result('x', result)['checks']['odd']
    assert check['status'] == 'critical'
    assert 'purple' in check['summary']


def test_findings_are_gathered_from_checks_when_the_host_has_no_list():
    entry = R.host_entry('h', checks=[{'name': 'disk', 'status': 'warning', 'summary': 'full',
                                       'findings': [{'severity': 'warning', 'message': 'm', 'action': 'a'}]}])
    assert entry['findings'] == [{'check': 'disk', 'severity': 'warning', 'message': 'm', 'action': 'a'}]
    assert entry['status'] == 'warning'


def test_duplicate_hosts_are_refused():
    entry = R.host_entry('h')
    with pytest.raises(R.ReportError, match='duplicate host names h'):
        R.build_report([entry, R.host_entry('h')])


def test_thresholds_show_common_value_and_per_host_differences():
    rows = dict((t['name'], t) for t in make_report()['thresholds'])
    assert rows['disk']['value'] == 80.0
    assert rows['disk']['overrides'] == {'ai1': 70.0}
    assert rows['cpu']['overrides'] == {}


def test_empty_fleet_renders_everywhere():
    report = R.build_report([], title='nothing')
    files = R.render_all(report)
    assert set(files) == {'json', 'markdown', 'html', 'junit'}
    assert ElementTree.fromstring(files['junit'][1].split('\n', 1)[1]).get('tests') == '0'


def test_unknown_format_is_refused():
    with pytest.raises(R.ReportError, match="'pdf'"):
        R.render_all(make_report(), ['html', 'pdf'])


# ----------------------------------------------------------------------------- HTML

def test_html_grid_has_a_row_per_host_and_a_cell_per_check_with_status_classes():
    text = R.render_html(make_report())
    grid = parse_html(text)
    assert set(grid.rows) == {'web1', 'ai1', 'ctl1', 'gone1'}
    assert grid.rows['ai1']['alerts'][0] == 'critical'
    assert grid.rows['ai1']['system'][0] == 'warning'
    assert grid.rows['web1']['alerts'][0] == 'ok'
    assert grid.rows['web1']['kubernetes'][0] == 'absent'
    assert grid.rows['ctl1']['services'][0] == 'warning'
    # An unreachable host spans the whole row, and says so.
    assert grid.rows['gone1'] == {'*': ('unreachable', grid.rows['gone1']['*'][1])}
    assert 'unreachable' in grid.rows['gone1']['*'][1]
    assert 'No route to host' in grid.rows['gone1']['*'][1]


def test_html_shows_findings_with_action_thresholds_run_time_and_counts():
    text = R.render_html(make_report())
    body = ''.join(parse_html(text).texts)
    assert 'NodeDown (node cloudos-w3 is down)' in body
    assert 'amtool alert query severity=critical' in body
    assert 'ansible <host> -m ansible.builtin.ping' in body
    assert '2025-11-26 06:50:10 UTC' in body
    assert '4.5 s' in body
    assert 'FAILED: 2 host(s) at or above critical' in body
    assert 'ai1: 70.0' in body  # the per-host threshold override
    assert 'legend' in text


def test_html_escapes_hostile_strings_and_has_no_script_or_external_asset():
    text = R.render_html(make_report())
    grid = parse_html(text)
    assert grid.scripts == 0
    assert '<script>alert' not in text
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in text
    # The parsed text gives the original string back (minus nothing).
    assert '<script>alert("x")</script> & | `rm -rf` *bold*' in ''.join(grid.texts)
    for needle in ('src=', 'href="http', '@import', 'url('):
        assert needle not in text


def test_html_escapes_hostile_host_and_check_names():
    result = S.health('h', 'warning', {'"><img src=x onerror=alert(1)>': {'status': 'warning', 'summary': 's'}}, [])
    text = R.render_html(R.build_report([R.normalize_result('<b>evil</b>', result)]))
    assert '<img' not in text and '<b>evil' not in text
    grid = parse_html(text)
    assert list(grid.rows) == ['<b>evil</b>']
    assert list(grid.rows['<b>evil</b>']) == ['"><img src=x onerror=alert(1)>']


# ----------------------------------------------------------------------------- Markdown

def test_markdown_grid_table_and_findings():
    text = R.render_markdown(make_report())
    lines = text.splitlines()
    header = [line for line in lines if line.startswith('| Host | Status |')][0]
    assert header == '| Host | Status | system | services | alerts | kubernetes | ai\\_engine |'
    ai_row = [line for line in lines if line.startswith('| ai1 |')][0]
    cells = [c.strip() for c in ai_row.strip('|').split(' | ')]
    assert cells[1] == '**\u2716 critical**'
    assert cells[2].endswith('warning') and cells[4].endswith('critical')
    assert ('| **critical** | alerts | 1 critical alert firing: NodeDown (node cloudos-w3 is down) | 1 / threshold 0 | '
            'Investigate every critical alert now: amtool alert query severity=critical |') in lines
    assert '### gone1 (unreachable)' in text


def test_markdown_cells_cannot_break_the_table_or_inject_html():
    text = R.render_markdown(make_report())
    row = [line for line in text.splitlines() if line.startswith('| **warning** | services |')][0]
    # Every pipe inside a value is escaped: five columns, six separators.
    assert row.replace('\\|', '').count('|') == 6
    assert '<script>' not in text
    assert '\\<script\\>' in text
    assert '\x1b' not in text and '\x1b' not in R.render_html(make_report())


# ----------------------------------------------------------------------------- JUnit

def parse_junit(report):
    text = R.render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(text.split('\n', 1)[1].encode('utf-8'))


def cases(root):
    out = {}
    for suite in root.findall('testsuite'):
        for case in suite.findall('testcase'):
            kinds = [child.tag for child in case]
            out[(suite.get('name'), case.get('name'))] = (kinds, case)
    return out


def test_junit_one_case_per_host_and_check_with_failures_skips_and_errors():
    root = parse_junit(make_report())
    found = cases(root)
    # 3 reachable hosts x 5 checks, plus the unreachable host x 5 columns.
    assert len(found) == 20
    assert root.get('tests') == '20'
    assert found[('ai1', 'alerts')][0] == ['failure']
    failure = found[('ai1', 'alerts')][1].find('failure')
    assert failure.get('type') == 'critical'
    assert 'action: Investigate every critical alert now' in failure.text
    assert found[('web1', 'kubernetes')][0] == ['skipped']
    assert found[('web1', 'alerts')][0] == []
    assert found[('gone1', 'alerts')][0] == ['error']
    assert root.get('failures') == '1'
    assert root.get('errors') == '5'
    assert root.get('skipped') == '3'


def test_junit_warnings_pass_with_a_note_unless_fail_on_is_warning():
    found = cases(parse_junit(make_report()))
    kinds, case = found[('ai1', 'system')]
    assert kinds == ['system-out']
    assert 'Disk /opt is 86.0 % full' in case.find('system-out').text
    strict = cases(parse_junit(make_report(fail_on='warning')))
    assert strict[('ai1', 'system')][0] == ['failure']


def test_junit_strips_characters_xml_cannot_carry():
    root = parse_junit(make_report())
    text = cases(root)[('ctl1', 'services')][1].find('system-out').text
    assert '<script>alert("x")</script>' in text
    assert '\x1b' not in text
