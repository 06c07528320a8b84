"""Backup sets on real files: round trip, verify, corrupt sets, unsafe archives, retention on disk.

The Docker side is replaced by ``FakeHost`` (volumes are plain directories here); the real
engine is exercised in tests/integration/backup.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._backup import archive, engine, sets
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError

from backup_helpers import crafted_archive, make_tree, snapshot


class FakeHost(object):
    def __init__(self, volumes=None, containers=None, fail_start=False):
        self.volumes = volumes or {}
        self.containers = dict(containers or {})
        self.calls = []
        self.fail_start = fail_start

    def volume(self, name):
        if name not in self.volumes:
            raise BackupError('docker_volumes: volume %r does not exist on this host' % name)
        return {'name': name, 'mountpoint': self.volumes[name], 'driver': 'local', 'labels': {}, 'options': {}}

    def create_volume(self, name, driver=None, labels=None, options=None):
        raise AssertionError('not expected')

    def container_state(self, name):
        if name not in self.containers:
            raise BackupError('stop_containers: container %r does not exist on this host' % name)
        return self.containers[name]

    def stop_container(self, name, timeout):
        self.calls.append(('stop', name))
        self.containers[name] = False

    def start_container(self, name):
        self.calls.append(('start', name))
        self.containers[name] = True

    def system_state(self, items):
        return {'enabled-units.txt': b'cloudos-api.service enabled\n'}, dict((i, 'ok') for i in items)


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / 'src' / 'cloudos'
    src.mkdir(parents=True)
    make_tree(str(src))
    return src


def backup(dest, paths, **extra):
    params = {'dest': str(dest), 'paths': [str(p) for p in paths], 'system_state': []}
    params.update(extra)
    return engine.create_set(params, extra.pop('host', None) or FakeHost())


def test_round_trip_restores_every_file_exactly(tmp_path, tree):
    before = snapshot(str(tree))
    res = backup(tmp_path / 'dest', [tree], backup_id='b1')
    assert res['changed'] and res['backup']['backup_id'] == 'b1'
    set_dir = tmp_path / 'dest' / 'b1'
    assert sorted(os.listdir(str(set_dir))) == ['MANIFEST.json', 'path-%s.index.jsonl' % sets.slug(str(tree)),
                                                'path-%s.tar.gz' % sets.slug(str(tree))]
    for name in os.listdir(str(set_dir)):
        assert oct(os.stat(str(set_dir / name)).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(str(set_dir)).st_mode & 0o777) == oct(0o700)
    shutil.rmtree(str(tree))
    out = engine.restore({'dest': str(tmp_path / 'dest'), 'backup_id': 'b1'}, FakeHost())
    assert out['changed'] and out['verified']['ok']
    assert snapshot(str(tree)) == before
    # second restore: the live tree matches, nothing to do
    again = engine.restore({'dest': str(tmp_path / 'dest'), 'backup_id': 'b1'}, FakeHost())
    assert again['changed'] is False


def test_restore_mirrors_and_check_mode_lists_changes(tmp_path, tree):
    backup(tmp_path / 'dest', [tree], backup_id='b1')
    (tree / 'conf' / 'app.yml').write_text('listen: 9999\n')
    (tree / 'conf' / 'new.txt').write_text('new\n')
    os.unlink(str(tree / 'data' / 'app.lnk'))
    os.chmod(str(tree / 'conf' / 'secret.key'), 0o644)
    changed_state = snapshot(str(tree))
    params = {'dest': str(tmp_path / 'dest'), 'backup_id': 'b1'}
    check = engine.restore(params, FakeHost(), check_mode=True, diff_mode=True)
    assert check['changed']
    entry = check['restored'][0]
    assert entry['created'] == ['cloudos/data/app.lnk']
    assert entry['removed'] == ['cloudos/conf/new.txt']
    changes = dict((c['path'], c['changes']) for c in entry['changed_files'])
    assert any(c.startswith('content') for c in changes['cloudos/conf/app.yml'])
    assert changes['cloudos/conf/secret.key'] == ['mode 0644 -> 0400']
    assert 'cloudos/conf/new.txt' in check['diff'][0]['before']
    assert 'cloudos/data/app.lnk symlink' in check['diff'][0]['after']
    assert snapshot(str(tree)) == changed_state  # check mode touched nothing
    engine.restore(params, FakeHost())
    assert not (tree / 'conf' / 'new.txt').exists()
    assert (tree / 'conf' / 'app.yml').read_text() == 'listen: 8080\n'
    assert os.readlink(str(tree / 'data' / 'app.lnk')) == '../conf/app.yml'


def test_idempotent_per_backup_id_and_force(tmp_path, tree):
    first = backup(tmp_path / 'dest', [tree], backup_id='same')
    (tree / 'conf' / 'app.yml').write_text('changed\n')
    second = backup(tmp_path / 'dest', [tree], backup_id='same')
    assert second['changed'] is False
    assert second['backup']['created_at'] == first['backup']['created_at']
    forced = backup(tmp_path / 'dest', [tree], backup_id='same', force=True)
    assert forced['changed'] is True
    assert os.listdir(str(tmp_path / 'dest')) == ['.lock', 'same'] or sorted(os.listdir(str(tmp_path / 'dest'))) == ['.lock', 'same']
    records = list(archive.read_index(str(tmp_path / 'dest' / 'same' / forced['backup']['sources'][0]['archive']
                                          .replace('.tar.gz', '.index.jsonl'))))
    app = [r for r in records if r['path'] == 'cloudos/conf/app.yml'][0]
    assert app['size'] == len('changed\n')


def test_flipped_byte_is_caught_and_restore_refused(tmp_path, tree):
    backup(tmp_path / 'dest', [tree], backup_id='b1')
    set_dir = tmp_path / 'dest' / 'b1'
    name = [n for n in os.listdir(str(set_dir)) if n.endswith('.tar.gz')][0]
    path = str(set_dir / name)
    with open(path, 'r+b') as handle:
        handle.seek(os.path.getsize(path) // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))
    report = engine.verify({'dest': str(tmp_path / 'dest'), 'backup_id': 'b1'})
    assert report['ok'] is False
    assert report['verified'][0]['mismatches'][0]['file'] == name
    (tree / 'conf' / 'app.yml').write_text('live change\n')
    live = snapshot(str(tree))
    with pytest.raises(BackupError) as err:
        engine.restore({'dest': str(tmp_path / 'dest'), 'backup_id': 'b1'}, FakeHost())
    assert 'does not verify' in str(err.value) and 'nothing was restored' in str(err.value)
    assert snapshot(str(tree)) == live


def test_latest_restore_skips_a_corrupt_newest_set(tmp_path, tree):
    backup(tmp_path / 'dest', [tree], backup_id='a-old')
    backup(tmp_path / 'dest', [tree], backup_id='b-new')
    with open(str(tmp_path / 'dest' / 'b-new' / 'MANIFEST.json')) as handle:
        manifest = json.load(handle)
    victim = sorted(manifest['archives'])[0]
    with open(str(tmp_path / 'dest' / 'b-new' / victim), 'ab') as handle:
        handle.write(b'x')
    out = engine.restore({'dest': str(tmp_path / 'dest'), 'restore_root': str(tmp_path / 'scratch')}, FakeHost())
    assert out['backup_id'] == 'a-old'
    assert any('b-new does not verify' in w for w in out['warnings'])


def test_unknown_sources_fail_before_writing(tmp_path, tree):
    dest = tmp_path / 'dest'
    with pytest.raises(BackupError) as err:
        backup(dest, [tree, tmp_path / 'nope'])
    assert 'paths: %s does not exist' % (tmp_path / 'nope') in str(err.value)
    with pytest.raises(BackupError) as err:
        engine.create_set({'dest': str(dest), 'paths': [], 'docker_volumes': ['ghost'], 'system_state': []}, FakeHost())
    assert "volume 'ghost' does not exist" in str(err.value)
    with pytest.raises(BackupError) as err:
        backup(dest, [tree], backup_id='a/b')
    assert 'path separator' in str(err.value)
    assert not dest.exists()
    skipped = backup(dest, [tree, tmp_path / 'nope'], missing_source='skip', backup_id='s')
    assert skipped['skipped_sources'] == [{'kind': 'path', 'name': str(tmp_path / 'nope'), 'reason': 'does not exist'}]


def test_volume_and_system_state_sources(tmp_path, tree):
    vol = tmp_path / 'volumes' / 'prometheus_data' / '_data'
    vol.mkdir(parents=True)
    (vol / 'chunks').mkdir()
    (vol / 'chunks' / '000001').write_bytes(b'tsdb' * 1000)
    host = FakeHost(volumes={'prometheus_data': str(vol)})
    res = engine.create_set({'dest': str(tmp_path / 'dest'), 'paths': [str(tree)], 'docker_volumes': ['prometheus_data'],
                             'backup_id': 'v', 'system_state': ['units']}, host)
    kinds = [s['kind'] for s in res['backup']['sources']]
    assert kinds == ['path', 'volume', 'system_state']
    shutil.rmtree(str(vol / 'chunks'))
    out = engine.restore({'dest': str(tmp_path / 'dest'), 'docker_volumes': ['prometheus_data']}, host)
    assert [r['kind'] for r in out['restored']] == ['volume']
    assert (vol / 'chunks' / '000001').read_bytes() == b'tsdb' * 1000
    with pytest.raises(BackupError) as err:
        engine.restore({'dest': str(tmp_path / 'dest'), 'docker_volumes': ['other']}, host)
    assert "'other' is not in set v" in str(err.value)


def test_stop_containers_restarted_after_failure(tmp_path, tree, monkeypatch):
    host = FakeHost(containers={'cloudos-prom': True, 'cloudos-idle': False})

    def boom(*_args, **_kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(archive, 'write_tree', boom)
    with pytest.raises(BackupError) as err:
        backup(tmp_path / 'dest', [tree], backup_id='x', host=host, stop_containers=['cloudos-prom', 'cloudos-idle'])
    assert 'is full' in str(err.value)
    assert host.calls == [('stop', 'cloudos-prom'), ('start', 'cloudos-prom')]
    assert host.containers == {'cloudos-prom': True, 'cloudos-idle': False}
    assert os.listdir(str(tmp_path / 'dest')) == ['.lock']


def test_leftovers_of_dead_runs_are_cleaned(tmp_path, tree):
    dest = tmp_path / 'dest'
    dest.mkdir()
    dead = dest / '.incomplete-old-999999'
    dead.mkdir()
    (dead / 'MANIFEST.json').write_text('{}')
    alive = dest / ('.incomplete-busy-%d' % os.getpid())
    alive.mkdir()
    check = engine.create_set(
        {'dest': str(dest), 'paths': [str(tree)], 'system_state': [], 'backup_id': 'n'}, FakeHost(), check_mode=True)
    assert check['cleaned'] == ['.incomplete-old-999999'] and dead.exists()
    res = backup(dest, [tree], backup_id='n')
    assert res['cleaned'] == ['.incomplete-old-999999']
    assert not dead.exists() and alive.exists()


def _fake_set(dest, set_id, when):
    path = os.path.join(dest, set_id)
    os.makedirs(path)
    manifest = sets.build_manifest(set_id, 'h', when, when, {}, [], {}, [])
    with open(os.path.join(path, 'MANIFEST.json'), 'w') as handle:
        json.dump(manifest, handle)


def test_retention_on_disk_keeps_newest_and_ignores_incomplete(tmp_path):
    dest = str(tmp_path)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    for day in range(20):
        when = start + datetime.timedelta(days=day)
        _fake_set(dest, when.strftime('%Y%m%d'), when)
    os.makedirs(os.path.join(dest, '20991231'))  # no manifest: not complete, never touched
    check = engine.prune({'dest': dest, 'retention': {'keep_daily': 5}}, check_mode=True)
    assert len(check['retention']['delete']) == 15 and len(os.listdir(dest)) == 21
    done = engine.prune({'dest': dest, 'retention': {'keep_daily': 5}})
    assert [d['id'] for d in done['retention']['delete']] == [d['id'] for d in check['retention']['delete']]
    assert sorted(n for n in os.listdir(dest) if not n.startswith('.')) == \
        ['20240116', '20240117', '20240118', '20240119', '20240120', '20991231']
    again = engine.prune({'dest': dest, 'retention': {'keep_daily': 5}})
    assert again['changed'] is False
    newest_only = engine.prune({'dest': dest, 'retention': {'keep_days': 1}})
    assert [k['id'] for k in newest_only['retention']['keep']] == ['20240120']


@pytest.mark.parametrize('members,needle', [
    ([('cloudos', 'dir', None), ('cloudos/../../evil', 'file', b'x')], 'contains ".."'),
    ([('/etc/evil', 'file', b'x')], 'absolute path'),
    ([('cloudos', 'dir', None), ('cloudos/l', 'symlink', '/etc/passwd')], 'symlink to the absolute path'),
    ([('cloudos', 'dir', None), ('cloudos/l', 'symlink', '../../x')], 'pointing outside'),
    ([('cloudos', 'dir', None), ('cloudos/h', 'hardlink', '/etc/shadow')], 'hard link to the absolute path'),
    ([('cloudos', 'dir', None), ('cloudos/h', 'hardlink', 'cloudos/../../x')], 'contains ".."'),
    ([('cloudos', 'dir', None), ('other/x', 'file', b'x')], 'outside the archived tree'),
    ([('cloudos', 'dir', None), ('cloudos/d', 'chr', None)], 'device'),
    ([('cloudos', 'dir', None), ('cloudos/l', 'symlink', 'sub'), ('cloudos/l/x', 'file', b'x')], 'not a directory'),
])
def test_unsafe_members_rejected_and_target_untouched(tmp_path, members, needle):
    """Crafted archives: nothing of them reaches the target or anything outside it."""
    target = tmp_path / 'etc' / 'cloudos'
    target.mkdir(parents=True)
    (target / 'keep.txt').write_text('keep\n')
    before = snapshot(str(target))
    bad = str(tmp_path.parent / ('crafted-%s.tar.gz' % tmp_path.name))
    crafted_archive(bad, members)
    with pytest.raises(archive.UnsafeMember) as err:
        engine.extract_to_target(bad, 'cloudos', str(target), archive.find_compressor())
    assert needle in str(err.value)
    assert snapshot(str(target)) == before
    assert os.listdir(str(tmp_path / 'etc')) == ['cloudos']  # no staging left behind
    assert os.listdir(str(tmp_path)) == ['etc']
    assert not os.path.exists(str(tmp_path / 'evil')) and not os.path.exists('/etc/evil')


def test_external_symlink_allowed_only_when_asked(tmp_path):
    target = tmp_path / 'cloudos'
    bad = str(tmp_path / 'a.tar.gz')
    crafted_archive(bad, [('cloudos', 'dir', None), ('cloudos/current', 'symlink', '/opt/cloudos/v3')])
    engine.extract_to_target(bad, 'cloudos', str(target), None, allow_external_symlinks=True)
    assert os.readlink(str(target / 'current')) == '/opt/cloudos/v3'


def test_python_fallback_compressor_round_trip(tmp_path, tree):
    before = snapshot(str(tree))
    backup(tmp_path / 'dest', [tree], backup_id='py', compressor='python')
    out = engine.restore({'dest': str(tmp_path / 'dest'), 'restore_root': str(tmp_path / 'r'),
                          'compare': ['manifest', 'live'], 'compressor': 'python'}, FakeHost())
    restored = tmp_path / 'r' / str(tree).lstrip('/')
    assert snapshot(str(restored)) == before
    assert out['compare'][0]['manifest']['ok'] is True
    assert out['compare'][0]['live']['same'] == len(before[0])


def test_drill_compare_reports_live_drift(tmp_path, tree):
    backup(tmp_path / 'dest', [tree], backup_id='d')
    (tree / 'conf' / 'app.yml').write_text('drift\n')
    (tree / 'conf' / 'added').write_text('x')
    out = engine.restore({'dest': str(tmp_path / 'dest'), 'restore_root': str(tmp_path / 'r'),
                          'compare': ['manifest', 'live']}, FakeHost())
    live = out['compare'][0]['live']
    assert live['differ'] == 1 and live['only_in_live'] == 1 and live['only_in_backup'] == 0
    assert 'cloudos/conf/app.yml' in live['examples']
    assert out['compare'][0]['manifest']['ok'] is True


def _extract(tmp_path, members):
    path = str(tmp_path / 'a.tar.gz')
    crafted_archive(path, members)
    target = tmp_path / 'out' / 'cloudos'
    engine.extract_to_target(path, 'cloudos', str(target), archive.find_compressor())
    return target


def test_later_member_of_the_same_name_replaces_the_earlier_one(tmp_path):
    target = _extract(tmp_path, [('cloudos', 'dir', None), ('cloudos/f', 'file', b'first'),
                                 ('cloudos/f', 'symlink', 'g'), ('cloudos/g', 'file', b'g'),
                                 ('cloudos/g', 'file', b'second')])
    assert os.readlink(str(target / 'f')) == 'g'
    assert (target / 'g').read_bytes() == b'second'


@pytest.mark.parametrize('members,needle', [
    ([('cloudos', 'dir', None), ('cloudos/d', 'dir', None), ('cloudos/d', 'file', b'x')], 'twice with different types'),
    ([('cloudos', 'dir', None), ('cloudos/d', 'file', b'x'), ('cloudos/d', 'dir', None)], 'twice with different types'),
    ([('cloudos', 'dir', None), ('cloudos/h', 'hardlink', 'cloudos/later'), ('cloudos/later', 'file', b'x')],
     'not a file extracted before it'),
    ([('cloudos', 'dir', None), ('cloudos/l', 'symlink', 'f'), ('cloudos/f', 'file', b'x'),
      ('cloudos/h', 'hardlink', 'cloudos/l')], 'not a file extracted before it'),
])
def test_inconsistent_members_rejected(tmp_path, members, needle):
    with pytest.raises(archive.UnsafeMember) as err:
        _extract(tmp_path, members)
    assert needle in str(err.value)
    assert os.listdir(str(tmp_path / 'out')) == []


def test_hard_links_restored_as_links(tmp_path):
    target = _extract(tmp_path, [('cloudos', 'dir', None), ('cloudos/d', 'dir', None), ('cloudos/d/f', 'file', b'data'),
                                 ('cloudos/h', 'hardlink', 'cloudos/d/f')])
    assert os.stat(str(target / 'h')).st_ino == os.stat(str(target / 'd' / 'f')).st_ino
