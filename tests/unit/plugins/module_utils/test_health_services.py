# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``services``: systemctl output parsing and severity; two commands whatever the number of units."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils import _systemd
from ansible_collections.cloudos.ops.plugins.module_utils._health import services

from health_fakes import THRESHOLDS, FakeHost, params

LIST = ('cloudos-api.service        loaded active   running CloudOS API\n'
        '\u25cf cloudos-scheduler.service loaded failed   failed  CloudOS Scheduler\n'
        'cloudos-ai-engine.service  loaded active   running CloudOS AI engine\n'
        'cloudos-backup.service     loaded inactive dead    CloudOS backup\n'
        'cloudos-worker.service     loaded inactive dead    CloudOS worker\n'
        'cloudos-ghost.service      not-found inactive dead cloudos-ghost.service\n')
SHOW = '\n'.join([
    'Id=cloudos-api.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nNRestarts=2\nTriggeredBy=\n',
    'Id=cloudos-scheduler.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\nNRestarts=5\n',
    'Id=cloudos-ai-engine.service\nLoadState=loaded\nActiveState=activating\nSubState=auto-restart\nResult=exit-code\nNRestarts=9\n',
    'Id=cloudos-backup.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\nNRestarts=0\n'
    'TriggeredBy=cloudos-backup.timer\n',
    'Id=cloudos-worker.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\nNRestarts=0\n'
    'TriggeredBy=\nUnitFileState=enabled\n',
    'Id=cloudos-ghost.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n',
])


def fake(list_out=LIST, show_out=SHOW, list_rc=0):
    return FakeHost(commands={'systemctl list-units': (list_rc, list_out, 'boom' if list_rc else ''),
                              'systemctl show': (0, show_out, '')})


def test_list_units_strips_failed_bullet():
    assert _systemd.parse_list_units(LIST)[:2] == ['cloudos-api.service', 'cloudos-scheduler.service']


def test_probe_severity_rules_and_guide_action():
    host = fake()
    sec = services.probe(host, params(), THRESHOLDS)
    by_unit = dict((f['message'].split()[0], f) for f in sec.findings)
    assert by_unit['cloudos-scheduler.service']['severity'] == 'critical'
    assert by_unit['cloudos-scheduler.service']['action'] == ('journalctl -u cloudos-scheduler.service -n 100 --no-pager; '
                                                              'systemctl restart cloudos-scheduler.service')
    assert by_unit['cloudos-ai-engine.service']['severity'] == 'critical'
    assert 'restart-looping' in by_unit['cloudos-ai-engine.service']['message']
    assert by_unit['cloudos-worker.service']['severity'] == 'warning'
    assert 'cloudos-backup.service' not in by_unit  # a timer's service waiting for its timer is fine
    assert sec.metrics == {'units': 5, 'active': 1, 'failed': 1, 'inactive': 2, 'restarts': 16}
    assert sec.status == 'critical'


def test_one_show_call_for_all_units():
    host = fake()
    services.probe(host, params(service_patterns=['cloudos-*', 'docker.service']), THRESHOLDS)
    assert len(host.ran) == 2
    assert host.ran[0][-2:] == ['cloudos-*', 'docker.service']
    show = host.ran[1]
    assert show[:2] == ['systemctl', 'show'] and 'cloudos-worker.service' in show and 'cloudos-api.service' in show


def test_no_systemd_is_absent_not_a_crash():
    sec = services.probe(FakeHost(systemd=False), params(), THRESHOLDS)
    assert sec.status == 'absent' and 'systemd is not running' in sec.summary


def test_no_systemd_but_required_is_critical():
    sec = services.probe(FakeHost(systemd=False), params(required=['services']), THRESHOLDS)
    assert sec.status == 'critical' and 'required' in sec.findings[0]['message']


def test_no_matching_unit_is_absent():
    sec = services.probe(fake(list_out=''), params(), THRESHOLDS)
    assert sec.status == 'absent' and sec.summary == 'no systemd unit matches cloudos-*'


def test_systemctl_failure_is_a_finding():
    sec = services.probe(fake(list_rc=1), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'rc 1' in sec.findings[0]['message']


def test_all_active_is_ok():
    show = 'Id=cloudos-api.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nNRestarts=0\n'
    sec = services.probe(fake(list_out='cloudos-api.service loaded active running API\n', show_out=show), params(), THRESHOLDS)
    assert sec.status == 'ok' and sec.summary == '1 unit: 1 active'
