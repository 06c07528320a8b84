# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What cloudos_backup does per state (option checks, set-list diffs, failures with results), without Ansible."""

from __future__ import annotations

import os

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._backup import engine, states
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError

from backup_helpers import config_dir


class Host(object):
    """No Docker: only containers that can be stopped and (unless ``fail_start``) started again."""

    def __init__(self, containers=None, fail_start=False):
        self.containers = dict(containers or {})
        self.fail_start = fail_start
        self.calls = []

    def container_state(self, name):
        return self.containers[name]

    def stop_container(self, name, timeout):
        self.calls.append(('stop', name, timeout))
        self.containers[name] = False

    def start_container(self, name):
        self.calls.append(('start', name))
        if self.fail_start:
            raise RuntimeError('engine gone')
        self.containers[name] = True


@pytest.fixture
def src(tmp_path):
    return config_dir(tmp_path)


def params(dest, src=None, **over):
    base = {'state': 'present', 'dest': str(dest), 'paths': [str(src)] if src else None, 'system_state': [],
            'stop_timeout': 30, 'retention': None, 'fail_on_mismatch': True}
    base.update(over)
    return base


@pytest.mark.parametrize('over, message', [
    ({'retention': {'keep_daily': -2, 'keep_days': None}}, 'retention.keep_daily: -2 is negative'),
    ({'stop_timeout': -1}, 'stop_timeout: -1 is negative'),
])
def test_negative_numbers_are_refused(tmp_path, over, message):
    with pytest.raises(BackupError, match=message):
        states.run(params(tmp_path, **over), Host())


def test_unset_retention_rules_are_dropped_and_params_are_not_changed_in_place(tmp_path):
    given = params(tmp_path, retention={'keep_daily': 3, 'keep_weekly': None})
    checked = states.check_params(given)
    assert checked['retention'] == {'keep_daily': 3} and given['retention'] == {'keep_daily': 3, 'keep_weekly': None}


def test_present_diff_of_the_set_list_in_check_mode_and_for_real(tmp_path, src):
    dest = tmp_path / 'b'
    assert states.set_list(str(dest)) == ''
    check = states.run(params(dest, src, backup_id='x'), Host(), check_mode=True)
    assert check['diff'] == {'before_header': '%s (sets)' % dest, 'before': '', 'after_header': '%s (sets)' % dest,
                             'after': 'x\n'}
    states.run(params(dest, src, backup_id='x'), Host())
    done = states.run(params(dest, src, backup_id='y'), Host())
    assert done['diff']['before'] == 'x\n' and done['diff']['after'] == 'x\ny\n'
    again = states.run(params(dest, src, backup_id='y'), Host())
    assert again['changed'] is False and 'diff' not in again


def test_present_check_mode_leaves_out_the_sets_retention_would_delete(tmp_path, src):
    dest = tmp_path / 'b'
    for set_id in ('a', 'b'):
        states.run(params(dest, src, backup_id=set_id), Host())
    check = states.run(params(dest, src, backup_id='c', retention={'keep_days': None, 'keep_daily': 1}), Host(),
                       check_mode=True)
    assert check['diff']['before'] == 'a\nb\n'
    assert check['diff']['after'] == ''.join('%s\n' % i for i in sorted(
        {'a', 'b', 'c'} - set(d['id'] for d in check['retention']['delete'])))
    assert sorted(os.listdir(str(dest))) == ['.lock', 'a', 'b']


def test_pruned_diff_and_no_diff_when_nothing_goes(tmp_path, src):
    dest = tmp_path / 'b'
    for set_id in ('a', 'b'):
        states.run(params(dest, src, backup_id=set_id), Host())
    rule = {'keep_daily': 1}
    check = states.run(params(dest, state='pruned', retention=rule), Host(), check_mode=True)
    kept = [k['id'] for k in check['retention']['keep']]
    assert check['diff'] == {'before': 'a\nb\n', 'after': ''.join('%s\n' % i for i in kept)}
    states.run(params(dest, state='pruned', retention=rule), Host())
    assert 'diff' not in states.run(params(dest, state='pruned', retention=rule), Host())


def test_verified_failure_carries_the_result_unless_told_not_to_fail(tmp_path, src):
    dest = tmp_path / 'b'
    states.run(params(dest, src, backup_id='x'), Host())
    index = [n for n in os.listdir(str(dest / 'x')) if n.endswith('.index.jsonl')][0]
    with open(str(dest / 'x' / index), 'a') as handle:
        handle.write('\n')
    with pytest.raises(states.Failed) as info:
        states.run(params(dest, state='verified'), Host())
    failed = states.failure(info.value)
    assert failed['msg'].startswith('1 set(s) do not verify: x (%s: size' % index)
    assert failed['verified'][0]['ok'] is False and failed['changed'] is False
    soft = states.run(params(dest, state='verified', fail_on_mismatch=False), Host())
    assert soft['ok'] is False


def test_an_os_error_names_the_state_and_keeps_the_traceback(tmp_path, monkeypatch):
    def broken(_params):
        raise OSError(5, 'Input/output error')

    monkeypatch.setattr(engine, 'verify', broken)
    with pytest.raises(states.Failed) as info:
        states.run(params(tmp_path, state='verified'), Host())
    failed = states.failure(info.value)
    assert failed['msg'] == 'verified: [Errno 5] Input/output error'
    assert 'Traceback' in failed['exception'] and 'Input/output error' in failed['exception']
    assert states.failure(BackupError('plain')) == {'msg': 'plain'}


def test_restore_starts_stopped_containers_again_and_warns_when_it_cannot(tmp_path, src):
    dest = tmp_path / 'b'
    states.run(params(dest, src, backup_id='x'), Host())
    (src / 'cloudos.yml').write_text('api: {port: 1}\n')
    host = Host({'cloudos-api': True, 'cloudos-idle': False}, fail_start=True)
    out = states.run(params(dest, state='restored', paths=None, stop_containers=['cloudos-api', 'cloudos-idle'],
                            stop_timeout=5), host)
    assert host.calls == [('stop', 'cloudos-api', 5), ('start', 'cloudos-api')]
    assert out['containers'] == {'stopped': ['cloudos-api'], 'restart_errors': ['cloudos-api: engine gone']}
    assert 'could not start again: cloudos-api: engine gone' in out['warnings']
    assert (src / 'cloudos.yml').read_text() == 'api: {port: 8080}\n' and 'diff' not in out
