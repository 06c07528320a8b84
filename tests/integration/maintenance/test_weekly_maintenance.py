"""playbooks/weekly_maintenance.yml end to end on three hosts that are all this machine.

Real components: the playbook and roles as a user runs them (``ansible-playbook``), a real
Alertmanager receiving the maintenance windows' silences, one real Prometheus per host as the
component that host's health check requires, and real ``logrotate`` on test-owned
configurations, state files and logs in the test's temporary directory. Grafana is a fixture
server (not installable here) answering ``/api/health`` like Grafana. Every maintenance item that
would act on the machine itself is turned off, and the tests check that its tasks were skipped.
"""

from __future__ import annotations

from tests.integration.maintenance.maint_helpers import (
    CREATED_BY, assert_machine_untouched, hosts_seen, silences_for, task_results)


def by_host(report):
    return {entry['host']: entry for entry in report['hosts']}


def states(silences):
    return sorted(s['status']['state'] for s in silences)


def test_host_made_unhealthy_mid_run_stops_the_rollout(maintenance_fleet, tmp_path):
    """maint-b's own log rotation kills the Prometheus its health check requires (a real process,
    killed by logrotate's postrotate script during the run): maint-b ends critical, the rollout
    stops there, maint-c is never touched, and maint-b's silence does not outlive the run."""
    fleet = maintenance_fleet
    victim = fleet['maint-b'].prometheus
    fleet['maint-b'].set_logrotate(postrotate='kill -9 %d' % victim.proc.pid)

    proc, output, report = fleet.run(str(tmp_path))

    assert proc.returncode != 0, proc.stdout[-3000:]
    assert victim.proc.poll() is not None, "maint-b's Prometheus should have been killed by its postrotate script"
    assert_machine_untouched(output)

    # maint-a was done completely; maint-b was done and failed; maint-c was never processed.
    assert hosts_seen(output) == ['maint-a', 'maint-b']
    for host in ('maint-a', 'maint-b'):
        for name in ('Check health before the maintenance', 'Check health after the maintenance'):
            assert [r.get('skipped', False) for r in task_results(output, host, name)] == [False], (host, name)
    assert task_results(output, 'maint-c', 'Check health before the maintenance') == []
    assert task_results(output, 'maint-c', 'Check health after the maintenance') == []
    assert fleet['maint-a'].rotated() == ['cloudos-app.log.1']
    assert fleet['maint-b'].rotated() == ['cloudos-app.log.1']
    assert fleet['maint-c'].rotated() == []
    assert fleet['maint-c'].prometheus.proc.poll() is None
    stopped = task_results(output, 'maint-b', 'Stop the rollout when this host failed or ended worse than it started')
    assert len(stopped) == 1 and stopped[0].get('failed'), stopped
    assert 'maint-b' in stopped[0]['msg'] and 'health gate' in stopped[0]['msg'], stopped[0]['msg']

    # Alertmanager: maint-a's and maint-b's windows were opened and closed; maint-c never had one.
    silences = fleet.silences()
    assert silences_for(silences, 'maint-c') == []
    for host in ('maint-a', 'maint-b'):
        mine = silences_for(silences, host)
        assert states(mine) == ['expired'], (host, mine)
        assert mine[0]['createdBy'] == CREATED_BY
        assert mine[0]['matchers'] == [{'name': 'instance', 'value': '(%s)(:[0-9]+)?' % host,
                                        'isRegex': True, 'isEqual': True}]
    assert [s for s in silences if s['status']['state'] != 'expired'] == []

    # The report (JSON) says which host stopped the rollout and why, and that maint-c was not reached.
    assert report is not None, 'no report written'
    hosts = by_host(report)
    assert sorted(hosts) == ['maint-a', 'maint-b', 'maint-c']
    assert hosts['maint-a']['status'] == 'ok'
    assert hosts['maint-b']['status'] == 'critical'
    health = hosts['maint-b']['checks']['health']
    assert health['metrics']['before'] == 'ok' and health['metrics']['after'] == 'critical', health
    reasons = ' '.join(f['message'] for f in hosts['maint-b']['findings'])
    assert 'from ok to critical' in reasons and 'Prometheus' in reasons, hosts['maint-b']['findings']
    assert hosts['maint-c']['status'] == 'skipped'
    assert report['summary']['status_counts']['critical'] == 1 and report['summary']['status_counts']['skipped'] == 1


def test_window_created_and_expired_when_a_task_fails(maintenance_fleet, tmp_path):
    """A maintenance task fails on purpose (the log's postrotate script exits 3, so logrotate
    fails): the play fails, yet the host's silence was created and is now expired in the real
    Alertmanager, none of the window's silences is still in force, and the report names the task."""
    fleet = maintenance_fleet
    fleet['maint-a'].set_logrotate(postrotate='echo "cloudos-api reload refused" >&2; exit 3')

    proc, output, report = fleet.run(str(tmp_path), names=['maint-a'])

    assert proc.returncode != 0, proc.stdout[-3000:]
    assert_machine_untouched(output, complete=False)
    failed = task_results(output, 'maint-a', 'Rotate the logs that need it')
    assert len(failed) == 1 and failed[0].get('failed'), failed
    # The window's start and end really ran against Alertmanager, in that order.
    window = task_results(output, 'maint-a', 'Start or end the maintenance window')
    assert [r.get('changed') for r in window] == [True, True], window
    created_id = window[0]['silence_id']
    assert window[1]['expired_ids'] == [created_id]

    silences = fleet.silences()
    mine = silences_for(silences, 'maint-a')
    assert [(s['id'], s['status']['state'], s['createdBy']) for s in mine] == [(created_id, 'expired', CREATED_BY)]
    assert mine[0]['comment'].startswith('Maintenance window: ')
    active = [s for s in silences if s['status']['state'] != 'expired' and s['comment'] == mine[0]['comment']]
    assert active == []

    entry = by_host(report)['maint-a']
    assert entry['status'] != 'ok'
    assert entry['error'] is not None or entry['findings'], entry
    text = str(entry['error']) + ' '.join(f['message'] for f in entry['findings'])
    assert 'Rotate the logs that need it' in text, entry


def test_check_mode_creates_no_silence(maintenance_fleet, tmp_path):
    """``--check`` previews the windows and the rotation: Alertmanager gets no silence, no log rotates."""
    fleet = maintenance_fleet

    proc, output, report = fleet.run(str(tmp_path), check=True)

    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_machine_untouched(output)
    assert hosts_seen(output) == ['maint-a', 'maint-b', 'maint-c']
    assert fleet.silences() == []
    assert all(fleet[h].rotated() == [] for h in ('maint-a', 'maint-b', 'maint-c'))
    # The preview says what the real run would do: a window per host (its end then has nothing to
    # expire, as the start sent nothing), and the log that needs rotating.
    for host in ('maint-a', 'maint-b', 'maint-c'):
        window = task_results(output, host, 'Start or end the maintenance window')
        assert [r.get('changed') for r in window] == [True, False], (host, window)
        assert window[0]['silence_id'] is None and window[1]['expired_ids'] == [], (host, window)
        assert window[0]['silence']['matchers'][0]['value'] == '(%s)(:[0-9]+)?' % host, window[0]
        plan = task_results(output, host, 'Ask logrotate which logs need rotating')[0]
        assert 'log needs rotating' in plan['results'][0]['stderr'] + plan['results'][0]['stdout']
    assert report['run']['metadata']['check mode'] is True
    assert {e['host']: e['status'] for e in report['hosts']} == {'maint-a': 'ok', 'maint-b': 'ok', 'maint-c': 'ok'}
