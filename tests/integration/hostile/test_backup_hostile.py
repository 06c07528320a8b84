# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input for cloudos_backup through Ansible on localhost (issue 13, rules 1 and 2).

Real files in tmp directories, crafted sets, non-UTF-8 names: each case asserts what the
user sees (rc, message naming the file or option) and reads the disk back.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil

from tests.integration.lib import run_module


def _tree(root):
    root.mkdir(parents=True)
    (root / 'conf.yml').write_text('port: 1\n')
    (root / 'sub').mkdir()
    (root / 'sub' / 'data').write_bytes(b'\x00data')
    return root


def _files(root):
    out = {}
    for base, _dirs, files in os.walk(os.fsencode(str(root))):
        for name in files:
            full = os.path.join(base, name)
            with open(full, 'rb') as handle:
                out[full] = handle.read()
    return out


def _edit(dest, backup_id, change):
    path = os.path.join(str(dest), backup_id, 'MANIFEST.json')
    with open(path) as handle:
        data = json.load(handle)
    change(data)
    with open(path, 'w') as handle:
        json.dump(data, handle)


def test_non_utf8_names_succeed_and_restore_byte_exactly(tmp_path):
    src = _tree(tmp_path / 'src')
    raw = os.fsencode(str(src))
    with open(raw + b'/caf\xe9.conf', 'wb') as handle:
        handle.write(b'latin-1 name\n')
    os.mkdir(raw + b'/d\xff')
    with open(raw + b'/d\xff/x', 'wb') as handle:
        handle.write(b'x')
    before = _files(src)
    dest = tmp_path / 'b'
    made = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'n1', 'system_state': []})
    assert made.rc == 0 and not made.failed and made['backup']['sources'][0]['files'] == 4, made
    shutil.rmtree(raw)
    done = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored', 'compare': ['manifest']}, diff=True)
    assert done.rc == 0 and not done.failed and done['changed'] is True, done
    assert done['compare'][0]['manifest']['ok'] is True
    assert any('caf\\xe9.conf' in name for name in done['restored'][0]['created'])
    assert _files(src) == before
    again = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored'})
    assert again.rc == 0 and again['changed'] is False


def test_archive_pointing_outside_the_set_is_refused(tmp_path):
    src = _tree(tmp_path / 'src')
    dest = tmp_path / 'b'
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 's1', 'system_state': []})
    archive = [n for n in os.listdir(str(dest / 's1')) if n.endswith('.tar.gz')][0]
    shutil.move(str(dest / 's1' / archive), str(tmp_path / 'planted.tar.gz'))
    os.symlink(str(tmp_path / 'planted.tar.gz'), str(dest / 's1' / archive))
    (src / 'conf.yml').write_text('live\n')
    live = _files(src)
    ver = run_module('cloudos_backup', {'dest': str(dest), 'state': 'verified'})
    assert ver.failed and ver.rc != 0 and archive in ver['msg'] and 'is a symlink, not a file of the set' in ver['msg']
    res = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored'})
    assert res.failed and 'no complete set in %s verifies; nothing was restored' % dest in res['msg']
    assert _files(src) == live


def test_edited_source_name_leaves_the_other_place_alone(tmp_path):
    src = _tree(tmp_path / 'src' / 'app')
    victim = _tree(tmp_path / 'victim' / 'app')
    (victim / 'precious').write_text('keep\n')
    dest = tmp_path / 'b'
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'old', 'system_state': []})
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'new', 'system_state': []})
    _edit(dest, 'new', lambda d: d['sources'][0].update(name=str(victim)))
    kept = _files(victim)
    (src / 'conf.yml').write_text('broken\n')
    res = run_module('cloudos_backup', {'dest': str(dest), 'state': 'restored'})
    assert res.rc == 0 and res['backup_id'] == 'old', res
    assert any('set new was skipped' in w and 'does not match its archive' in w for w in res.get('warnings', []))
    assert _files(victim) == kept and (src / 'conf.yml').read_text() == 'port: 1\n'


def test_future_dated_set_cannot_make_retention_delete_this_run(tmp_path):
    src = _tree(tmp_path / 'src')
    dest = tmp_path / 'b'
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'f', 'system_state': []})
    _edit(dest, 'f', lambda d: d.update(created_at='2099-12-31T00:00:00Z'))
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    res = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': now,
                                        'system_state': [], 'retention': {'keep_daily': 1}})
    assert res.rc == 0 and res['retention']['delete'] == [] and res['retention']['future'] == ['f'], res
    assert sorted(n for n in os.listdir(str(dest)) if not n.startswith('.')) == sorted(['f', now])


def test_dest_inside_source_and_pseudo_filesystems_are_refused_before_writing(tmp_path):
    src = _tree(tmp_path / 'src')
    res = run_module('cloudos_backup', {'dest': str(src / 'backups'), 'paths': [str(src)], 'system_state': []})
    assert res.failed and res['msg'].startswith('paths: %s holds dest %s' % (src, src / 'backups'))
    assert not (src / 'backups').exists()
    proc = run_module('cloudos_backup', {'dest': str(tmp_path / 'b'), 'paths': ['/proc/self'], 'system_state': []})
    assert proc.failed and proc['msg'] == 'paths: /proc/self is not a source to back up: it is under /proc'
    assert not (tmp_path / 'b').exists()


def test_reserved_id_and_malformed_manifest_through_ansible(tmp_path):
    src = _tree(tmp_path / 'src')
    dest = tmp_path / 'b'
    res = run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'latest',
                                        'system_state': []})
    assert res.failed and res['msg'].startswith("backup_id: 'latest' is reserved") and not dest.exists()
    run_module('cloudos_backup', {'dest': str(dest), 'paths': [str(src)], 'backup_id': 'ok', 'system_state': []})
    (dest / 'junk').mkdir()
    (dest / 'junk' / 'MANIFEST.json').write_bytes(b'\xff\xfe not json')
    ver = run_module('cloudos_backup', {'dest': str(dest), 'state': 'verified', 'fail_on_mismatch': False})
    assert ver.rc == 0 and ver['ok'] is False
    assert [(r['backup_id'], r['ok']) for r in ver['verified']] == [('junk', False), ('ok', True)]
    assert 'junk/MANIFEST.json is not UTF-8 text' in ver['verified'][0]['mismatches'][0]['problem']
