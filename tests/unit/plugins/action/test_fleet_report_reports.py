"""fleet_report `reports`: host entries of reports written before (job slices), taken as they are."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.cloudos.ops.plugins.action.fleet_report import read_reports, report_files
from ansible_collections.cloudos.ops.plugins.plugin_utils import _report


def health(status, at, summary='fine'):
    return {'health': {'status': status, 'checked_at': at,
                       'checks': {'system': {'status': status, 'summary': summary, 'metrics': {'load': 0.5},
                                             'findings': [] if status == 'ok' else
                                             [{'severity': status, 'message': 'load', 'action': 'look', 'value': 9}]}}}}


def write(directory, entries, run='2026-12-01T070000Z'):
    path = os.path.join(str(directory), run)
    os.makedirs(path)
    with open(os.path.join(path, 'report.json'), 'w') as handle:
        handle.write(_report.render_json(_report.build_report(entries, kind='daily_health')))
    link = os.path.join(str(directory), 'latest')
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(run, link)
    return os.path.join(path, 'report.json')


def test_entries_come_back_as_written_unreachable_and_errors_included(tmp_path):
    one = [_report.normalize_result('web1', health('ok', '2026-12-01T07:00:01Z')),
           _report.normalize_result('web2', health('warning', '2026-12-01T07:00:02Z'))]
    two = [_report.normalize_result('db1', None),
           _report.normalize_result('db2', {'failed': True, 'msg': 'module failed'})]
    write(tmp_path / 'a', one)
    write(tmp_path / 'b', two)
    entries = read_reports([str(tmp_path / '*')])
    assert sorted(entries) == ['db1', 'db2', 'web1', 'web2']
    for entry in one + two:
        assert entries[entry['host']] == entry
    assert entries['db1']['status'] == 'unreachable' and entries['db2']['status'] == 'error'


def test_a_file_reached_twice_is_read_once_and_the_newest_check_wins(tmp_path):
    old = write(tmp_path / 'a', [_report.normalize_result('web1', health('critical', '2026-12-01T07:00:00Z'))])
    write(tmp_path / 'a', [_report.normalize_result('web1', health('ok', '2026-12-02T07:00:00Z'))], run='2026-12-02T070000Z')
    files = report_files([old, str(tmp_path / 'a'), str(tmp_path / 'a' / '*' / 'report.json')])
    assert files[0] == old and files[1].endswith('latest/report.json')
    assert read_reports([old, str(tmp_path / 'a' / '*' / 'report.json')])['web1']['status'] == 'ok'


def test_bad_sources_are_named(tmp_path):
    with pytest.raises(AnsibleActionFail, match='no report matches'):
        read_reports([str(tmp_path / 'none-*')])
    (tmp_path / 'x.json').write_text('{"hosts": []}')
    with pytest.raises(AnsibleActionFail, match='is not a fleet report'):
        read_reports([str(tmp_path / 'x.json')])
    with pytest.raises(AnsibleActionFail, match='cannot read'):
        read_reports([str(tmp_path / 'missing.json')])
