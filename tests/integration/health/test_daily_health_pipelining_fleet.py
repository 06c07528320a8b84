"""playbooks/daily_health.yml on a fleet host: the check is pipelined, unless the inventory says otherwise.

Plain Ansible (no Mitogen) with the community.docker.docker connection, and no pipelining in
the configuration (Ansible's default). The role's default ``ansible_pipelining: true`` sends the
module through the connection's standard input: the check task costs the host one connection
command, and no payload file is copied. An ``ansible_pipelining: false`` in the inventory wins
over the role's default: the payload is copied first (``PUT``), as Ansible does by default, which
takes more commands. Both runs produce a report of the host.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.fleet.hosts import fleet_image, inventory_text, remove_hosts, start_hosts, wait_booted
from tests.integration.lib import ROOT, run_playbook

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

LABEL = 'cloudos.test=daily-health-pipelining'
HOST = 'cloudos-pipelining-1'
CHECK_TASK = 'TASK [cloudos.ops.daily_health : Check CloudOS health]'


@pytest.fixture(scope='module')
def host():
    try:
        start_hosts(fleet_image(), [HOST], LABEL)
        assert wait_booted([HOST]) == []
        yield HOST
    finally:
        remove_hosts(LABEL)


def play(tmp_path, inventory_vars=''):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(inventory_text([HOST], group='fleet').replace('      vars:\n', '      vars:\n' + inventory_vars))
    report_dir = tmp_path / 'run'
    extra_vars = {'target': 'fleet', 'daily_health_fail_on': 'never', 'daily_health_report_dir': str(report_dir)}
    proc = run_playbook(ROOT + '/playbooks/daily_health.yml', inventory=str(inventory), extra_vars=extra_vars,
                        env={'ANSIBLE_STDOUT_CALLBACK': 'default', 'ANSIBLE_PIPELINING': 'false'}, args=['-vvv'])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    # What the connection did during the check task: from its banner to the next one.
    log = proc.stdout
    start = log.index(CHECK_TASK)
    end = log.find('\nTASK [', start + 1)
    section = log[start:end if end > 0 else len(log)]
    commands = re.findall(r'^<%s> (EXEC|PUT) ' % re.escape(HOST), section, re.M)
    with open(str(report_dir / 'report.json')) as handle:
        report = json.load(handle)
    return report, section, commands


def test_the_check_is_one_pipelined_command_and_no_copy(host, tmp_path):
    report, section, commands = play(tmp_path)
    entry = dict((h['host'], h) for h in report['hosts'])[host]
    assert entry['status'] not in ('unreachable', 'error'), entry
    assert entry['checks']['system']['status'] == 'ok'
    assert commands == ['EXEC'], section[-3000:]
    assert 'AnsiballZ_cloudos_health' not in section


def test_the_inventory_turns_pipelining_off_and_the_payload_is_copied_first(host, tmp_path):
    report, section, commands = play(tmp_path, inventory_vars='        ansible_pipelining: false\n')
    entry = dict((h['host'], h) for h in report['hosts'])[host]
    assert entry['status'] not in ('unreachable', 'error'), entry
    assert 'PUT' in commands and len(commands) >= 3, section[-3000:]
    assert 'AnsiballZ_cloudos_health' in section
