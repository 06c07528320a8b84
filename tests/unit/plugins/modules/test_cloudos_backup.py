# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of cloudos_backup: argument handling, results, failures (real files in tmp)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.modules import cloudos_backup

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils'))

from backup_helpers import config_dir  # noqa: E402


def run(args, capsys, check=False, diff=False):
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cloudos_backup.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def src(tmp_path):
    return config_dir(tmp_path)


def test_present_check_then_write_then_noop(tmp_path, src, capsys):
    args = {'dest': str(tmp_path / 'b'), 'paths': [str(src)], 'backup_id': 'x', 'system_state': []}
    check = run(args, capsys, check=True, diff=True)
    assert check['changed'] is True and check['estimated_bytes'] == len('api: {port: 8080}\n')
    assert check['diff']['after'] == 'x\n' and not (tmp_path / 'b').exists()
    done = run(args, capsys)
    assert done['changed'] is True and done['backup']['sources'][0]['files'] == 1
    again = run(args, capsys)
    assert again['changed'] is False and 'diff' not in again


@pytest.mark.parametrize('override, message', [
    ({'backup_id': '../x'}, "backup_id: '../x' contains a path separator"),
    ({'retention': {'keep_daily': -2}}, 'retention.keep_daily: -2 is negative'),
    ({'compression_level': 11}, 'compression_level: 11 is not between 1 and 9'),
    ({'paths': ['relative/dir']}, "paths: 'relative/dir' is not an absolute path"),
    ({'stop_timeout': -1}, 'stop_timeout: -1 is negative'),
])
def test_bad_input_fails_before_writing(tmp_path, src, capsys, override, message):
    args = {'dest': str(tmp_path / 'b'), 'paths': [str(src)], 'system_state': []}
    args.update(override)
    res = run(args, capsys)
    assert res['failed'] is True and message in res['msg']
    assert not (tmp_path / 'b').exists()


def test_verified_fails_on_mismatch_unless_told(tmp_path, src, capsys):
    dest = str(tmp_path / 'b')
    run({'dest': dest, 'paths': [str(src)], 'backup_id': 'x', 'system_state': []}, capsys)
    index = [n for n in os.listdir(os.path.join(dest, 'x')) if n.endswith('.index.jsonl')][0]
    with open(os.path.join(dest, 'x', index), 'a') as handle:
        handle.write('\n')
    res = run({'dest': dest, 'state': 'verified'}, capsys)
    assert res['failed'] is True and index in res['msg'] and res['verified'][0]['ok'] is False
    soft = run({'dest': dest, 'state': 'verified', 'fail_on_mismatch': False}, capsys)
    assert not soft.get('failed') and soft['ok'] is False


def test_pruned_requires_a_rule(tmp_path, capsys):
    res = run({'dest': str(tmp_path), 'state': 'pruned'}, capsys)
    assert res['failed'] is True and 'retention: give at least one of' in res['msg']


def test_restore_check_diff_output(tmp_path, src, capsys):
    dest = str(tmp_path / 'b')
    run({'dest': dest, 'paths': [str(src)], 'backup_id': 'x', 'system_state': []}, capsys)
    (src / 'cloudos.yml').write_text('api: {port: 1}\n')
    res = run({'dest': dest, 'state': 'restored'}, capsys, check=True, diff=True)
    assert res['changed'] is True and res['backup_id'] == 'x'
    assert 'cloudos/cloudos.yml' in res['diff'][0]['before']
    assert (src / 'cloudos.yml').read_text() == 'api: {port: 1}\n'
    quiet = run({'dest': dest, 'state': 'restored'}, capsys, check=True)
    assert 'diff' not in quiet
