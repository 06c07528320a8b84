# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vacuum planning of cloudos_journal_vacuum (journald's rules), on file lists and a temporary tree."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _journal as journal

SEQ = 'a' * 32
DAY_US = 86400 * 1000000
NOW = 1700000000 * 1000000
MB = 1024 * 1024


def archived(seqnum, days_ago, size, seq=SEQ, prefix='system'):
    name = '%s@%s-%016x-%016x.journal' % (prefix, seq, seqnum, NOW - days_ago * DAY_US)
    return {'name': name, 'path': '/j/' + name, 'bytes': size}


def active(size=8 * MB, name='system.journal'):
    return {'name': name, 'path': '/j/' + name, 'bytes': size}


FILES = [active(), archived(1, 30, 4 * MB), archived(100, 10, 4 * MB), archived(200, 2, 4 * MB),
         active(2 * MB, 'user-1000.journal')]


def names(removed):
    return [r['name'] for r in removed]


def test_time_removes_archived_files_older_than_the_span_never_active_ones():
    removed, left = journal.plan_directory(FILES, NOW, vacuum_time=7 * 86400)
    assert names(removed) == [FILES[1]['name'], FILES[2]['name']]
    assert left == 8 * MB + 4 * MB + 2 * MB


def test_size_counts_active_files_and_stops_at_the_first_file_within_the_limit():
    removed, left = journal.plan_directory(FILES, NOW, vacuum_size=16 * MB)
    assert names(removed) == [FILES[1]['name'], FILES[2]['name']]
    assert left == 14 * MB
    removed, left = journal.plan_directory(FILES, NOW, vacuum_size=1 * MB)
    assert len(removed) == 3 and left == 10 * MB  # active files stay whatever the limit


def test_files_limit_counts_active_files():
    removed, _left = journal.plan_directory(FILES, NOW, vacuum_files=4)
    assert names(removed) == [FILES[1]['name']]


def test_all_limits_must_hold():
    removed, _left = journal.plan_directory(FILES, NOW, vacuum_time=20 * 86400, vacuum_size=12 * MB)
    assert len(removed) == 3


def test_order_by_sequence_number_within_one_sequence():
    # Same sequence: seqnum decides, even if the head time in the name says otherwise.
    odd = [archived(5, 1, MB), archived(9, 40, MB)]
    removed, _left = journal.plan_directory(odd, NOW, vacuum_files=1)
    assert names(removed) == [odd[0]['name']]
    # Different sequences: head time decides.
    mixed = [archived(5, 1, MB), archived(9, 40, MB, seq='b' * 32)]
    removed, _left = journal.plan_directory(mixed, NOW, vacuum_files=1)
    assert names(removed) == [mixed[1]['name']]


def test_corrupted_files_are_candidates_and_other_files_are_ignored():
    files = [{'name': 'system@%016x-%016x.journal~' % (NOW - 30 * DAY_US, 7), 'path': '/j/x', 'bytes': MB},
             {'name': 'notes.txt', 'path': '/j/notes.txt', 'bytes': MB}]
    removed, left = journal.plan_directory(files, NOW, vacuum_time=86400)
    assert len(removed) == 1 and left == 0


def test_no_limit_removes_nothing():
    assert journal.plan_directory(FILES, NOW) == ([], 22 * MB)


def test_plan_over_directories_and_scan(tmp_path):
    machine = tmp_path / 'journal' / ('f' * 32)
    machine.mkdir(parents=True)
    old = archived(1, 30, 0)['name']
    (machine / old).write_bytes(b'x' * 70000)
    (machine / 'system.journal').write_bytes(b'y' * 10)
    (machine / 'README').write_text('no')
    found = journal.scan([str(tmp_path / 'journal')])
    assert list(found) == [str(machine)]
    assert sorted(f['name'] for f in found[str(machine)]) == sorted([old, 'system.journal'])
    result = journal.plan(found, NOW, vacuum_time=86400)
    assert [r['path'] for r in result['remove']] == [str(machine / old)]
    assert result['bytes'] > 0 and result['usage_after'] < result['usage']


@pytest.mark.parametrize('text, seconds', [('7d', 604800), ('2weeks', 1209600), ('1h 30min', 5400), ('1s', 1),
                                           ('1M', 2629800), ('10m', 600), ('3600', 3600)])
def test_timespans(text, seconds):
    assert journal.parse_timespan(text) == seconds


@pytest.mark.parametrize('text, size', [('500M', 500 * MB), ('1G', 1024 * MB), ('4096', 4096), ('1.5K', 1536)])
def test_sizes(text, size):
    assert journal.parse_size(text) == size


@pytest.mark.parametrize('func, text, name', [(journal.parse_timespan, '7 fortnights', 'vacuum_time'),
                                              (journal.parse_timespan, 'soon', 'vacuum_time'),
                                              (journal.parse_size, 'big', 'vacuum_size')])
def test_bad_values_name_the_parameter(func, text, name):
    with pytest.raises(journal.JournalError, match=name):
        func(text)


def test_vacuum_args():
    assert journal.vacuum_args('500M', 3, '7d') == ['--vacuum-size=500M', '--vacuum-files=3', '--vacuum-time=7d']


def params(**over):
    base = {'vacuum_time': None, 'vacuum_size': None, 'vacuum_files': None, 'directories': []}
    base.update(over)
    return base


@pytest.mark.parametrize('over, message', [({'vacuum_files': 0}, 'vacuum_files must be at least 1, got 0'),
                                           ({'vacuum_size': '0'}, "vacuum_size must be more than 0, got '0'"),
                                           ({'vacuum_time': 'soon'}, 'vacuum_time must be a time span')])
def test_check_params_names_the_bad_option(over, message):
    with pytest.raises(journal.JournalError, match=message):
        journal.check_params(params(**over))


def test_check_params_gives_bytes_and_seconds():
    assert journal.check_params(params(vacuum_size='1G', vacuum_time='7d')) == (1024 * MB, 604800)


def test_sizes_in_messages_and_diffs_are_ansible_binary_units():
    assert journal.listing({'/j': [{'path': '/j/a.journal', 'bytes': 1536 * 1024}]}) == '/j/a.journal 1.50 MB\n'
    assert journal.listing({}) == ''


def _tree(tmp_path):
    machine = tmp_path / 'journal' / ('f' * 32)
    machine.mkdir(parents=True)
    old = machine / archived(1, 30, 0)['name']
    old.write_bytes(b'x' * 70000)
    (machine / 'system.journal').write_bytes(b'y' * 10)
    return params(vacuum_time='1d', directories=[str(tmp_path / 'journal')]), old


class Journalctl:
    """Stands in for journalctl: records the commands, removes ``victim`` on --vacuum-*."""

    def __init__(self, victim=None, rc=0):
        self.calls, self.victim, self.rc = [], victim, rc

    def __call__(self, argv):
        self.calls.append(argv)
        if any(a.startswith('--vacuum') for a in argv[1:]):
            if self.rc:
                return self.rc, '', 'Failed to vacuum\n'
            if self.victim:
                self.victim.unlink()
            return 0, '', 'Deleted archived journal %s\n' % self.victim
        return 0, 'Archived and active journals take up 8.0K in the file system.\n', ''


def test_vacuum_check_mode_predicts_and_runs_only_disk_usage(tmp_path):
    args, old = _tree(tmp_path)
    run = Journalctl(old)
    out = journal.vacuum(args, journal.check_params(args), 'journalctl', run, NOW, check_mode=True, diff_mode=True)
    assert run.calls == [['journalctl', '--disk-usage']] and old.exists()
    assert out['changed'] is True and [r['path'] for r in out['removed']] == [str(old)]
    assert out['msg'].startswith('would remove 1 archived journal file(s), ') and out['msg'].endswith(' KB')
    assert str(old) in out['diff']['before'] and str(old) not in out['diff']['after']
    assert out['disk_usage'].startswith('Archived and active journals')


def test_vacuum_real_run_reports_what_journalctl_removed(tmp_path):
    args, old = _tree(tmp_path)
    run = Journalctl(old)
    out = journal.vacuum(args, journal.check_params(args), 'journalctl', run, NOW)
    # Changed deliberately (issue 13, rule 2): the real run vacuums the directory the plan
    # measured, not the system journal.
    assert run.calls[0] == ['journalctl', '--directory=%s' % old.parent, '--vacuum-time=1d']
    assert out['changed'] is True and out['removed'] == [{'path': str(old), 'bytes': out['bytes_freed']}]
    assert 'diff' not in out and out['msg'].startswith('removed 1 archived journal file(s)')
    assert 'Deleted archived journal' in out['journalctl_output']
    again = journal.vacuum(args, journal.check_params(args), 'journalctl', Journalctl(), NOW)
    assert again['changed'] is False and again['removed'] == [] and again['msg'].endswith(', 0.00 Bytes')


def test_vacuum_failure_carries_the_result_so_far(tmp_path):
    args, old = _tree(tmp_path)
    # Changed deliberately (issue 13, rule 2): the failing command names the directory.
    with pytest.raises(journal.JournalError, match=r'journalctl --directory=\S+ --vacuum-time=1d failed \(rc 1\): '
                       r'Failed to vacuum') as info:
        journal.vacuum(args, journal.check_params(args), 'journalctl', Journalctl(old, rc=1), NOW)
    assert info.value.result['changed'] is False and info.value.result['usage_before'] > 0 and old.exists()
