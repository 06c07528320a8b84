"""Hostile input through Ansible, as a user runs the modules (issue 13, rules 3, 7 and 8).

* Against a real Alertmanager 0.25 (Debian's prometheus-alertmanager): check mode predicts the
  real run, step by step (create, re-run, extend, re-run shorter, shorten, expire), and a re-run
  with ``duration`` never shortens a window that was extended since (the server's own silence
  list, read between the steps, is the witness).
* Against small servers that answer wrongly on purpose (tests/fixtures/hostile_servers.py):
  each module fails with a message naming the endpoint, or (cloudos_health) reports a finding;
  credentials never reach another origin and never show in a result.

Each scenario is one ansible-playbook run (a task per step, ``check_mode`` set per task), to keep
the suite fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import hostile_servers as hs
from tests.integration import lib as shared
from tests.integration.alertmanager.am_helpers import alertmanager  # noqa: F401  pylint: disable=unused-import

TOKEN = 'tok-77ab-SECRET'
PASSWORD = 'pw-91cd-SECRET'


def run_steps(steps, env=None, timeout=240):
    """Run ``[(name, module, args, check), ...]`` (module ``None``: args is a raw task) in one
    playbook; return ``{name: registered result}``."""
    tasks = []
    for name, module, args, check in steps:
        task = dict(args) if module is None else {'cloudos.ops.%s' % module: args}
        task.update({'name': name, 'register': name, 'ignore_errors': True, 'check_mode': bool(check), 'diff': True})
        tasks.append(task)
    tasks.append({'name': 'results', 'ansible.builtin.debug': {'msg': '{{ %s }}' % json.dumps(
        dict((step[0], '__%s__' % step[0]) for step in steps)).replace('"__', '').replace('__"', '')}})
    playbook = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    path = os.path.join(os.environ.get('PYTEST_TMPDIR') or '/tmp',
                        'cloudos-hostile-%d-%d.yml' % (os.getpid(), time.monotonic_ns()))
    with open(path, 'w') as handle:
        json.dump(playbook, handle)
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=shared.ansible_env(env), cwd=shared.ROOT,
                              timeout=timeout, check=False)
    finally:
        os.unlink(path)
    try:
        data = json.loads(proc.stdout)
        return data['plays'][0]['tasks'][-1]['hosts']['localhost']['msg']
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError('no result (%s)\nstdout:\n%s\nstderr:\n%s' % (exc, proc.stdout[-4000:], proc.stderr[-4000:]))


def iso(moment):
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse(text):
    return datetime.strptime(text.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S.%f%z')


# =========================================================================== real Alertmanager

PAIRS = ['create', 'rerun', 'extend', 'keep', 'shorten', 'expire']


@pytest.fixture(scope='module')
def window(alertmanager):  # noqa: F811
    """One maintenance window driven through every step, each step in check mode first.

    ``listing_<step>``: the server's silences of this identity right after the real step.
    """
    tag = uuid.uuid4().hex[:8]
    ident = {'matchers': ['alertname="Hostile%s"' % tag, 'instance=~"web-.*"'], 'created_by': 'hostile',
             'comment': 'window %s' % tag, 'url': alertmanager.url}
    now = datetime.now(timezone.utc)
    four_hours = iso(now + timedelta(hours=4, minutes=1))
    one_hour = iso(now + timedelta(hours=1))
    args = {
        'create': dict(ident, duration='2h'),
        'rerun': dict(ident, duration='2h'),
        'extend': dict(ident, ends_at=four_hours),
        'keep': dict(ident, duration='2h'),
        'shorten': dict(ident, ends_at=one_hour),
        'expire': dict(ident, state='absent'),
    }
    steps = []
    for step in PAIRS:
        steps.append(('check_%s' % step, 'alertmanager_silence', args[step], True))
        steps.append(('real_%s' % step, 'alertmanager_silence', args[step], False))
        steps.append(('listing_%s' % step, None, {'ansible.builtin.uri': {
            'url': alertmanager.url + '/api/v2/silences?filter=alertname%%3D%%22Hostile%s%%22' % tag,
            'return_content': True}}, False))
    results = run_steps(steps)
    results['ends'] = {'four_hours': four_hours, 'one_hour': one_hour}
    return results


def live(listing):
    return [s for s in listing['json'] if s['status']['state'] != 'expired']


def _same_time(first, second, seconds=2):
    return abs(parse(first) - parse(second)) <= timedelta(seconds=seconds)


@pytest.mark.parametrize('step', PAIRS)
def test_check_mode_predicts_the_real_run(window, step):
    check, real = window['check_%s' % step], window['real_%s' % step]
    assert not check.get('failed') and not real.get('failed'), (check.get('msg'), real.get('msg'))
    for field in ('changed', 'action', 'expired_ids'):
        assert check.get(field) == real.get(field), (step, field, check.get(field), real.get(field))
    if step == 'create':
        assert check['silence_id'] is None and real['silence_id']
    elif step != 'expire':
        assert check['silence_id'] == real['silence_id']     # predicted: updated in place, same id
        assert _same_time(check['silence']['endsAt'], real['silence']['endsAt'])
        assert check['diff']['before'] == real['diff']['before']
    else:
        assert check['diff'] == real['diff']


def test_steps_do_what_a_user_expects(window):
    actions = [window['real_%s' % s]['action'] for s in PAIRS]
    assert actions == ['created', 'unchanged', 'updated', 'unchanged', 'updated', 'expired']
    assert [window['real_%s' % s]['changed'] for s in PAIRS] == [True, False, True, False, True, True]


def test_rerun_with_duration_never_shortens_an_extended_window(window):
    after_extend, after_keep = live(window['listing_extend']), live(window['listing_keep'])
    assert len(after_extend) == 1 and after_keep == after_extend    # nothing written by the re-run
    assert _same_time(after_keep[0]['endsAt'], window['ends']['four_hours'].replace('Z', '.000Z'))
    assert window['real_keep']['silence_id'] == after_extend[0]['id']


def test_explicit_earlier_ends_at_shortens_and_the_diff_shows_it(window):
    after_shorten = live(window['listing_shorten'])
    assert len(after_shorten) == 1
    assert _same_time(after_shorten[0]['endsAt'], window['ends']['one_hour'].replace('Z', '.000Z'))
    diff = window['real_shorten']['diff']
    assert "ends_at: '%s'" % live(window['listing_keep'])[0]['endsAt'] in diff['before']
    assert "ends_at: '%s'" % after_shorten[0]['endsAt'] in diff['after']


def test_expire_leaves_no_live_silence(window):
    assert live(window['listing_expire']) == []


def test_extreme_input_never_reaches_the_server(alertmanager):  # noqa: F811
    tag = uuid.uuid4().hex[:8]
    ident = {'matchers': ['alertname="Extreme%s"' % tag], 'created_by': 'hostile', 'comment': 'x',
             'url': alertmanager.url}
    cases = {
        'weeks': dict(ident, duration='99999999999w'),
        'year9999': dict(ident, ends_at='9999-12-31T00:00:00Z'),
        'year1': dict(ident, starts_at='0001-01-01T00:00:00Z', duration='1h'),
        'leap': dict(ident, ends_at='2031-06-30T23:59:60Z'),
        'timeout': dict(ident, duration='1h', timeout='1e309'),
    }
    results = run_steps([(name, 'alertmanager_silence', args, check) for name, args in cases.items()
                         for check in (False,)])
    assert "duration='99999999999w' is too long" in results['weeks']['msg']
    assert 'ends_at=9999-12-31T00:00:00Z is more than 3653 days from now' in results['year9999']['msg']
    assert "starts_at='0001-01-01T00:00:00Z' is not a valid time" in results['year1']['msg']
    assert "ends_at='2031-06-30T23:59:60Z' is not a valid time: second must be in 0..59" in results['leap']['msg']
    assert 'timeout must be more than 0 and at most 86400 seconds, got inf' in results['timeout']['msg']
    assert all(r['failed'] for r in results.values())
    assert alertmanager.silences(comment='x') == []


# =========================================================================== hostile servers

def test_modules_against_servers_that_answer_wrongly(tmp_path):
    with hs.HostileServer(hs.answer(200, {'leaked': True})) as elsewhere, \
            hs.HostileServer({'/api/v2/silences': hs.redirect(elsewhere.url('/api/v2/silences')),
                              '/api/v2/alerts': hs.answer(200, [{'status': 'firing', 'labels': {}}]),
                              '/-/healthy': hs.answer(200, 'OK', content_type='text/plain'),
                              '/api/v1/query_range': hs.answer(200, '<html>login</html>', content_type='text/html'),
                              '/hook': hs.status_forever(500),
                              None: hs.answer(200, [1, 2, 3])}) as bad:
        results = run_steps([
            ('silence_redirect', 'alertmanager_silence', {
                'url': bad.url(''), 'bearer_token': TOKEN, 'matchers': ['alertname="X"'], 'created_by': 'h',
                'comment': 'c', 'duration': '1h'}, False),
            ('alerts_bad_item', 'alertmanager_alert_info', {'url': bad.url(''), 'url_username': 'ops',
                                                            'url_password': PASSWORD}, False),
            ('capacity_html', 'cloudos_capacity_info', {'prometheus_url': bad.url(''), 'timeout': 5}, False),
            ('notify_500', 'cloudos_notify', {
                'targets': [{'type': 'webhook', 'url': bad.url('/hook'), 'bearer_token': TOKEN}],
                'alerts': [{'name': 'DiskFull', 'summary': 'disk'}], 'timeout': 2, 'retries': 1}, False),
            ('health_alerts', 'cloudos_health', {'checks': ['alerts'], 'alertmanager_url': bad.url(''),
                                                 'timeout': 5}, False),
            ('token_newline', 'alertmanager_alert_info', {'url': bad.url(''), 'bearer_token': TOKEN + '\n'}, False),
        ])
        requests = list(bad.requests)
        received_elsewhere = list(elsewhere.requests)
    text = json.dumps(results)
    assert TOKEN not in text and PASSWORD not in text

    # The credentials stayed with their origin: the redirected request arrived without them.
    assert received_elsewhere and all('authorization' not in r.headers for r in received_elsewhere)
    assert results['silence_redirect']['failed']

    alerts = results['alerts_bad_item']
    assert alerts['failed'] and 'GET %s/api/v2/alerts' % bad.url('') in alerts['msg']
    assert 'item 0: "status" is a JSON string, expected a JSON object' in alerts['msg']

    capacity = results['capacity_html']
    assert capacity['failed'] and '%s/api/v1/query_range' % bad.url('') in capacity['msg']
    assert 'not JSON' in capacity['msg']

    notify = results['notify_500']
    assert notify['failed'] and len([r for r in requests if r.path == '/hook']) == 2   # 1 try + 1 retry
    assert 'answered HTTP 500' in notify['msg']

    health = results['health_alerts']
    assert not health.get('failed'), health.get('msg')
    section = health['health']['checks']['alerts']
    assert section['status'] == 'critical'
    assert 'not an API v2 alert list' in section['findings'][0]['message']

    newline = results['token_newline']
    assert newline['failed'] and 'bearer_token contains white space or a control character' in newline['msg']
    assert not any(TOKEN in r.headers.get('authorization', '') for r in requests if r.path.startswith('/api/v2/alerts'))
