"""Repair decisions: what systemd and Docker say about a unit or container -> what repair does."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _repair as r


def unit(name='cloudos-api.service', active='failed', sub='failed', result='exit-code', **extra):
    data = {'Id': name, 'LoadState': 'loaded', 'ActiveState': active, 'SubState': sub, 'Result': result,
            'StartLimitBurst': '5', 'StartLimitIntervalUSec': '10s'}
    data.update(extra)
    return data


def container(name='cloudos-web', status='exited', policy='on-failure', exit_code=1, health=None):
    state = {'Status': status, 'ExitCode': exit_code}
    if health:
        state['Health'] = {'Status': health}
    return {'Name': '/' + name, 'State': state, 'HostConfig': {'RestartPolicy': {'Name': policy}}}


def test_failed_unit_is_started_once():
    entry = r.plan_unit(unit(), budget_left=3)
    assert entry['action'] == r.START and entry['key'] == 'unit:cloudos-api.service'
    assert entry['reason'] == 'failed (exit-code)'


@pytest.mark.parametrize('data, reason', [
    (unit(active='active', sub='running', result='success'), 'running'),
    (unit(active='activating', sub='auto-restart'), 'systemd is already restarting it'),
    (unit(active='inactive', sub='dead', result='success'), 'not failed (inactive)'),
])
def test_units_left_to_systemd_or_to_the_operator(data, reason):
    entry = r.plan_unit(data, budget_left=3)
    assert entry['action'] is None
    assert entry['reason'].startswith(reason)


def test_start_limit_hit_needs_permission_to_reset():
    hit = unit(result='start-limit-hit')
    entry = r.plan_unit(hit, budget_left=3, reset_failed=False)
    assert entry['action'] is None and entry['disposition'] == r.ESCALATE
    assert 'StartLimitBurst=5 in 10s' in entry['reason'] and 'repair_reset_failed' in entry['reason']
    assert r.plan_unit(hit, budget_left=3, reset_failed=True)['action'] == r.RESET_AND_START


def test_spent_budget_escalates_instead_of_restarting():
    entry = r.plan_unit(unit(), budget_left=0)
    assert entry['action'] is None and entry['disposition'] == r.ESCALATE
    assert r.plan_container(container(), budget_left=0)['disposition'] == r.ESCALATE


def test_allow_and_deny_lists():
    assert r.plan_unit(unit(), 3, deny=['cloudos-api*'])['reason'] == 'on the deny list (cloudos-api*)'
    assert r.plan_unit(unit(), 3, allow=['cloudos-scheduler*'])['reason'] == 'not on the allow list'
    assert r.plan_unit(unit(), 3, allow=['cloudos-*'])['action'] == r.START


@pytest.mark.parametrize('data, action, reason', [
    (container(status='running'), None, 'running'),
    (container(status='running', health='unhealthy'), r.RESTART, 'unhealthy'),
    (container(status='restarting', policy='always'), None, 'the engine is restarting it'),
    (container(status='exited', policy='always', exit_code=137), None, 'stopped by a person'),
    (container(status='exited', policy='unless-stopped', exit_code=0), None, 'stopped by a person'),
    (container(status='exited', policy='no', exit_code=1), None, 'its restart policy says it should not run'),
    (container(status='exited', policy='on-failure', exit_code=0), None, 'it completed'),
    (container(status='exited', policy='on-failure', exit_code=3), r.START, 'exited with code 3'),
    (container(status='paused', policy='always'), None, 'paused by a person'),
    (container(status='dead'), None, 'dead'),
])
def test_containers_follow_their_restart_policy(data, action, reason):
    entry = r.plan_container(data, budget_left=3)
    assert entry['action'] == action
    assert entry['reason'].startswith(reason), entry['reason']


def test_validate_names_the_parameter():
    with pytest.raises(r.RepairError, match=r"budget\[unit:x\] must be a whole number >= 0, got -1"):
        r.validate({'budget': {'unit:x': -1}})
    with pytest.raises(r.RepairError, match="budget keys are unit:<name> or container:<name>, got 'x'"):
        r.validate({'budget': {'x': 1}})
    with pytest.raises(r.RepairError, match='wait must be between 0 and 600 seconds, got 9999'):
        r.validate({'wait': 9999})
    with pytest.raises(r.RepairError, match="deny entries must be names or globs, got '-x'"):
        r.validate({'deny': ['-x']})


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Adapter:
    """systemd and Docker as the repair sees them; ``script`` gives each unit's states over time."""

    def __init__(self, clock, script):
        self.clock = clock
        self.script = script
        self.calls = []

    def _at(self, name):
        timeline = self.script[name]
        state = timeline[0][1]
        for when, value in timeline:
            if self.clock.now >= when:
                state = value
        return state

    def reset_failed(self, name):
        self.calls.append(('reset-failed', name))

    def start_unit(self, name):
        self.calls.append(('start', name))

    def start_container(self, name):
        self.calls.append(('docker start', name))

    def restart_container(self, name):
        self.calls.append(('docker restart', name))

    def unit_states(self, names):
        return dict((n, self._at(n)) for n in names)

    def container_states(self, names):
        return dict((n, self._at(n)) for n in names)


UP = {'ActiveState': 'active', 'SubState': 'running'}
DOWN = {'ActiveState': 'failed', 'SubState': 'failed'}
LOOP = {'ActiveState': 'activating', 'SubState': 'auto-restart'}


def test_repair_waits_for_recovery_and_a_crash_after_start_is_not_success():
    clock = Clock()
    plan = r.make_plan([unit('good.service'), unit('flaky.service')],
                       [container('web', status='running', health='unhealthy')], {'max_restarts': 3})
    adapter = Adapter(clock, {
        'good.service': [(0, {'ActiveState': 'activating', 'SubState': 'start'}), (1, UP)],
        'flaky.service': [(0, UP), (2, LOOP)],            # up at first, then dies and loops
        'web': [(0, {'State': {'Status': 'running', 'Health': {'Status': 'starting'}}}),
                (4, {'State': {'Status': 'running', 'Health': {'Status': 'healthy'}}})],
    })
    r.repair(plan, adapter, wait=20, settle=3, clock=clock, sleep=clock.sleep)
    assert adapter.calls == [('start', 'good.service'), ('start', 'flaky.service'), ('docker restart', 'web')]
    result = r.summarise(plan)
    assert result['recovered'] == ['unit:good.service', 'container:web']
    assert result['still_failing'] == ['unit:flaky.service']
    assert 'unit:flaky.service' in result['escalate']
    # a failing item may still come back (systemd restarts it): the whole bound is given to it
    assert clock.now == 20


def test_repair_stops_waiting_once_everything_is_up_for_the_settle_time():
    clock = Clock()
    plan = r.make_plan([unit('good.service')], [], {'max_restarts': 3})
    adapter = Adapter(clock, {'good.service': [(0, {'ActiveState': 'activating', 'SubState': 'start'}), (1, UP)]})
    r.repair(plan, adapter, wait=30, settle=3, clock=clock, sleep=clock.sleep)
    assert plan[0]['result'] == 'recovered' and plan[0]['state_after'] == 'active/running'
    assert 3 <= clock.now < 4


def test_repair_gives_up_at_the_wait_bound():
    clock = Clock()
    plan = r.make_plan([unit('slow.service')], [], {'max_restarts': 3})
    adapter = Adapter(clock, {'slow.service': [(0, {'ActiveState': 'activating', 'SubState': 'start'})]})
    r.repair(plan, adapter, wait=5, settle=1, clock=clock, sleep=clock.sleep)
    assert 5 <= clock.now <= 6
    assert plan[0]['result'] == 'pending'
    assert r.summarise(plan)['still_failing'] == ['unit:slow.service']


def test_nothing_to_do_means_no_change_and_no_wait():
    clock = Clock()
    plan = r.make_plan([unit(active='active', sub='running', result='success')],
                       [container(status='exited', policy='always')], {'max_restarts': 3})
    r.repair(plan, Adapter(clock, {}), wait=30, clock=clock, sleep=clock.sleep)
    result = r.summarise(plan)
    assert result['changed'] is False and clock.now == 0
    assert result['left_alone'] == ['container:cloudos-web']


def test_check_mode_summary_predicts_the_actions():
    plan = r.make_plan([unit()], [container(status='running', health='unhealthy')], {'max_restarts': 3})
    result = r.summarise(plan, check_mode=True)
    assert result['changed'] is True
    assert [e['result'] for e in plan] == ['would start', 'would restart']


@pytest.mark.parametrize('text, micros', [('10s', 10 ** 7), ('1min 30s', 9 * 10 ** 7), ('500ms', 500000),
                                          ('1h', 3600 * 10 ** 6), ('250000', 250000), ('infinity', None), ('', None)])
def test_timespan_us(text, micros):
    assert r.timespan_us(text) == micros


def test_a_unit_that_used_up_its_burst_by_itself_is_not_started_again():
    # systemd restarted it (Restart=) until StartLimitBurst was used up; it says exit-code, not start-limit-hit
    used_up = unit(result='exit-code', NRestarts='2', StartLimitBurst='2', StartLimitIntervalUSec='10min',
                   InactiveEnterTimestampMonotonic=str(100 * 10 ** 6))
    entry = r.plan_unit(used_up, budget_left=3, now_us=160 * 10 ** 6)
    assert entry['action'] is None and entry['disposition'] == r.ESCALATE
    assert 'start limit' in entry['reason']
    # the interval has passed: systemd would take a start again
    assert r.plan_unit(used_up, budget_left=3, now_us=800 * 10 ** 6)['action'] == r.START
    assert r.plan_unit(used_up, budget_left=3, reset_failed=True, now_us=160 * 10 ** 6)['action'] == r.RESET_AND_START


def test_a_start_refused_at_the_start_limit_is_reported_not_counted():
    clock = Clock()
    plan = r.make_plan([unit('late.service')], [], {'max_restarts': 3})
    adapter = Adapter(clock, {'late.service': [(0, dict(DOWN, Result='start-limit-hit'))]})
    adapter.start_unit = lambda name: adapter.calls.append(('start', name)) or 'Job failed: start request repeated too quickly'
    r.repair(plan, adapter, wait=10, clock=clock, sleep=clock.sleep)
    result = r.summarise(plan)
    assert plan[0]['result'] == 'start limit' and plan[0]['disposition'] == r.ESCALATE
    assert result['changed'] is False and result['escalate'] == ['unit:late.service']
    assert clock.now == 0  # nothing to wait for
