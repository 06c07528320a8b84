# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``_systemd``: the one systemctl client, driven by a scripted runner."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils import _systemd
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd, SystemdError

import pytest


class Runner:
    """``run(argv)`` answering by the verb (``argv[1]``); records every call."""

    def __init__(self, **answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        answer = self.answers.get(argv[1].replace('-', '_'), (0, '', ''))
        return answer(argv) if callable(answer) else answer


def client(runner, running=True, files=()):
    exists = (lambda path: path == _systemd.RUN_DIR or path in files) if running else (lambda path: path in files)
    return Systemd(runner, exists=exists, which=lambda name: '/usr/bin/' + name)


def test_parse_show_blocks():
    text = 'Id=a.service\nActiveState=active\n\nId=b.service\nActiveState=failed\n'
    assert _systemd.parse_show(text) == [{'Id': 'a.service', 'ActiveState': 'active'},
                                         {'Id': 'b.service', 'ActiveState': 'failed'}]
    assert _systemd.parse_show(b'Id=c.service\n') == [{'Id': 'c.service'}]


def test_running_needs_the_run_dir_and_systemctl():
    assert client(Runner()).running()
    assert not client(Runner(), running=False).running()
    assert not Systemd(Runner(), exists=lambda p: True, which=lambda n: None).running()


def test_show_is_one_call_keyed_by_the_units_asked_for():
    runner = Runner(show=(0, 'Id=a.service\nLoadState=loaded\n\nId=b.service\nLoadState=not-found\n', ''))
    shown = client(runner).show(['a.service', 'b.service'], ['Id', 'LoadState'])
    assert list(shown) == ['a.service', 'b.service'] and shown['b.service']['LoadState'] == 'not-found'
    assert runner.calls == [['systemctl', 'show', '--no-pager', '-p', 'Id,LoadState', '--', 'a.service', 'b.service']]
    assert client(runner).show([], ['Id']) == {}


def test_failures_raise_with_rc_and_detail():
    runner = Runner(list_units=(1, '', 'Failed to connect to bus\n'))
    with pytest.raises(SystemdError) as info:
        client(runner).list_units(['cloudos-*'])
    assert info.value.rc == 1 and info.value.detail == 'Failed to connect to bus'
    assert str(info.value) == 'systemctl list-units failed (rc 1): Failed to connect to bus'


def test_list_units_and_unit_files():
    runner = Runner(list_units=(0, '\u25cf cloudos-a.service loaded failed failed A\ncloudos-b.service loaded active running B\n', ''),
                    list_unit_files=(0, 'ssh.service enabled enabled\n', ''))
    systemd = client(runner)
    assert systemd.list_units(['cloudos-*']) == ['cloudos-a.service', 'cloudos-b.service']
    assert systemd.unit_files() == 'ssh.service enabled enabled\n'
    assert runner.calls == [
        ['systemctl', 'list-units', '--all', '--plain', '--no-legend', '--no-pager', '--', 'cloudos-*'],
        ['systemctl', 'list-unit-files', '--state=enabled', '--no-legend', '--no-pager']]


def test_is_active_reads_rc_3_as_an_answer_and_pads_unknown():
    runner = Runner(is_active=(3, 'active\ninactive\n', ''))
    assert client(runner).is_active(['ssh', 'auditd', 'fail2ban']) == {
        'ssh': 'active', 'auditd': 'inactive', 'fail2ban': 'unknown'}
    assert runner.calls == [['systemctl', 'is-active', 'ssh.service', 'auditd.service', 'fail2ban.service']]


def test_loaded_asks_systemd_when_it_runs():
    runner = Runner(show=(0, 'Id=docker.service\nLoadState=loaded\n\nId=nope.service\nLoadState=not-found\n', ''))
    assert client(runner).loaded(['docker', 'nope']) == ['docker.service']
    assert client(Runner(show=(1, '', 'boom'))).loaded(['docker']) == []


def test_loaded_falls_back_to_unit_files_without_systemd(tmp_path, monkeypatch):
    unit_dir = tmp_path / 'lib'
    unit_dir.mkdir()
    (unit_dir / 'prometheus.service').write_text('[Service]\n')
    monkeypatch.setattr(_systemd, 'UNIT_DIRS', (str(unit_dir),))
    runner = Runner()
    systemd = Systemd(runner, which=lambda name: None)
    assert systemd.loaded(['prometheus', 'grafana-server.service']) == ['prometheus.service']
    assert runner.calls == []


def test_exec_start():
    text = '{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// ; ignore_errors=no }\n'
    runner = Runner(show=(0, text, ''))
    assert client(runner).exec_start('docker.service') == text
    assert runner.calls == [['systemctl', 'show', 'docker.service', '-p', 'ExecStart', '--value']]
    assert client(Runner(show=(0, '\n', ''))).exec_start('docker.service') is None
    assert client(Runner(), running=False).exec_start('docker.service') is None
    assert client(Runner()).exec_start('') is None


def test_daemon_reload():
    assert client(Runner()).daemon_reload() == (True, 'reloaded')
    assert client(Runner(daemon_reload=(1, '', 'Access denied\n'))).daemon_reload() == (
        False, 'systemctl daemon-reload failed: Access denied')
    runner = Runner()
    assert client(runner, running=False).daemon_reload() == (True, 'systemd is not running') and runner.calls == []


def test_absent_reason():
    assert Systemd(Runner(), exists=lambda p: False, which=lambda n: '/bin/' + n).absent_reason() == (
        'systemd is not running on this host (no /run/systemd/system)')
    assert Systemd(Runner(), exists=lambda p: False, which=lambda n: None).absent_reason() == 'systemctl is not installed'


def test_start_stop_reset_failed():
    runner = Runner(start=(1, '', 'Job for cloudos-api.service failed.\n'))
    sd = client(runner)
    sd.stop('cloudos-api')
    sd.reset_failed('cloudos-api.service')
    with pytest.raises(SystemdError, match='systemctl start failed .rc 1.: Job for cloudos-api.service failed.'):
        sd.start('cloudos-api')
    assert runner.calls == [['systemctl', 'stop', '--', 'cloudos-api.service'],
                            ['systemctl', 'reset-failed', '--', 'cloudos-api.service'],
                            ['systemctl', 'start', '--', 'cloudos-api.service']]


def test_show_matching_is_one_call_and_never_the_managers_properties():
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, 'Id=a.service\nLoadState=loaded\n\nId=b.service\nLoadState=not-found\n\nId=a.service\nLoadState=loaded\n', ''
    systemd = _systemd.Systemd(run, exists=lambda path: True, which=lambda name: '/bin/' + name)
    assert systemd.show_matching(['a*', 'b.service'], ['Id', 'LoadState']) == [
        {'Id': 'a.service', 'LoadState': 'loaded'}, {'Id': 'b.service', 'LoadState': 'not-found'}]
    assert calls == [['systemctl', 'show', '--no-pager', '-p', 'Id,LoadState', '--', 'a*', 'b.service']]
    # `systemctl show` without a unit prints the manager itself: no patterns, no call
    assert systemd.show_matching([], ['Id']) == [] and len(calls) == 1
