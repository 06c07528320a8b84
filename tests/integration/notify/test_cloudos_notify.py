"""cloudos_notify through Ansible, against local receivers that record what they got.

Slack, PagerDuty and a mail server cannot be reached from here: tests/fixtures/receivers.py
answers on 127.0.0.1 the way they do (Slack ``200 ok``, PagerDuty ``202`` with the dedup_key,
an SMTP dialogue smtplib accepts) and keeps every request.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.receivers import HttpReceiver, SmtpSink
from tests.integration.lib import run_module

ALERT = {'name': 'CloudOSRepairFailed', 'severity': 'critical', 'source': 'web-1',
         'summary': 'cloudos-api.service still failed after 3 restarts', 'labels': {'unit': 'cloudos-api.service'}}
ROUTING_KEY = 'R0UT1NGKEY-canary-3f9a'
SMTP_PASSWORD = 'smtp-canary-77c1'


@pytest.fixture
def rx():
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def targets(rx, sink):
    return [
        {'type': 'webhook', 'url': rx.url('/hook'), 'bearer_token': 'hook-canary-12ab'},
        {'type': 'slack', 'url': rx.url('/slack/services/T0/B0/SLACKSECRET')},
        {'type': 'pagerduty', 'url': rx.url('/pagerduty'), 'routing_key': ROUTING_KEY},
        {'type': 'smtp', 'smtp_host': '127.0.0.1', 'smtp_port': sink.port, 'smtp_security': 'none',
         'smtp_username': 'cloudos', 'smtp_password': SMTP_PASSWORD, 'mail_to': ['oncall@example.com']},
    ]


def test_every_target_gets_its_own_format(rx, sink):
    result = run_module('cloudos_notify', {'targets': targets(rx, sink), 'alerts': [ALERT], 'title': 'CloudOS repair'})
    assert not result.failed, result
    assert result['changed'] is True
    assert [x['type'] for x in result['notifications']] == ['webhook', 'slack', 'pagerduty', 'smtp']
    hook, = rx.bodies('/hook')
    assert hook['version'] == '4' and hook['alerts'][0]['labels']['instance'] == 'web-1'
    assert [r['headers'].get('Authorization') for r in rx.requests if r['path'] == '/hook'] == ['Bearer hook-canary-12ab']
    slack, = rx.bodies('/slack')
    assert slack['text'].startswith('[CRITICAL: 1 firing] CloudOS repair')
    event, = rx.bodies('/pagerduty')
    assert event['routing_key'] == ROUTING_KEY and event['event_action'] == 'trigger'
    assert result['notifications'][2]['dedup_keys'] == [event['dedup_key']]
    mail, = sink.messages
    assert mail['rcpt'] == ['<oncall@example.com>']
    assert mail['auth'] == [b'cloudos', SMTP_PASSWORD.encode()]
    assert 'Subject: [CRITICAL: 1 firing] CloudOS repair' in mail['data']
    # secrets are masked in everything Ansible shows
    shown = json.dumps(result)
    for secret in (ROUTING_KEY, SMTP_PASSWORD, 'hook-canary-12ab'):
        assert secret not in shown


def test_resolve_closes_the_same_incident(rx, sink):
    target = [{'type': 'pagerduty', 'url': rx.url('/pagerduty'), 'routing_key': ROUTING_KEY}]
    run_module('cloudos_notify', {'targets': target, 'alerts': [ALERT]})
    resolved = dict(ALERT, status='resolved', summary='running again')
    result = run_module('cloudos_notify', {'targets': target, 'alerts': [resolved]})
    assert not result.failed, result
    trigger, resolve = rx.bodies('/pagerduty')
    assert (trigger['event_action'], resolve['event_action']) == ('trigger', 'resolve')
    assert trigger['dedup_key'] == resolve['dedup_key']


def test_check_mode_sends_nothing(rx, sink):
    result = run_module('cloudos_notify', {'targets': targets(rx, sink), 'alerts': [ALERT]}, check=True)
    assert not result.failed, result
    assert result['changed'] is True
    assert rx.requests == [] and sink.messages == []
    assert [w['type'] for w in result['would_send']] == ['webhook', 'slack', 'pagerduty', 'smtp']
    assert 'SLACKSECRET' not in json.dumps(result)


def test_throttled_answers_are_retried(rx, sink):
    rx.fail_next = [429, 503]
    result = run_module('cloudos_notify', {'targets': [{'type': 'pagerduty', 'url': rx.url('/pagerduty'),
                                                       'routing_key': ROUTING_KEY}],
                                           'alerts': [ALERT], 'retries': 2})
    assert not result.failed, result
    assert [r['answered'] for r in rx.requests] == [429, 503, 'ok']


def test_a_dead_target_fails_the_task_after_the_others_were_sent(rx, sink):
    dead = {'type': 'webhook', 'name': 'old receiver', 'url': 'http://127.0.0.1:9/hook'}
    result = run_module('cloudos_notify', {'targets': [dead, targets(rx, sink)[1]], 'alerts': [ALERT],
                                           'retries': 0, 'timeout': 3})
    assert result.failed
    assert result['msg'].startswith('targets[0] (old receiver): POST http://127.0.0.1:9/...')
    assert 'refused' in result['msg']
    assert len(rx.bodies('/slack')) == 1


def test_bad_input_fails_before_anything_is_sent(rx, sink):
    result = run_module('cloudos_notify', {'targets': targets(rx, sink), 'alerts': [dict(ALERT, starts_at='soon')]})
    assert result.failed
    assert result['msg'] == "alerts[0].starts_at='soon' is not an RFC 3339 time"
    assert rx.requests == [] and sink.messages == []
