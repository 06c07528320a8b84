"""The shared primitives: times, durations, statuses, sizes, command environment, atomic writes."""

import os
import stat

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _common as c


@pytest.mark.parametrize('text, expected', [
    ('2026-12-01T07:00:00Z', datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)),
    ('2026-12-01T07:00:00.123456789Z', datetime(2026, 12, 1, 7, 0, 0, 123456, tzinfo=timezone.utc)),
    ('2026-12-01T09:00:00+02:00', datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)),
    ('2026-12-01T09:00:00+0200', datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)),
    ('2026-12-01 07:00:00', datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)),
    ('2026-12-01T07:00:00.5-01:30', datetime(2026, 12, 1, 8, 30, 0, 500000, tzinfo=timezone.utc)),
])
def test_parse_time_accepts_what_servers_write(text, expected):
    assert c.parse_time(text) == expected


@pytest.mark.parametrize('value', ['', None, 'yesterday', '0001-01-01T00:00:00Z', '2026-13-01T00:00:00Z',
                                   '2026-12-01T07:00:00+25:00', 0, -5, True, [], 1e20])
def test_parse_time_gives_none_for_what_it_cannot_read(value):
    assert c.parse_time(value) is None


def test_parse_time_naive_zone():
    assert c.parse_time('2026-12-01T07:00:00', naive_zone=None) is None
    local = timezone(timedelta(hours=1))
    assert c.parse_time('2026-12-01T08:00:00', naive_zone=local) == datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
    assert c.parse_time(1764572400) == datetime(2025, 12, 1, 7, tzinfo=timezone.utc)


def test_rfc3339_round_trip():
    moment = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert c.rfc3339(moment) == '2026-12-01T07:00:00Z'
    assert c.rfc3339(moment, millis=True) == '2026-12-01T07:00:00.123Z'
    assert c.parse_time(c.rfc3339(moment, millis=True)) == moment.replace(microsecond=123000)
    assert c.rfc3339(None) is None


@pytest.mark.parametrize('text, seconds', [('90m', 5400), ('2h', 7200), ('1w2d', 777600), ('1h30m', 5400),
                                           ('45', 45), (45, 45), ('1d 12h', 129600), ('2500ms', 2)])
def test_parse_duration(text, seconds):
    assert c.parse_duration(text) == seconds


@pytest.mark.parametrize('text', ['', 'soon', '2x', 'h', '-5m', '1h and more', None, True, '5m2'])
def test_parse_duration_refuses_garbage_naming_the_parameter(text):
    with pytest.raises(c.DurationError) as err:
        c.parse_duration(text, name='older_than')
    assert 'older_than' in str(err.value)


def test_parse_duration_bounds():
    with pytest.raises(c.DurationError, match='duration must be longer than zero'):
        c.parse_duration('0m')
    assert c.parse_duration('0m', allow_zero=True) == 0
    with pytest.raises(c.DurationError, match="duration='99999999999w' is too long"):
        c.parse_duration('99999999999w')


def test_format_duration():
    assert [c.format_duration(s) for s in (0, 45, 5400, 777600)] == ['0s', '45s', '1h30m', '1w2d']
    assert c.parse_duration(c.format_duration(123456)) == 123456


def test_status_rank_and_worst():
    assert c.worst_status([]) == 'ok'
    assert c.worst_status(['ok', 'absent', 'warning', 'skipped']) == 'warning'
    assert c.worst_status(['warning', 'critical', 'ok']) == 'critical'
    assert c.worst_status(['ok', 'unreachable']) == 'unreachable'
    # an unknown status is never better than a warning; callers may make it critical
    assert c.worst_status(['ok', 'bogus']) == 'bogus'
    assert c.status_rank('bogus', unknown=2) == c.status_rank('critical')


def test_human_size_is_ansible_cores_binary_units():
    assert c.human_size(1536) == '1.50 KB'
    assert c.human_size(10 * 2 ** 30) == '10.00 GB'
    assert c.human_size(-2048) == '-2.00 KB'
    assert c.human_size(None) == '0.00 Bytes'


class FakeModule:
    run_command_environ_update = {}

    def __init__(self):
        self.moves = []

    def atomic_move(self, src, dest):
        self.moves.append((src, dest))
        os.rename(src, dest)
        os.chmod(dest, 0o666 & ~0o022)  # what atomic_move does to a file it creates


def test_set_c_locale_applies_to_every_command():
    module = FakeModule()
    env = c.set_c_locale(module, DEBIAN_FRONTEND='noninteractive')
    assert module.run_command_environ_update['LC_ALL'] == 'C'
    assert module.run_command_environ_update['LANG'] == 'C'
    assert env['DEBIAN_FRONTEND'] == 'noninteractive'


def test_write_atomic_new_file_gets_the_mode_through_atomic_move(tmp_path):
    module = FakeModule()
    target = tmp_path / 'secret.json'
    c.write_atomic(str(target), '{"a": 1}', mode=0o600, move=module.atomic_move)
    assert target.read_text() == '{"a": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert module.moves and module.moves[0][1] == str(target)
    assert os.listdir(tmp_path) == ['secret.json']


def test_write_atomic_failure_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / 'conf'
    target.write_text('old')

    def broken(src, dest):
        raise OSError('disk full')

    with pytest.raises(OSError):
        c.write_atomic(str(target), b'new', move=broken)
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['conf']


def test_read_checked_refuses_what_is_not_a_small_utf8_file(tmp_path):
    good = tmp_path / 'a.json'
    good.write_text('{"a": 1}')
    assert c.read_checked(str(good), name='path') == '{"a": 1}'
    assert c.read_checked(str(tmp_path / 'missing')) is None
    big = tmp_path / 'big'
    big.write_bytes(b' ' * 11)
    with pytest.raises(c.FileCheckError, match=r'^path .*big is 11.00 Bytes, more than the 10.00 Bytes'):
        c.read_checked(str(big), max_bytes=10, name='path')
    (tmp_path / 'bin').write_bytes(b'ab\xff')
    with pytest.raises(c.FileCheckError, match=r'is not UTF-8 text \(byte 2\)'):
        c.read_checked(str(tmp_path / 'bin'))
    with pytest.raises(c.FileCheckError, match='is a directory'):
        c.read_checked(str(tmp_path))
    with pytest.raises(c.FileCheckError, match='NUL or control character'):
        c.read_checked(str(good) + '\x00')
    assert c.has_control('a\x00b') and c.has_control('\x1b[0m') and not c.has_control('a\tb')
    assert c.has_control('a\tb', allow='')


def test_mount_table_decodes_only_the_kernel_escapes():
    # The kernel escapes a space, tab, newline and backslash; a UTF-8 name is written as it is
    # and must come back unchanged (decoding it as an escaped string would garble it).
    table = ('/dev/sda1 / ext4 rw 0 0\n'
             '/dev/sdb1 /srv/donn\u00e9es\\040de\\011test\\134x xfs rw 0 0\n'
             'short line\n')
    assert c.parse_mounts(table) == [('/', 'ext4'), ('/srv/donn\u00e9es de\ttest\\x', 'xfs')]
