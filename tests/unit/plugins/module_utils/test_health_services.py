# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``services``: systemctl output parsing and severity; one command whatever the number of units."""

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


def fake(show_out=SHOW, show_rc=0):
    return FakeHost(commands={'systemctl show': (show_rc, show_out, 'boom' if show_rc else '')})


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


def test_one_show_call_expands_the_patterns_for_all_units():
    host = fake(show_out=SHOW + '\n' + SHOW.split('\n\n', maxsplit=1)[0])  # a unit matched by two patterns, shown twice
    sec = services.probe(host, params(service_patterns=['cloudos-*', 'cloudos-api.service']), THRESHOLDS)
    assert host.ran == [['systemctl', 'show', '--no-pager', '-p', ','.join(services.SHOW_PROPERTIES), '--',
                         'cloudos-*', 'cloudos-api.service']]
    assert sec.metrics['units'] == 5 and [u['unit'] for u in sec.details['units']].count('cloudos-api.service') == 1


def test_no_systemd_is_absent_not_a_crash():
    sec = services.probe(FakeHost(systemd=False), params(), THRESHOLDS)
    assert sec.status == 'absent' and 'systemd is not running' in sec.summary


def test_no_systemd_but_required_is_critical():
    sec = services.probe(FakeHost(systemd=False), params(required=['services']), THRESHOLDS)
    assert sec.status == 'critical' and 'required' in sec.findings[0]['message']


def test_no_matching_unit_is_absent():
    sec = services.probe(fake(show_out=''), params(), THRESHOLDS)
    assert sec.status == 'absent' and sec.summary == 'no systemd unit matches cloudos-*'


def test_systemctl_failure_is_a_finding():
    sec = services.probe(fake(show_rc=1), params(), THRESHOLDS)
    assert sec.status == 'critical' and sec.findings[0]['message'] == 'systemctl show cloudos-* failed (rc 1): boom'


def test_all_active_is_ok():
    show = 'Id=cloudos-api.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nNRestarts=0\n'
    sec = services.probe(fake(show_out=show), params(), THRESHOLDS)
    assert sec.status == 'ok' and sec.summary == '1 unit: 1 active'
