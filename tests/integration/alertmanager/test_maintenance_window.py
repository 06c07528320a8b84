"""Role cloudos.ops.maintenance_window and playbooks/maintenance_window.yml, controller side.

The hosts of the inventory are names only (the role talks to Alertmanager from the
controller); Alertmanager is the real one from the fixture, reached through nginx so that
the access log counts the writes of each run.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import pytest

from tests.integration.alertmanager.am_helpers import ROOT, run_playbook

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'maintenance_window.yml')

WRAPPED = """\
- name: Weekly maintenance inside a window
  hosts: all
  gather_facts: false
  tasks:
    - name: Work inside the window, which always ends
      block:
        - name: Start the window
          ansible.builtin.include_role:
            name: cloudos.ops.maintenance_window
          vars:
            maintenance_window_action: start
        - name: Remember the silences
          ansible.builtin.set_fact:
            started_ids: "{{ maintenance_window_silence_ids }}"
        - name: The maintenance work fails
          ansible.builtin.command: /bin/false
          changed_when: false
      always:
        - name: End the window
          ansible.builtin.include_role:
            name: cloudos.ops.maintenance_window
          vars:
            maintenance_window_action: end
"""


@pytest.fixture
def fleet(tmp_path):
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text(
        '[web]\nweb-01\nweb-02\nweb-010\n[db]\ndb-01\n[api]\napi.example.com\n[all:vars]\nansible_connection=local\n'
        'ansible_python_interpreter=%s\n' % sys.executable)
    return str(inventory)


def stats(proc):
    assert proc.stdout, proc.stderr
    data = json.loads(proc.stdout)
    return data['stats']


def silenced_instances(alertmanager, tag):
    alerts = alertmanager.alerts(filter='run="%s"' % tag)
    return sorted(a['labels']['instance'] for a in alerts if a['status']['state'] == 'suppressed')


def test_start_verify_end(alertmanager, proxy, fleet):
    tag = uuid.uuid4().hex[:8]
    alertmanager.push_alerts([{'alertname': 'HighCPUUsage', 'instance': host, 'run': tag}
                              for host in ('web-01:9100', 'web-02:9100', 'web-010:9100', 'db-01:9100', 'db-01',
                                           'api.example.com:9100', 'apiXexample.com:9100')])
    base = {'maintenance_window_name': 'upgrade %s' % tag, 'maintenance_window_alertmanager_url': proxy.url('plain'),
            'target': 'web-01,web-02,db-01,api.example.com', 'maintenance_window_duration': '90m'}
    comment = 'Maintenance window: upgrade %s' % tag

    mark = proxy.mark()
    started = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='start'))
    assert started.returncode == 0, started.stdout[-3000:]
    assert {h: s['changed'] for h, s in stats(started).items()} == {'web-01': 1, 'web-02': 1, 'db-01': 1,
                                                                    'api.example.com': 1}
    assert len(proxy.writes_since(mark)) == 4
    # Anchored, escaped matchers: web-010 and apiXexample.com are not in the window.
    assert silenced_instances(alertmanager, tag) == ['api.example.com:9100', 'db-01', 'db-01:9100', 'web-01:9100',
                                                     'web-02:9100']
    live = alertmanager.silences(comment)
    assert sorted(m['value'] for s in live for m in s['matchers']) == [
        '(api\\.example\\.com)(:[0-9]+)?', '(db-01)(:[0-9]+)?', '(web-01)(:[0-9]+)?', '(web-02)(:[0-9]+)?']
    assert len(live) == 4 and {s['createdBy'] for s in live} == {'cloudos.ops maintenance_window'}

    # Idempotent: the same start again writes nothing.
    mark = proxy.mark()
    again = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='start'))
    assert again.returncode == 0 and all(s['changed'] == 0 for s in stats(again).values())
    assert proxy.writes_since(mark) == []

    # Check mode of the end: reports changes, writes nothing.
    mark = proxy.mark()
    preview = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='end'),
                           check=True)
    assert preview.returncode == 0 and all(s['changed'] == 1 for s in stats(preview).values())
    assert proxy.writes_since(mark) == [] and len(alertmanager.silences(comment)) == 4

    # End for one host only (--limit): only its silence goes.
    mark = proxy.mark()
    one = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='end'),
                       args=['--limit', 'db-01'])
    assert one.returncode == 0
    assert [w[0] for w in proxy.writes_since(mark)] == ['DELETE']
    assert silenced_instances(alertmanager, tag) == ['api.example.com:9100', 'web-01:9100', 'web-02:9100']

    ended = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='end'))
    assert ended.returncode == 0
    assert alertmanager.silences(comment) == []
    assert silenced_instances(alertmanager, tag) == []
    mark = proxy.mark()
    again = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='end'))
    assert again.returncode == 0 and all(s['changed'] == 0 for s in stats(again).values())
    assert proxy.writes_since(mark) == []


def test_play_scope_and_extra_matchers(alertmanager, proxy, fleet):
    tag = uuid.uuid4().hex[:8]
    alertmanager.push_alerts([
        {'alertname': 'HighCPUUsage', 'instance': 'web-01:9100', 'severity': 'warning', 'run': tag},
        {'alertname': 'NodeDown', 'instance': 'web-02:9100', 'severity': 'critical', 'run': tag},
        {'alertname': 'HighCPUUsage', 'instance': 'web-02:9100', 'severity': 'warning', 'run': tag},
        {'alertname': 'HighCPUUsage', 'instance': 'db-01:9100', 'severity': 'warning', 'run': tag},
    ])
    base = {'maintenance_window_name': 'scope %s' % tag, 'maintenance_window_alertmanager_url': proxy.url('plain'),
            'target': 'web-01,web-02', 'maintenance_window_scope': 'play',
            'maintenance_window_extra_matchers': ['severity!="critical"']}
    started = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='start'))
    assert started.returncode == 0, started.stdout[-3000:]
    live = alertmanager.silences('Maintenance window: scope %s' % tag)
    assert len(live) == 1
    alerts = alertmanager.alerts(filter='run="%s"' % tag)
    state = {(a['labels']['alertname'], a['labels']['instance']): a['status']['state'] for a in alerts}
    assert state == {('HighCPUUsage', 'web-01:9100'): 'suppressed', ('HighCPUUsage', 'web-02:9100'): 'suppressed',
                     ('NodeDown', 'web-02:9100'): 'active', ('HighCPUUsage', 'db-01:9100'): 'active'}
    ended = run_playbook(PLAYBOOK, inventory=fleet, extra_vars=dict(base, maintenance_window_action='end'))
    assert ended.returncode == 0 and alertmanager.silences('Maintenance window: scope %s' % tag) == []


def test_failed_work_still_ends_the_window(alertmanager, proxy, fleet, tmp_path):
    tag = uuid.uuid4().hex[:8]
    playbook = tmp_path / 'weekly.yml'
    playbook.write_text(WRAPPED)
    mark = proxy.mark()
    proc = run_playbook(str(playbook), inventory=fleet, args=['--limit', 'web-01,web-02'], extra_vars={
        'maintenance_window_name': 'weekly %s' % tag, 'maintenance_window_alertmanager_url': proxy.url('plain')})
    assert proc.returncode != 0
    writes = [w[0] for w in proxy.writes_since(mark)]
    assert writes == ['POST', 'POST', 'DELETE', 'DELETE']
    assert alertmanager.silences('Maintenance window: weekly %s' % tag) == []
    assert stats(proc)['web-01']['failures'] == 1


def test_bad_action_fails_before_any_request(proxy, fleet):
    mark = proxy.mark()
    proc = run_playbook(PLAYBOOK, inventory=fleet, extra_vars={
        'maintenance_window_action': 'begin', 'maintenance_window_alertmanager_url': proxy.url('plain')})
    assert proc.returncode != 0 and 'maintenance_window_action' in proc.stdout
    assert proxy.requests_since(mark) == []
