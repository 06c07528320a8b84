"""playbooks/daily_health.yml under the Mitogen profile (profiles/mitogen.sh) on two fleet hosts.

With ``ansible_connection: docker`` Mitogen drives the hosts (its ``mitogen_docker``
connection: no AnsiballZ payload is copied to the hosts) and the report lists both hosts with
every section. With ``community.docker.docker`` Mitogen does not take the connection over:
the play still works, as plain Ansible (payloads are copied).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.fleet.hosts import fleet_image, inventory_text, remove_hosts, start_hosts, wait_booted
from tests.integration.lib import BIN, ROOT, ansible_env

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

LABEL = 'cloudos.test=daily-health-mitogen'
HOSTS = ['cloudos-mitogen-1', 'cloudos-mitogen-2']
SECTIONS = ['system', 'services', 'containers', 'kubernetes', 'monitoring', 'alerts', 'resources',
            'ai_engine', 'certificates']


@pytest.fixture(scope='module')
def hosts():
    try:
        start_hosts(fleet_image(), HOSTS, LABEL)
        assert wait_booted(HOSTS) == []
        yield HOSTS
    finally:
        remove_hosts(LABEL)


def play(tmp_path, connection):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(inventory_text(HOSTS, group='fleet').replace('community.docker.docker', connection))
    report_dir = tmp_path / 'run'
    command = ('. profiles/mitogen.sh && ansible-playbook -vvv -i "$1" playbooks/daily_health.yml -e target=fleet '
               '-e daily_health_fail_on=never -e daily_health_report_dir="$2"')
    env = ansible_env({'ANSIBLE_STDOUT_CALLBACK': 'default', 'PYTHON': os.path.join(BIN, 'python')})
    proc = subprocess.run(['sh', '-c', command, 'sh', str(inventory), str(report_dir)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(str(report_dir / 'report.json')) as handle:
        return json.load(handle), proc.stdout


def test_mitogen_runs_daily_health_on_docker_hosts(hosts, tmp_path):
    report, log = play(tmp_path, 'docker')
    assert sorted(h['host'] for h in report['hosts']) == hosts
    for entry in report['hosts']:
        assert entry['status'] not in ('unreachable', 'error'), entry
        assert sorted(entry['checks']) == sorted(SECTIONS)
        assert entry['checks']['system']['status'] == 'ok'
    # the module ran inside Mitogen: no payload was copied (the control run below shows the name)
    assert 'AnsiballZ_cloudos_health' not in log and 'PUT ' not in log


def test_community_docker_connection_is_not_taken_over_but_works(hosts, tmp_path):
    report, log = play(tmp_path, 'community.docker.docker')
    assert sorted(h['host'] for h in report['hosts']) == hosts
    assert all(entry['status'] not in ('unreachable', 'error') for entry in report['hosts'])
    assert 'AnsiballZ_cloudos_health' in log and 'PUT ' in log
