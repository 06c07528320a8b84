"""Retention planning (pure functions) and set naming rules."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._backup import retention, sets

UTC = datetime.timezone.utc


def series(days, start=datetime.datetime(2024, 1, 1, 2, 0, tzinfo=UTC), per_day=1):
    """A synthetic series of dated sets, one (or more) per day."""
    out = []
    for day in range(days):
        for n in range(per_day):
            when = start + datetime.timedelta(days=day, hours=n)
            out.append((when.strftime('%Y%m%dT%H%M%SZ'), when))
    return out


def ids(items):
    return [item['id'] for item in items]


def test_daily_keeps_newest_per_day():
    sets_ = series(10, per_day=3)
    now = sets_[-1][1]
    plan = retention.plan_retention(sets_, {'keep_daily': 3}, now)
    kept = ids(plan['keep'])
    assert kept == ['20240110T040000Z', '20240109T040000Z', '20240108T040000Z']
    assert len(plan['delete']) == 27


def test_gfs_daily_weekly_monthly_on_a_year_of_sets():
    sets_ = series(365)
    now = sets_[-1][1]
    plan = retention.plan_retention(sets_, {'keep_daily': 7, 'keep_weekly': 4, 'keep_monthly': 6}, now)
    kept = ids(plan['keep'])
    # 7 most recent days; the newest set of each of the 4 newest ISO weeks; each of 6 newest months
    assert kept[:7] == [s[0] for s in reversed(sets_[-7:])]
    months = {k[:6] for k in kept}
    assert {'202412', '202411', '202410', '202409', '202408', '202407'} <= months
    assert '20240731T020000Z' in kept  # newest of July
    assert '20240630T020000Z' not in kept  # month 7 back is not kept
    assert len(kept) == len(set(kept))
    assert len(kept) + len(plan['delete']) == 365


def test_weekly_uses_iso_weeks_across_years():
    sets_ = [('a', datetime.datetime(2020, 12, 31, tzinfo=UTC)),   # ISO 2020-W53
             ('b', datetime.datetime(2021, 1, 3, tzinfo=UTC)),     # ISO 2020-W53 too
             ('c', datetime.datetime(2021, 1, 4, tzinfo=UTC))]     # ISO 2021-W01
    plan = retention.plan_retention(sets_, {'keep_weekly': 2}, sets_[-1][1])
    assert ids(plan['keep']) == ['c', 'b']
    assert ids(plan['delete']) == ['a']
    assert 'weekly 2020-W53' in plan['keep'][1]['reasons']


def test_keep_days_and_newest_always_kept():
    sets_ = series(60)
    now = sets_[-1][1] + datetime.timedelta(days=100)
    plan = retention.plan_retention(sets_, {'keep_days': 30}, now)
    # every set is older than 30 days: only the newest complete set survives
    assert ids(plan['keep']) == [sets_[-1][0]]
    assert plan['keep'][0]['reasons'] == ['newest']
    assert len(plan['delete']) == 59


def test_keep_days_window():
    sets_ = series(40)
    now = sets_[-1][1]
    plan = retention.plan_retention(sets_, {'keep_days': 30}, now)
    assert len(plan['keep']) == 31


def test_no_rule_deletes_nothing_and_empty_input():
    sets_ = series(5)
    plan = retention.plan_retention(sets_, {}, sets_[-1][1])
    assert plan['delete'] == []
    assert retention.plan_retention([], {'keep_daily': 1}, sets_[-1][1]) == {'keep': [], 'delete': []}


def test_zero_counts_keep_only_newest():
    sets_ = series(5)
    plan = retention.plan_retention(sets_, {'keep_daily': 0}, sets_[-1][1])
    assert ids(plan['keep']) == [sets_[-1][0]]


@pytest.mark.parametrize('policy', [{'keep_daily': -1}, {'keep_daily': 'x'}, {'keep_hourly': 3}, {'keep_days': True},
                                    {'keep_weekly': 1.5}])
def test_validate_policy_rejects(policy):
    with pytest.raises(ValueError) as err:
        retention.validate_policy(policy)
    assert list(policy)[0] in str(err.value)


def test_validate_policy_accepts_strings_and_none():
    assert retention.validate_policy({'keep_daily': '7', 'keep_weekly': None}) == {'keep_daily': 7}


@pytest.mark.parametrize('bad', ['a/b', '../x', '.hidden', '', '-x', 'a\\b', 'x' * 200, '..'])
def test_backup_id_rejected(bad):
    with pytest.raises(sets.BackupError) as err:
        sets.validate_backup_id(bad)
    assert 'backup_id' in str(err.value)


def test_backup_id_path_separator_message():
    with pytest.raises(sets.BackupError) as err:
        sets.validate_backup_id('2024/01/31')
    assert 'path separator' in str(err.value)


@pytest.mark.parametrize('good', ['20240131', '20240131T020000Z', 'pre-upgrade_1.2'])
def test_backup_id_accepted(good):
    assert sets.validate_backup_id(good) == good


def test_archive_names_unique_and_safe():
    taken = set()
    first = sets.archive_names('path', '/etc/cloudos', taken)
    second = sets.archive_names('path', '/etc/cloudos/', taken)
    assert first == ('path-etc_cloudos.tar.gz', 'path-etc_cloudos.index.jsonl')
    assert second[0] == 'path-etc_cloudos-2.tar.gz'
    assert sets.archive_names('volume', '../../x', set())[0] == 'volume-x.tar.gz'


def test_leftover_names():
    assert sets.parse_leftover(sets.incomplete_name('20240101', 42)) == ('20240101', 42)
    assert sets.parse_leftover('.deleting-a-b-7') == ('a-b', 7)
    assert sets.parse_leftover('.lock') is None
    assert sets.parse_leftover('20240101') is None


def _manifest(**over):
    data = sets.build_manifest('x', 'h', datetime.datetime(2024, 1, 1, tzinfo=UTC), datetime.datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
                               {'format': 'gzip'}, [], {'a.tar.gz': {'size': 1, 'sha256': '0' * 64}}, [])
    data.update(over)
    return json.dumps(data)


def test_manifest_round_trip_and_rejections():
    parsed = sets.parse_manifest(_manifest())
    assert parsed['format_version'] == sets.FORMAT_VERSION and parsed['duration_s'] == 60.0
    for bad in (_manifest(format='other'), _manifest(format_version=99), '{', _manifest(created_at='yesterday'),
                _manifest(archives={'../x': {'size': 1, 'sha256': '0' * 64}}), _manifest(archives={'a': {'size': 1}})):
        with pytest.raises(sets.BackupError):
            sets.parse_manifest(bad)


def test_list_sets_ignores_incomplete(tmp_path):
    good = tmp_path / '20240102'
    good.mkdir()
    (good / 'MANIFEST.json').write_text(_manifest(backup_id='20240102'))
    wrong = tmp_path / '20240103'
    wrong.mkdir()
    (wrong / 'MANIFEST.json').write_text(_manifest(backup_id='other'))
    nomani = tmp_path / '20240104'
    nomani.mkdir()
    (tmp_path / '.incomplete-20240105-999999').mkdir()
    complete, others = sets.list_sets(str(tmp_path))
    assert [c['id'] for c in complete] == ['20240102']
    reasons = dict((o['name'], o) for o in others)
    assert set(reasons) == {'20240103', '20240104', '.incomplete-20240105-999999'}
    assert reasons['.incomplete-20240105-999999']['leftover'] is True
    assert sets.list_sets(str(tmp_path / 'missing')) == ([], [])
