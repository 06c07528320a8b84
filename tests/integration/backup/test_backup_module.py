"""cloudos_backup run through Ansible on localhost, with real files, tmpfs mounts and kill -9."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from tests.integration.backup.bk_helpers import ROOT, ansible_env, crafted_archive, make_tree, run_module, snapshot


def _complete_sets(dest):
    return sorted(n for n in os.listdir(str(dest)) if not n.startswith('.')
                  and os.path.isfile(os.path.join(str(dest), n, 'MANIFEST.json')))


def _src(tmp_path):
    src = tmp_path / 'srv' / 'cloudos'
    src.mkdir(parents=True)
    make_tree(str(src))
    return src


def test_round_trip_check_mode_and_idempotence(tmp_path):
    src = _src(tmp_path)
    dest = tmp_path / 'backups'
    args = {'dest': str(dest), 'paths': [str(src)], 'backup_id': '20240131', 'system_state': ['units', 'packages']}
    check = run_module('cloudos_backup', args, check=True)
    assert check['changed'] is True and not check.failed
    assert check['sources'][0]['name'] == str(src) and check['sources'][0]['bytes'] > 2 * 1024 * 1024
    assert not dest.exists()
    first = run_module('cloudos_backup', args, diff=True)
    assert first['changed'] is True, first
    assert first['backup']['backup_id'] == '20240131'
    assert first['diff']['after'] == '20240131\n'
    with open(str(dest / '20240131' / 'MANIFEST.json')) as handle:
        manifest = json.load(handle)
    assert manifest['format_version'] == 1 and manifest['tool']['version']
    assert manifest['host'] and manifest['created_at'].endswith('Z')
    for name, meta in manifest['archives'].items():
        with open(str(dest / '20240131' / name), 'rb') as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == meta['sha256']
    second = run_module('cloudos_backup', args)
    assert second['changed'] is False
    before = snapshot(str(src))
    shutil.rmtree(str(src))
    restored = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored', 'backup_id': '20240131'})
    assert restored['changed'] is True and not restored.failed, restored
    assert snapshot(str(src)) == before
    again = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored', 'backup_id': '20240131'})
    assert again['changed'] is False


def test_restore_check_and_diff_list_changes_without_touching(tmp_path):
    src = _src(tmp_path)
    dest = tmp_path / 'backups'
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'b', 'system_state': []})
    (src / 'conf' / 'app.yml').write_text('listen: 1\n')
    (src / 'conf' / 'stray').write_text('stray\n')
    live = snapshot(str(src))
    res = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored'}, check=True, diff=True)
    assert res['changed'] is True and not res.failed, res
    assert res['restored'][0]['summary']['removed'] == 1 and res['restored'][0]['summary']['changed'] >= 1
    assert 'cloudos/conf/stray' in res['diff'][0]['before']
    assert 'cloudos/conf/app.yml' in res['diff'][0]['after']
    assert snapshot(str(src)) == live


def test_verify_catches_flipped_byte_and_restore_refuses(tmp_path):
    src = _src(tmp_path)
    dest = tmp_path / 'backups'
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'b', 'system_state': []})
    good = run_module('cloudos_backup', {'dest': str(dest), 'state': 'verified'})
    assert good['changed'] is False and not good.failed and good['verified'][0]['ok'] is True
    archive = [n for n in os.listdir(str(dest / 'b')) if n.endswith('.tar.gz')][0]
    path = str(dest / 'b' / archive)
    with open(path, 'r+b') as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0x80]))
    bad = run_module('cloudos_backup', {'dest': str(dest), 'state': 'verified', 'backup_id': 'b'})
    assert bad.failed and 'do not verify' in bad['msg'] and archive in bad['msg']
    shutil.rmtree(str(src / 'data'))
    live = snapshot(str(src))
    refused = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored', 'backup_id': 'b'})
    assert refused.failed and 'does not verify' in refused['msg']
    assert snapshot(str(src)) == live


def test_crafted_archive_rejected_target_untouched(tmp_path):
    """A set whose manifest is consistent but whose archive escapes its tree is refused."""
    target = tmp_path / 'etc' / 'cloudos'
    target.mkdir(parents=True)
    (target / 'ok.yml').write_text('ok\n')
    dest = tmp_path / 'backups'
    res = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(target)], 'backup_id': 'evil', 'system_state': []})
    set_dir = dest / 'evil'
    archive = res['backup']['sources'][0]['archive']
    for members, needle in (
            ([('cloudos', 'dir', None), ('cloudos/../../../escaped', 'file', b'pwned')], '".."'),
            ([('cloudos', 'dir', None), ('cloudos/passwd', 'symlink', '/etc/passwd'), ('cloudos/z', 'file', b'z')],
             'absolute path')):
        os.unlink(str(set_dir / archive))
        crafted_archive(str(set_dir / archive), members)
        with open(str(set_dir / 'MANIFEST.json')) as handle:
            manifest = json.load(handle)
        with open(str(set_dir / archive), 'rb') as handle:
            data = handle.read()
        manifest['archives'][archive] = {'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
        with open(str(set_dir / 'MANIFEST.json'), 'w') as handle:
            json.dump(manifest, handle)
        (target / 'ok.yml').write_text('changed since\n')
        before = snapshot(str(target))
        out = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored', 'backup_id': 'evil', 'force': True})
        assert out.failed and needle in out['msg'] and 'left untouched' in out['msg'], out
        assert snapshot(str(target)) == before
        assert not (tmp_path / 'escaped').exists() and not os.path.exists(str(tmp_path.parent / 'escaped'))
        assert [n for n in os.listdir(str(tmp_path / 'etc')) if n.startswith('.')] == []


def test_errors_are_clear_and_nothing_is_written(tmp_path, tmpfs):
    src = _src(tmp_path)
    dest = tmp_path / 'backups'
    missing = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src), '/nonexistent/x']})
    assert missing.failed and missing['msg'] == ('paths: /nonexistent/x does not exist (set missing_source: skip to '
                                                 'back up the rest)')
    bad_id = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': '2024/01'})
    assert bad_id.failed and "backup_id: '2024/01' contains a path separator" in bad_id['msg']
    assert not dest.exists()
    readonly = tmpfs('1m', 'ro')
    ro = run_module('cloudos_backup', {'dest': str(readonly / 'b'), 'paths': [str(src)], 'system_state': []})
    assert ro.failed and 'read-only file system' in ro['msg']
    skipped = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src), '/nonexistent/x'],
                                            'missing_source': 'skip', 'system_state': []})
    assert not skipped.failed and skipped['skipped_sources'][0]['name'] == '/nonexistent/x'


def test_full_tmpfs_fails_clearly_and_leaves_nothing(tmp_path, tmpfs):
    src = tmp_path / 'big' / 'data'
    src.mkdir(parents=True)
    for n in range(6):
        (src / ('blob%d' % n)).write_bytes(os.urandom(1024 * 1024))
    small = tmpfs('2m')
    res = run_module('cloudos_backup', {'dest': str(small / 'b'), 'paths': [str(src)], 'backup_id': 'full',
                                        'system_state': []})
    assert res.failed and 'is full' in res['msg'] and 'No space left on device' in res['msg'], res
    assert os.listdir(str(small / 'b')) == ['.lock']
    # after freeing space (a smaller source), the same id works
    for n in range(1, 6):
        os.unlink(str(src / ('blob%d' % n)))
    ok = run_module('cloudos_backup', {'dest': str(small / 'b'), 'paths': [str(src)], 'backup_id': 'full',
                                       'system_state': []})
    assert ok['changed'] is True and _complete_sets(small / 'b') == ['full']


def test_kill_9_mid_backup_leaves_no_complete_set(tmp_path):
    src = tmp_path / 'big' / 'data'
    src.mkdir(parents=True)
    for n in range(40):  # compressible text: slow enough at level 9 to be caught half-way
        (src / ('blob%03d' % n)).write_bytes(base64.encodebytes(os.urandom(3 * 1024 * 1024)))
    dest = tmp_path / 'backups'
    args = {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'killed', 'system_state': [], 'compression_level': 9}
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-m', 'cloudos.ops.cloudos_backup',
           '-a', json.dumps(args)]
    proc = subprocess.Popen(cmd, env=ansible_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    work = None
    while time.time() < deadline and proc.poll() is None:
        if dest.exists():
            work = [n for n in os.listdir(str(dest)) if n.startswith('.incomplete-killed-')]
            if work and any(os.path.getsize(str(dest / work[0] / f)) > 4 * 1024 * 1024
                            for f in os.listdir(str(dest / work[0]))):
                break
        time.sleep(0.05)
    assert proc.poll() is None, 'the backup finished before it could be killed; make the tree larger'
    victims = _descendants(proc.pid)  # the module runs in a session of its own, below ansible
    assert any('AnsiballZ_cloudos_backup' in _cmdline(pid) for pid in victims)
    for pid in [proc.pid] + victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    time.sleep(0.5)
    assert work, 'no work directory appeared'
    assert _complete_sets(dest) == []
    assert not (dest / 'killed').exists()
    verify = run_module('cloudos_backup', {'dest': str(dest), 'state': 'verified'})
    assert verify.failed and 'no complete backup set' in verify['msg']
    shutil.rmtree(str(src))
    src.mkdir()
    (src / 'small').write_text('x')
    nxt = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'killed', 'system_state': []})
    assert nxt['changed'] is True and nxt['cleaned'] == work
    assert sorted(os.listdir(str(dest))) == ['.lock', 'killed']


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def _descendants(root):
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as handle:
                    ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _dated_set(dest, when):
    set_id = when.strftime('%Y%m%d')
    os.makedirs(os.path.join(dest, set_id))
    manifest = {'format': 'cloudos-backup', 'format_version': 1, 'backup_id': set_id, 'host': 'h',
                'created_at': when.strftime('%Y-%m-%dT%H:%M:%SZ'), 'sources': [], 'archives': {}}
    with open(os.path.join(dest, set_id, 'MANIFEST.json'), 'w') as handle:
        json.dump(manifest, handle)
    return set_id


def test_retention_on_a_synthetic_series(tmp_path):
    dest = tmp_path / 'backups'
    start = datetime.datetime(2023, 1, 1, 2, 0)
    ids = [_dated_set(str(dest), start + datetime.timedelta(days=d)) for d in range(400)]
    os.makedirs(str(dest / '.incomplete-20240301-999999'))
    os.makedirs(str(dest / 'half-written'))
    policy = {'keep_daily': 7, 'keep_weekly': 5, 'keep_monthly': 12}
    check = run_module('cloudos_backup', {'dest': str(dest), 'state': 'pruned', 'retention': policy}, check=True)
    assert check['changed'] is True
    kept = [k['id'] for k in check['retention']['keep']]
    assert len(_complete_sets(dest)) == 400
    assert kept[:7] == list(reversed(ids[-7:]))
    # last set 2024-02-04: 7 days (01-29..02-04), weeks W04..W01 add 4 (W05 is 02-04),
    # months 2023-12..2023-03 add 10 (2024-02 and 2024-01 are already kept)
    assert len(kept) == 21
    assert {"20231231", "20230331", "20240107"} <= set(kept) and "20230228" not in kept
    done = run_module('cloudos_backup', {'dest': str(dest), 'state': 'pruned', 'retention': policy})
    assert done['changed'] is True and sorted(_complete_sets(dest)) == sorted(kept)
    assert (dest / 'half-written').exists()
    assert done['cleaned'] == ['.incomplete-20240301-999999']
    again = run_module('cloudos_backup', {'dest': str(dest), 'state': 'pruned', 'retention': policy})
    assert again['changed'] is False
    only = run_module('cloudos_backup', {'dest': str(dest), 'state': 'pruned', 'retention': {'keep_days': 30}})
    assert _complete_sets(dest) == [ids[-1]] and only['retention']['keep'][0]['reasons'] == ['newest']
