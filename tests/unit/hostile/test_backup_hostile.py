# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input for cloudos_backup: crafted backup sets and garbage options (issue 13, rules 1 and 2).

The module runs in-process on real files in tmp directories; every refusal is checked for
its message (naming the option or the file) and for what is on disk afterwards.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil

from unittest import mock

import pytest

from tests.unit.plugins.modules import test_cloudos_backup as module_tests

from ansible_collections.cloudos.ops.plugins.modules import cloudos_backup
from ansible_collections.cloudos.ops.plugins.module_utils._backup import engine, retention, sets
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError

UTC = datetime.timezone.utc


def run(args, capsys, check=False, diff=False):
    """The module's result (see the module's own tests), with the warnings it gave under ``warnings``."""
    warned = []
    with mock.patch.object(cloudos_backup.AnsibleModule, 'warn', lambda _self, text, **_kw: warned.append(text)):
        result = module_tests.run(args, capsys, check=check, diff=diff)
    result['warnings'] = warned
    return result


def listing(root):
    """Every path under ``root`` with its content (files) or link (symlinks): to read back 'nothing changed'."""
    out = {}
    for base, dirs, files in os.walk(str(root)):
        for name in sorted(dirs + files):
            full = os.path.join(base, name)
            if os.path.islink(full):
                out[full] = ('link', os.readlink(full))
            elif os.path.isfile(full):
                with open(full, 'rb') as handle:
                    out[full] = ('file', handle.read())
            else:
                out[full] = ('dir', None)
    return out


@pytest.fixture
def src(tmp_path):
    root = tmp_path / 'srv' / 'app'
    (root / 'conf').mkdir(parents=True)
    (root / 'conf' / 'app.yml').write_text('listen: 8080\n')
    (root / 'data.bin').write_bytes(b'\x00\x01data')
    return root


def backup(capsys, dest, paths, backup_id='s1', **extra):
    args = dict({'dest': str(dest), 'paths': [str(p) for p in paths], 'backup_id': backup_id, 'system_state': []},
                **extra)
    res = run(args, capsys)
    assert not res.get('failed'), res
    return res


def manifest_path(dest, backup_id):
    return os.path.join(str(dest), backup_id, 'MANIFEST.json')


def edit_manifest(dest, backup_id, change):
    path = manifest_path(dest, backup_id)
    with open(path) as handle:
        data = json.load(handle)
    change(data)
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return data


def set_time(dest, backup_id, when):
    def change(data):
        data['created_at'] = when.strftime(sets.TIME_FORMAT)
    edit_manifest(dest, backup_id, change)


def good_manifest():
    archives = {'path-srv_app.tar.gz': {'size': 10, 'sha256': 'a' * 64},
                'path-srv_app.index.jsonl': {'size': 5, 'sha256': 'b' * 64}}
    return {'format': sets.FORMAT, 'format_version': 1, 'backup_id': 's1', 'created_at': '2024-01-31T02:00:00Z',
            'sources': [{'kind': 'path', 'name': '/srv/app', 'root': 'app', 'archive': 'path-srv_app.tar.gz',
                         'index': 'path-srv_app.index.jsonl'}],
            'archives': archives}


# --------------------------------------------------------------------------------------------
# Rule 1: MANIFEST.json is untrusted - the schema (pure)
# --------------------------------------------------------------------------------------------
def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


BAD_MANIFESTS = [
    ('not json', None, 'is not valid JSON'),
    ('a list', [], 'not a cloudos-backup manifest'),
    ('other format', _set(('format',), 'tar'), 'not a cloudos-backup manifest'),
    ('version 2', _set(('format_version',), 2), 'format_version is 2; this version reads 1'),
    ('version true', _set(('format_version',), True), 'format_version is True'),
    ('version string', _set(('format_version',), '1'), "format_version is '1'"),
    ('no backup_id', _set(('backup_id',), KeyError), "lacks 'backup_id'"),
    ('no sources', _set(('sources',), KeyError), "lacks 'sources'"),
    ('no archives', _set(('archives',), KeyError), "lacks 'archives'"),
    ('backup_id int', _set(('backup_id',), 7), 'backup_id 7 is not a string'),
    ('created_at zone', _set(('created_at',), '2024-01-31T02:00:00+02:00'), 'bad created_at'),
    ('created_at int', _set(('created_at',), 1700000000), 'bad created_at'),
    ('archives list', _set(('archives',), []), 'archives is not an object'),
    ('archive ..', _set(('archives', '../outside.tar.gz'), {'size': 1, 'sha256': 'c' * 64}), "'../outside.tar.gz'"),
    ('archive absolute', _set(('archives', '/etc/shadow'), {'size': 1, 'sha256': 'c' * 64}), "'/etc/shadow'"),
    ('archive hidden', _set(('archives', '.lock'), {'size': 1, 'sha256': 'c' * 64}), "'.lock'"),
    ('sha256 short', _set(('archives', 'path-srv_app.tar.gz', 'sha256'), 'abc'), "'path-srv_app.tar.gz'"),
    ('size negative', _set(('archives', 'path-srv_app.tar.gz', 'size'), -1), "'path-srv_app.tar.gz'"),
    ('size string', _set(('archives', 'path-srv_app.tar.gz', 'size'), '10'), "'path-srv_app.tar.gz'"),
    ('sources dict', _set(('sources',), {}), 'sources is not a list'),
    ('source string', _set(('sources', 0), 'x'), 'sources[0] is not an object'),
    ('kind bogus', _set(('sources', 0, 'kind'), 'device'), "sources[0] has an unknown kind 'device'"),
    ('archive outside', _set(('sources', 0, 'archive'), '../../outside.tar.gz'),
     "sources[0].archive '../../outside.tar.gz' is not a file name inside the set"),
    ('archive absolute src', _set(('sources', 0, 'archive'), '/data/live.tar.gz'),
     "sources[0].archive '/data/live.tar.gz' is not a file name inside the set"),
    ('archive unlisted', _set(('sources', 0, 'archive'), 'other.tar.gz'),
     "sources[0].archive 'other.tar.gz' is not listed (with its checksum)"),
    ('index unlisted', _set(('sources', 0, 'index'), 'other.index.jsonl'), "sources[0].index 'other.index.jsonl'"),
    ('name relative', _set(('sources', 0, 'name'), 'srv/app'), "sources[0].name 'srv/app' is not an absolute"),
    ('name dotdot', _set(('sources', 0, 'name'), '/srv/x/../app'), "sources[0].name '/srv/x/../app'"),
    ('name edited', _set(('sources', 0, 'name'), '/etc/app'), "does not match its archive 'path-srv_app.tar.gz'"),
    ('name other root', _set(('sources', 0, 'name'), '/srv/other'), "sources[0].root 'app' does not match"),
    ('root dotdot', _set(('sources', 0, 'root'), '..'), "sources[0].root '..' is not a single name"),
    ('volume name', lambda d: d['sources'][0].update(kind='volume', name='../x'), "'../x' is not a Docker volume"),
    ('duplicate', lambda d: d['sources'].append(dict(d['sources'][0])), "repeats path '/srv/app'"),
    ('volume labels', lambda d: d['sources'][0].update(kind='volume', name='v1', labels=['x']),
     'sources[0].labels is not an object of strings'),
    ('volume driver', lambda d: d['sources'][0].update(kind='volume', name='v1', driver=5), 'sources[0].driver 5'),
    ('warnings dict', _set(('warnings',), {}), 'warnings is not a list'),
]


@pytest.mark.parametrize('label, change, message', BAD_MANIFESTS, ids=[b[0] for b in BAD_MANIFESTS])
def test_malformed_manifest_is_refused_by_file_name(label, change, message):
    if change is None:
        text = '{"format": "cloudos-backup",'
    elif isinstance(change, list):
        text = json.dumps(change)
    else:
        data = good_manifest()
        change(data)
        text = json.dumps(data)
    with pytest.raises(BackupError) as err:
        sets.parse_manifest(text, '/b/s1/MANIFEST.json')
    assert str(err.value).startswith('/b/s1/MANIFEST.json ') and message in str(err.value), str(err.value)


def test_good_manifest_passes_the_schema():
    assert sets.parse_manifest(json.dumps(good_manifest()))['backup_id'] == 's1'


def test_deeply_nested_manifest_is_a_clean_error():
    with pytest.raises(BackupError) as err:
        sets.parse_manifest('[' * 200000 + ']' * 200000, 'x/MANIFEST.json')
    assert str(err.value).startswith('x/MANIFEST.json ')


@pytest.mark.parametrize('content, message', [
    (b'{' + b' ' * (sets.MAX_MANIFEST_BYTES + 10) + b'}', 'is larger than'),
    (b'{"format": "cloudos-backup\xff"}', 'is not UTF-8 text'),
    (b'', 'is not valid JSON'),
], ids=['huge', 'not utf-8', 'empty'])
def test_unreadable_manifest_file_is_reported_for_that_set(tmp_path, content, message):
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'MANIFEST.json').write_bytes(content)
    complete, others = sets.list_sets(str(tmp_path))
    assert complete == [] and others[0]['malformed'] is True
    assert str(tmp_path / 'bad' / 'MANIFEST.json') in others[0]['reason'] and message in others[0]['reason']


def test_manifest_symlink_is_not_followed(tmp_path):
    (tmp_path / 'elsewhere.json').write_text(json.dumps(good_manifest()))
    (tmp_path / 's1').mkdir()
    os.symlink(str(tmp_path / 'elsewhere.json'), str(tmp_path / 's1' / 'MANIFEST.json'))
    complete, others = sets.list_sets(str(tmp_path))
    assert complete == [] and 'MANIFEST.json is a symlink, not a file of the set' in others[0]['reason']


# --------------------------------------------------------------------------------------------
# Rule 1: crafted sets through the module
# --------------------------------------------------------------------------------------------
def test_archive_symlinked_outside_the_set_fails_verify_and_restore(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    archive = [n for n in os.listdir(str(dest / 's1')) if n.endswith('.tar.gz')][0]
    outside = tmp_path / 'outside.tar.gz'
    shutil.move(str(dest / 's1' / archive), str(outside))  # same bytes, same checksum: only the place differs
    os.symlink(str(outside), str(dest / 's1' / archive))
    (src / 'conf' / 'app.yml').write_text('changed live\n')
    live = listing(src)
    ver = run({'dest': str(dest), 'state': 'verified'}, capsys)
    assert ver['failed'] is True and archive in ver['msg'] and 'is a symlink, not a file of the set' in ver['msg']
    res = run({'dest': str(dest), 'state': 'restored', 'backup_id': 's1'}, capsys)
    assert res['failed'] is True and 'set s1 does not verify' in res['msg'] and 'nothing was restored' in res['msg']
    assert listing(src) == live


def test_edited_source_name_cannot_retarget_a_restore(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    victim = tmp_path / 'victim' / 'app'
    victim.mkdir(parents=True)
    (victim / 'precious').write_text('keep me\n')
    edit_manifest(dest, 's1', _set(('sources', 0, 'name'), str(victim)))
    res = run({'dest': str(dest), 'state': 'restored', 'backup_id': 's1'}, capsys)
    assert res['failed'] is True and "no complete set 's1'" in res['msg'] and 'does not match its archive' in res['msg']
    latest = run({'dest': str(dest), 'state': 'restored'}, capsys)
    assert latest['failed'] is True and 'verifies; nothing was restored' in latest['msg']
    assert (victim / 'precious').read_text() == 'keep me\n' and sorted(os.listdir(str(victim))) == ['precious']


def test_malformed_set_fails_verify_by_name_and_the_others_keep_working(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src], 'good')
    backup(capsys, dest, [src], 'zbad')
    (dest / 'lost+found').mkdir()
    with open(manifest_path(dest, 'zbad'), 'w') as handle:
        handle.write('{"format": "cloudos-backup", "format_version": 1')
    ver = run({'dest': str(dest), 'state': 'verified'}, capsys)
    assert ver['failed'] is True and ver['msg'].startswith('1 set(s) do not verify: zbad (MANIFEST.json: ')
    assert [(r['backup_id'], r['ok']) for r in ver['verified']] == [('good', True), ('zbad', False)]
    assert [i['name'] for i in ver['incomplete']] == ['lost+found']
    one = run({'dest': str(dest), 'state': 'verified', 'backup_id': 'good'}, capsys)
    assert not one.get('failed') and one['ok'] is True
    (src / 'conf' / 'app.yml').write_text('broken\n')
    res = run({'dest': str(dest), 'state': 'restored'}, capsys)
    assert not res.get('failed') and res['backup_id'] == 'good' and res['changed'] is True
    assert any('set zbad was skipped' in w and 'zbad/MANIFEST.json is not valid JSON' in w for w in res['warnings'])
    assert (src / 'conf' / 'app.yml').read_text() == 'listen: 8080\n'


def test_retention_never_counts_nor_deletes_a_malformed_set(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src], 'old')
    edit_manifest(dest, 'old', _set(('format_version',), 9))
    res = backup(capsys, dest, [src], 'new', retention={'keep_daily': 1})
    assert res['retention']['delete'] == [] and res['retention']['ignored'][0]['id'] == 'old'
    assert any('set old was left alone by retention' in w for w in res['warnings'])
    pruned = run({'dest': str(dest), 'state': 'pruned', 'retention': {'keep_daily': 1}}, capsys)
    assert pruned['changed'] is False and sorted(os.listdir(str(dest))) == ['.lock', 'new', 'old']


def test_future_dated_set_does_not_steer_retention(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src], 'a')
    backup(capsys, dest, [src], 'future')
    set_time(dest, 'a', datetime.datetime(2020, 1, 1, tzinfo=UTC))
    set_time(dest, 'future', datetime.datetime(2099, 1, 1, tzinfo=UTC))
    args = {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'today', 'system_state': [],
            'retention': {'keep_daily': 1}}
    check = run(args, capsys, check=True)
    res = run(args, capsys)
    assert not res.get('failed') and os.path.isdir(str(dest / 'today')) and os.path.isdir(str(dest / 'future'))
    assert [d['id'] for d in res['retention']['delete']] == ['a'] == [d['id'] for d in check['retention']['delete']]
    assert res['retention']['future'] == ['future']
    assert any('set future is dated in the future' in w for w in res['warnings'])
    keep = dict((k['id'], k['reasons']) for k in res['retention']['keep'])
    assert 'newest' in keep['today'] and 'written by this run' in keep['today']
    latest = run({'dest': str(dest), 'state': 'verified', 'backup_id': 'latest'}, capsys)
    assert [r['backup_id'] for r in latest['verified']] == ['today']
    assert any('set future was skipped: it is dated in the future' in w for w in latest['warnings'])


def test_retention_keeps_the_set_just_written_even_when_older_sets_look_newer(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src], 'other')
    set_time(dest, 'other', sets.utcnow() + datetime.timedelta(seconds=120))  # within the slack: counted
    res = backup(capsys, dest, [src], 'mine', retention={'keep_daily': 1}, force=True)
    assert 'mine' in os.listdir(str(dest)) and 'mine' not in [d['id'] for d in res['retention']['delete']]


@pytest.mark.parametrize('backup_id', ['latest', 'all', 'LATEST', 'All'])
def test_reserved_ids_are_refused_for_present(tmp_path, src, capsys, backup_id):
    res = run({'dest': str(tmp_path / 'b'), 'paths': [str(src)], 'backup_id': backup_id, 'system_state': []}, capsys)
    assert res['failed'] is True and res['msg'].startswith('backup_id: %r is reserved' % backup_id)
    assert not (tmp_path / 'b').exists()


def test_restore_of_all_is_refused(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    (src / 'conf' / 'app.yml').write_text('live\n')
    res = run({'dest': str(dest), 'state': 'restored', 'backup_id': 'all'}, capsys)
    assert res['failed'] is True and res['msg'].startswith("backup_id: 'all' selects every set")
    assert (src / 'conf' / 'app.yml').read_text() == 'live\n'


@pytest.mark.parametrize('name, root, expected', [
    ('/srv/app', '/r', '/r/srv/app'),
    ('/', '/r', '/r'),
])
def test_restore_root_places_targets_inside_it(name, root, expected):
    assert engine._path_target(name, root) == expected  # pylint: disable=protected-access


@pytest.mark.parametrize('target, message', [
    ('/', 'restoring onto / is refused'),
    ('/proc/sys', 'the target /proc/sys is refused: it is under /proc'),
    ('/run/app', 'the target /run/app is refused: it is under /run'),
    ('/backup', 'the target /backup holds dest /backup/cloudos'),
])
def test_restore_targets_that_are_no_place_for_data_are_refused(target, message):
    with pytest.raises(BackupError) as err:
        engine.check_restore_target('s1', {'kind': 'path', 'name': target}, target, '/backup/cloudos', [])
    assert str(err.value).startswith('path %s of set s1: ' % target) and message in str(err.value)


def test_retention_plan_protects_and_ignores_the_future():
    now = datetime.datetime(2024, 6, 1, tzinfo=UTC)
    day = datetime.timedelta(days=1)
    planned = retention.plan_retention([('old', now - 3 * day), ('mine', now - day), ('fut', now + 400 * day)],
                                       {'keep_daily': 1}, now, protect=['mine'])
    assert [d['id'] for d in planned['delete']] == ['old'] and planned['future'] == ['fut']
    planned = retention.plan_retention([('mine', now - 3 * day), ('later', now - day)], {'keep_daily': 1}, now,
                                       protect=['mine'])
    assert planned['delete'] == []


@pytest.mark.parametrize('policy, message', [
    ({'keep_days': 10 ** 12}, 'retention.keep_days: 1000000000000 is more than 100000'),
    ({'keep_daily': 10 ** 7}, 'retention.keep_daily: 10000000 is more than 100000'),
])
def test_retention_extremes_are_refused(policy, message):
    with pytest.raises(ValueError) as err:
        retention.validate_policy(policy)
    assert str(err.value) == message


# --------------------------------------------------------------------------------------------
# Rule 2: "success" is true
# --------------------------------------------------------------------------------------------
def test_non_utf8_names_are_backed_up_and_restored_byte_exactly(tmp_path, capsys):
    src = tmp_path / 'names'
    src.mkdir()
    raw = os.fsencode(str(src))
    for name in (b'caf\xe9.txt', b'\xff\xfe', b'ok.txt'):
        with open(raw + b'/' + name, 'wb') as handle:
            handle.write(name * 3)
    os.mkdir(raw + b'/dir\x80')
    os.symlink(b'caf\xe9.txt', raw + b'/dir\x80/link\xe9')
    before = sorted(os.listdir(raw))
    dest = tmp_path / 'b'
    res = backup(capsys, dest, [src])
    assert res['backup']['sources'][0]['files'] == 3
    shutil.rmtree(raw)
    done = run({'dest': str(dest), 'state': 'restored', 'compare': ['manifest']}, capsys)
    assert not done.get('failed') and done['changed'] is True and done['compare'][0]['manifest']['ok'] is True
    assert sorted(os.listdir(raw)) == before
    with open(raw + b'/caf\xe9.txt', 'rb') as handle:
        assert handle.read() == b'caf\xe9.txt' * 3
    assert os.readlink(raw + b'/dir\x80/link\xe9') == b'caf\xe9.txt'
    ver = run({'dest': str(dest), 'state': 'verified'}, capsys)
    assert ver['ok'] is True


def test_printable_makes_surrogates_valid_utf8():
    assert sets.printable({'a\udce9': ['x\udcff', 1]}) == {'a\\xe9': ['x\\xff', 1]}


def test_symlink_to_directory_is_backed_up_as_its_content(tmp_path, src, capsys):
    link = tmp_path / 'current'
    os.symlink(str(src), str(link))
    dest = tmp_path / 'b'
    check = run({'dest': str(dest), 'paths': [str(link)], 'backup_id': 's1', 'system_state': []}, capsys, check=True)
    assert check['sources'][0]['symlink_to'] == str(src) and check['sources'][0]['entries'] == 4
    res = backup(capsys, dest, [link])
    entry = res['backup']['sources'][0]
    assert entry['name'] == str(link) and entry['symlink_to'] == str(src) and entry['files'] == 2
    (src / 'conf' / 'app.yml').write_text('broken\n')
    done = run({'dest': str(dest), 'state': 'restored'}, capsys)
    assert not done.get('failed') and done['restored'][0]['target'] == str(src)
    assert os.path.islink(str(link)) and (src / 'conf' / 'app.yml').read_text() == 'listen: 8080\n'


@pytest.mark.parametrize('layout', ['dest inside source', 'source inside dest', 'dest through a link'])
def test_dest_and_sources_may_not_overlap(tmp_path, src, capsys, layout):
    if layout == 'dest inside source':
        dest, paths, message = src / 'backups', [src], 'paths: %s holds dest %s' % (src, src / 'backups')
    elif layout == 'source inside dest':
        backup(capsys, tmp_path / 'b', [src])
        dest, paths = tmp_path / 'b', [tmp_path / 'b' / 's1']
        message = 'paths: %s is inside dest %s' % (paths[0], dest)
    else:
        os.symlink(str(src), str(tmp_path / 'alias'))
        dest, paths = tmp_path / 'alias' / 'backups', [src]
        message = 'paths: %s holds dest %s' % (src, dest)
    before = listing(tmp_path)
    res = run({'dest': str(dest), 'paths': [str(p) for p in paths], 'backup_id': 's2', 'system_state': []}, capsys)
    assert res['failed'] is True and res['msg'].startswith(message), res['msg']
    assert listing(tmp_path) == before


@pytest.mark.parametrize('path, message', [
    ('/proc', 'paths: /proc is not a source to back up: it is under /proc'),
    ('/proc/self/fd', 'paths: /proc/self/fd is not a source to back up: it is under /proc'),
    ('/sys/kernel', 'paths: /sys/kernel is not a source to back up: it is under /sys'),
    ('/dev', 'paths: /dev is not a source to back up: it is under /dev'),
    ('/run', 'paths: /run is not a source to back up: it is under /run'),
    ('/', 'paths: / is not a source to back up: it holds /proc, a proc file system'),
])
def test_pseudo_filesystems_are_refused_as_sources(tmp_path, capsys, path, message):
    res = run({'dest': str(tmp_path / 'b'), 'paths': [path], 'system_state': []}, capsys)
    assert res['failed'] is True and res['msg'].startswith(message), res['msg']
    assert not (tmp_path / 'b').exists()


def test_symlink_into_proc_is_refused(tmp_path, capsys):
    os.symlink('/proc/self', str(tmp_path / 'sneaky'))
    res = run({'dest': str(tmp_path / 'b'), 'paths': [str(tmp_path / 'sneaky')], 'system_state': []}, capsys)
    assert res['failed'] is True and 'sneaky is not a source to back up: it is under /proc' in res['msg']


@pytest.mark.parametrize('mounts, path, message', [
    ([('/', 'ext4'), ('/mnt/cg', 'cgroup2')], '/mnt/cg/x', 'it is on /mnt/cg, a cgroup2 file system'),
    ([('/', 'ext4'), ('/srv/k', 'debugfs')], '/srv', 'it holds /srv/k, a debugfs file system (back up the directories beside it instead)'),
    ([('/', 'ext4'), ('/data', 'tmpfs')], '/data', None),
    ([('/', 'ext4')], '/srv', None),
])
def test_pseudo_filesystem_from_the_mount_table(mounts, path, message):
    assert engine.pseudo_filesystem(path, mounts) == message


def test_mount_table_escapes_are_read(tmp_path):
    table = tmp_path / 'mounts'
    table.write_text('/dev/sdb1 /mnt/a\\040b ext4 rw 0 0\n', encoding='utf-8')
    assert engine.read_mounts(str(table)) == [('/mnt/a b', 'ext4')]


def test_sparse_file_is_restored_sparse(tmp_path, capsys):
    src = tmp_path / 'sparse'
    src.mkdir()
    big = src / 'disk.img'
    with open(str(big), 'wb') as handle:
        handle.write(b'head' * 1024)
        handle.seek(64 << 20)
        handle.write(b'tail' * 1024)
    with open(str(src / 'holeend.img'), 'wb') as handle:
        handle.write(b'x')
        handle.truncate(8 << 20)
    original = os.stat(str(big)).st_blocks * 512
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    shutil.rmtree(str(src))
    done = run({'dest': str(dest), 'state': 'restored', 'compare': ['manifest']}, capsys)
    assert not done.get('failed') and done['compare'][0]['manifest']['ok'] is True
    st = os.stat(str(big))
    assert st.st_size == (64 << 20) + 4096 and st.st_blocks * 512 <= original + (256 << 10)
    assert os.stat(str(src / 'holeend.img')).st_size == 8 << 20
    assert os.stat(str(src / 'holeend.img')).st_blocks * 512 <= 256 << 10
    with open(str(big), 'rb') as handle:
        assert handle.read(4096) == b'head' * 1024
        handle.seek(64 << 20)
        assert handle.read() == b'tail' * 1024


def test_check_mode_predicts_the_run(tmp_path, src, capsys):
    dest = tmp_path / 'b'
    for number, backup_id in enumerate(['d1', 'd2', 'd3']):
        backup(capsys, dest, [src], backup_id)
        set_time(dest, backup_id, datetime.datetime(2024, 1, 1 + number, tzinfo=UTC))
    os.mkdir(str(dest / '.incomplete-x-999999999'))
    args = {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'd4', 'system_state': [],
            'retention': {'keep_daily': 2}}
    check = run(args, capsys, check=True, diff=True)
    assert sorted(os.listdir(str(dest))) == ['.incomplete-x-999999999', '.lock', 'd1', 'd2', 'd3']
    real = run(args, capsys, diff=True)
    assert check['cleaned'] == real['cleaned'] == ['.incomplete-x-999999999']
    assert check['retention']['delete'] == real['retention']['delete'] and len(real['retention']['delete']) == 2
    assert check['diff']['after'] == real['diff']['after'] == 'd3\nd4\n'
    (src / 'conf' / 'app.yml').write_text('x\n')
    (src / 'extra').write_text('y\n')
    rcheck = run({'dest': str(dest), 'state': 'restored'}, capsys, check=True)
    rreal = run({'dest': str(dest), 'state': 'restored'}, capsys)
    for key in ('created', 'changed_files', 'removed', 'summary', 'target'):
        assert rcheck['restored'][0][key] == rreal['restored'][0][key]
    assert rreal['restored'][0]['removed'] == ['app/extra'] and not (src / 'extra').exists()


# --------------------------------------------------------------------------------------------
# Garbage in every option: a clean message naming the option, nothing written
# --------------------------------------------------------------------------------------------
# ansible-core logs the invocation to syslog before the module runs and refuses a NUL there
# ("Failed to log to syslog (embedded null character)"); with that logging off, the module
# names the option. Both are checked (test_nul_bytes_fail_cleanly_before_writing).
NUL = [
    ({'dest': '/tmp/x\0y'}, "dest: '/tmp/x\\x00y' contains a NUL byte"),
    ({'paths': ['/etc\0/passwd']}, "paths[0]: '/etc\\x00/passwd' contains a NUL byte"),
    ({'backup_id': 'a\0b'}, "backup_id: 'a\\x00b' contains a NUL byte"),
    ({'exclude': ['*\0']}, 'exclude[0]: '),
    ({'docker_volumes': ['v\0']}, 'docker_volumes[0]: '),
    ({'stop_containers': ['c\0']}, 'stop_containers[0]: '),
    ({'restore_root': '/r\0', 'state': 'restored', 'backup_id': 's1'}, 'restore_root: '),
    ({'docker_host': 'unix:///x\0'}, 'docker_host: '),
]


@pytest.mark.parametrize('override, message', NUL, ids=[sorted(g[0])[-1] for g in NUL])
@pytest.mark.parametrize('syslog', [True, False], ids=['syslog', 'no-syslog'])
def test_nul_bytes_fail_cleanly_before_writing(tmp_path, src, capsys, override, message, syslog):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    before = listing(tmp_path)
    args = {'dest': str(dest), 'paths': [str(src)], 'system_state': [], 'backup_id': 's9'}
    args.update(override)
    if syslog:
        res = run(args, capsys)
    else:
        with mock.patch.object(cloudos_backup.AnsibleModule, '_log_invocation', lambda _self: None):
            res = run(args, capsys)
    assert res['failed'] is True, res
    refused_by_ansible = syslog and 'Failed to log to syslog (embedded null character)' in res['msg']
    assert message in res['msg'] or refused_by_ansible
    # ansible-core before 2.19 adds its own traceback to that refusal; ours never carry one
    assert 'exception' not in res or refused_by_ansible
    assert listing(tmp_path) == before


GARBAGE = [
    ({'backup_id': 'x' * 5000}, 'backup_id: '),
    ({'backup_id': '..'}, 'backup_id: '),
    ({'backup_id': 'a\nb'}, 'backup_id: '),
    ({'stop_timeout': 10 ** 20}, 'stop_timeout: '),
    ({'stop_timeout': 'soon'}, 'stop_timeout'),
    ({'compression_level': 10 ** 9}, 'compression_level: '),
    ({'compression_level': 'max'}, 'compression_level'),
    ({'retention': {'keep_days': 10 ** 15}}, 'retention.keep_days: '),
    ({'retention': {'keep_daily': 'lots'}}, 'keep_daily'),
    ({'retention': 'daily'}, 'dictionary requested'),  # ansible-core's message for a non-dict
    ({'retention': {'keep_forever': 1}}, 'keep_forever'),
    ({'paths': 'relative'}, 'paths: '),
    ({'paths': [{'a': 1}]}, 'paths'),
    ({'state': 'exploded'}, 'state'),
    ({'compare': ['everything'], 'state': 'restored'}, 'compare'),
    ({'system_state': ['kernel']}, 'system_state'),
    ({'force': 'perhaps'}, 'force'),
    ({'missing_source': 'ignore'}, 'missing_source'),
    ({'compressor': 'xz'}, 'compressor'),
    ({'restore_root': 'relative', 'state': 'restored', 'backup_id': 's1'}, 'restore_root: '),
]


@pytest.mark.parametrize('override, message', GARBAGE, ids=['%s-%d' % (sorted(g[0])[-1], n) for n, g in enumerate(GARBAGE)])
def test_garbage_options_fail_cleanly_before_writing(tmp_path, src, capsys, override, message):
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    before = listing(tmp_path)
    args = {'dest': str(dest), 'paths': [str(src)], 'system_state': [], 'backup_id': 's9'}
    args.update(override)
    res = run(args, capsys)
    assert res['failed'] is True and message in res['msg'], res['msg']
    assert 'Traceback' not in res['msg'] and 'exception' not in res
    assert listing(tmp_path) == before


@pytest.mark.parametrize('compressor', ['python', 'gzip'])
def test_archive_swapped_after_verify_is_not_restored(tmp_path, src, capsys, compressor):
    """Restore hashes the bytes it reads: an archive changed after verification never reaches the target."""
    dest = tmp_path / 'b'
    backup(capsys, dest, [src])
    archive = [n for n in os.listdir(str(dest / 's1')) if n.endswith('.tar.gz')][0]
    program = None if compressor == 'python' else shutil.which(compressor)
    assert compressor == 'python' or program, '%s is not installed' % compressor
    (src / 'conf' / 'app.yml').write_text('live\n')
    live = listing(src)
    with pytest.raises(BackupError) as err:
        engine.extract_to_target(str(dest / 's1' / archive), 'app', str(src), program, sha256='0' * 64)
    assert 'changed after it was verified' in str(err.value) and archive in str(err.value)
    assert listing(src) == live and sorted(os.listdir(str(src.parent))) == ['app']
    with open(manifest_path(dest, 's1')) as handle:
        digest = json.load(handle)['archives'][archive]['sha256']
    engine.extract_to_target(str(dest / 's1' / archive), 'app', str(src), program, sha256=digest)
    assert (src / 'conf' / 'app.yml').read_text() == 'listen: 8080\n'
