"""playbooks/daily_health.yml under the Mitogen profile (profiles/mitogen.sh) on two fleet hosts.

With ``ansible_connection: docker`` Mitogen drives the hosts (its ``mitogen_docker``
connection: no AnsiballZ payload is copied to the hosts) and the report lists both hosts with
every section. With ``community.docker.docker`` Mitogen does not take the connection over:
the play still works, as plain Ansible (payloads are copied).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from tests.fleet.hosts import fleet_image, inventory_text, remove_hosts, start_hosts, wait_booted
from tests.integration.lib import BIN, ROOT, ansible_env

pytestmark = [pytest.mark.fleet, pytest.mark.docker]

LABEL = 'cloudos.test=daily-health-mitogen'
HOSTS = ['cloudos-mitogen-1', 'cloudos-mitogen-2']
# Two hosts take about 20 s; a run that has not ended after this long is stuck.
PLAY_TIMEOUT = 300
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
    inventory.write_text(inventory_text(HOSTS, group='fleet', connection=connection))
    report_dir = tmp_path / 'run'
    command = ('. profiles/mitogen.sh && ansible-playbook -vvv -i "$1" playbooks/daily_health.yml -e target=fleet '
               '-e daily_health_fail_on=never -e daily_health_report_dir="$2"')
    env = ansible_env({'ANSIBLE_STDOUT_CALLBACK': 'default', 'PYTHON': os.path.join(BIN, 'python')})
    log = tmp_path / 'ansible.log'
    with open(str(log), 'w') as out:
        proc = subprocess.Popen(['sh', '-c', command, 'sh', str(inventory), str(report_dir)], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True)
        try:
            code = proc.wait(timeout=PLAY_TIMEOUT)
        except subprocess.TimeoutExpired:
            # What was still running, then the whole process group goes: the failure shows where it stopped.
            tree = subprocess.run(['ps', '-o', 'pid,ppid,etime,time,stat,wchan:20,args', '--forest', '-s', str(proc.pid)],
                                  capture_output=True, text=True, check=False).stdout
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            written = (report_dir / 'report.json').exists()
            pytest.fail('ansible-playbook under the Mitogen profile did not end within %ss; report written: %s\n'
                        'processes:\n%s\nlast output:\n%s'
                        % (PLAY_TIMEOUT, written, tree, log.read_text(errors='replace')[-6000:]))
    # The output goes to a file, not a pipe: a Mitogen child that outlives ansible-playbook (a
    # docker exec of its connection) would keep a pipe open and make a reader wait for ever.
    # What is left of the session goes once the play has ended.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    output = log.read_text(errors='replace')
    assert code == 0, output[-6000:]
    with open(str(report_dir / 'report.json')) as handle:
        return json.load(handle), output


def test_mitogen_runs_daily_health_on_docker_hosts(hosts, tmp_path):
    report, log = play(tmp_path, 'docker')
    assert sorted(h['host'] for h in report['hosts']) == hosts
    for entry in report['hosts']:
        assert entry['status'] not in ('unreachable', 'error'), entry
        assert sorted(entry['checks']) == sorted(SECTIONS)
        assert entry['checks']['system']['status'] == 'ok'
    # the module ran inside Mitogen: Ansible's docker connection was never opened and no payload
    # was copied (the control run below shows what plain Ansible prints)
    assert 'ESTABLISH DOCKER CONNECTION' not in log
    assert 'AnsiballZ_cloudos_health' not in log and 'PUT ' not in log


def test_community_docker_connection_is_not_taken_over_but_works(hosts, tmp_path):
    report, log = play(tmp_path, 'community.docker.docker')
    assert sorted(h['host'] for h in report['hosts']) == hosts
    assert all(entry['status'] not in ('unreachable', 'error') for entry in report['hosts'])
    # Ansible's own connection, the module pipelined (the role's default): python3 on its standard input
    assert 'ESTABLISH DOCKER CONNECTION' in log
    assert re.search(r"EXEC \['[^']*docker', b'exec', b'-i', 'cloudos-mitogen-1', .*/usr/bin/python3'\]", log), log[-3000:]
