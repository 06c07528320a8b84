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
