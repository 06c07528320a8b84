"""playbooks/repair.yml on a fleet host (real systemd), escalating to local receivers.

A unit that keeps failing is restarted within its budget and escalated exactly once (a webhook
shaped like Alertmanager's, and a PagerDuty Events v2 trigger); a re-run does not tell anyone
again; once the unit is fixed, the next run starts it, it recovers, and the resolve goes out with
the same dedup_key; after that, nothing more is sent. The receivers stand in for PagerDuty and an
Alertmanager webhook receiver (tests/fixtures/receivers.py), on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.fixtures.receivers import HttpReceiver
from tests.fleet.hosts import fleet_image, remove_hosts, start_hosts, wait_booted, write_inventory
from tests.integration.lib import ROOT, run_playbook

pytestmark = pytest.mark.fleet

LABEL = 'cloudos.test=repair'
HOST = 'cloudos-repair-it'
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'repair.yml')
BROKEN = '[Unit]\nDescription=CloudOS unit that fails\n\n[Service]\nExecStart=/bin/false\nRestart=no\n'
FIXED = '[Unit]\nDescription=CloudOS unit, fixed\n\n[Service]\nExecStart=/bin/sleep infinity\nRestart=no\n'


def on_host(*argv, check=True):
    return subprocess.run(['docker', 'exec', HOST] + list(argv), capture_output=True, text=True, check=check)


def install_unit(text):
    subprocess.run(['docker', 'exec', '-i', HOST, 'sh', '-c',
                    'cat > /etc/systemd/system/cloudos-batch.service && systemctl daemon-reload'],
                   input=text, text=True, capture_output=True, check=True)


@pytest.fixture(scope='module')
def host(tmp_path_factory):
    start_hosts(fleet_image(), [HOST], LABEL)
    try:
        assert wait_booted([HOST]) == [], '%s did not boot' % HOST
        on_host('systemctl', 'stop', 'docker.socket', 'docker.service', check=False)
        install_unit(BROKEN)
        on_host('systemctl', 'start', 'cloudos-batch.service', check=False)
        inventory = write_inventory(str(tmp_path_factory.mktemp('inv') / 'hosts.yml'), [HOST], group='cloudos')
        yield inventory
    finally:
        remove_hosts(LABEL)


def repair(inventory, tmp_path, rx):
    extra = {
        'target': 'cloudos',
        'repair_container_patterns': [],
        'repair_silence': False,
        'repair_escalate_after': '0s',
        'repair_wait': 4, 'repair_settle': 2,
        'repair_state_file': str(tmp_path / 'state.json'),
        'repair_report_root': str(tmp_path / 'reports'),
        'repair_fail_on': 'never',
        'repair_notify_targets': [
            {'type': 'webhook', 'url': rx.url('/hook')},
            {'type': 'pagerduty', 'url': rx.url('/pagerduty'), 'routing_key': 'R0UTING-canary'},
        ],
    }
    proc = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)


def state_of(tmp_path):
    with open(str(tmp_path / 'state.json')) as handle:
        return json.load(handle)['items']['%s|unit:cloudos-batch.service' % HOST]


def test_escalate_once_then_resolve(host, tmp_path):
    with HttpReceiver() as rx:
        repair(host, tmp_path, rx)
        hooks, events = rx.bodies('/hook'), rx.bodies('/pagerduty')
        assert len(hooks) == 1 and len(events) == 1
        assert hooks[0]['status'] == 'firing' and hooks[0]['alerts'][0]['labels']['unit'] == 'cloudos-batch.service'
        assert hooks[0]['alerts'][0]['labels']['instance'] == HOST
        assert events[0]['event_action'] == 'trigger'
        dedup = events[0]['dedup_key']
        first = state_of(tmp_path)
        assert len(first['attempts']) == 1 and first['escalated']

        # still failing: restarted again within the budget, nobody told twice
        repair(host, tmp_path, rx)
        assert len(rx.bodies('/hook')) == 1 and len(rx.bodies('/pagerduty')) == 1
        assert len(state_of(tmp_path)['attempts']) == 2

        # fixed: the next run starts it, it recovers, the incident is resolved
        install_unit(FIXED)
        repair(host, tmp_path, rx)
        assert on_host('systemctl', 'is-active', 'cloudos-batch.service', check=False).stdout.strip() == 'active'
        hooks, events = rx.bodies('/hook'), rx.bodies('/pagerduty')
        assert [h['status'] for h in hooks] == ['firing', 'resolved']
        assert [(e['event_action'], e['dedup_key']) for e in events] == [('trigger', dedup), ('resolve', dedup)]
        assert state_of(tmp_path)['escalated'] is None

        # healthy: nothing more
        repair(host, tmp_path, rx)
        assert len(rx.bodies('/hook')) == 2 and len(rx.bodies('/pagerduty')) == 2


def test_check_mode_lists_and_sends_nothing(host, tmp_path):
    install_unit(BROKEN)
    on_host('systemctl', 'restart', 'cloudos-batch.service', check=False)
    with HttpReceiver() as rx:
        extra_state = tmp_path / 'state.json'
        proc = run_playbook(PLAYBOOK, inventory=host, check=True, extra_vars={
            'target': 'cloudos', 'repair_container_patterns': [], 'repair_silence': False,
            'repair_escalate_after': '0s', 'repair_state_file': str(extra_state),
            'repair_report_root': str(tmp_path / 'reports'), 'repair_fail_on': 'never',
            'repair_notify_targets': [{'type': 'webhook', 'url': rx.url('/hook')}]})
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
        out = json.loads(proc.stdout)
        assert rx.requests == []
    assert not extra_state.exists()
    assert on_host('systemctl', 'is-active', 'cloudos-batch.service', check=False).stdout.strip() == 'failed'
    plans = [t['hosts'][HOST] for p in out['plays'] for t in p['tasks']
             if t['task']['name'].endswith('Plan the repair (what would be started, and why the rest is left alone)')]
    assert plans and plans[0]['actions'] == [{'key': 'unit:cloudos-batch.service', 'action': 'start'}]
