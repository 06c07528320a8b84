"""The notifier's payloads (pure functions) and its sending rules, with fake transports."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _notify as n
from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)
UNIT = {'name': 'CloudOSRepairFailed', 'severity': 'critical', 'source': 'web-1',
        'summary': 'cloudos-api.service still failed after 3 restarts', 'labels': {'unit': 'cloudos-api.service'}}


def alerts(*items):
    return n.normalise_alerts([dict(i) for i in items])


def test_default_key_is_stable_per_host_and_unit():
    first, = alerts(UNIT)
    again, = alerts(dict(UNIT, summary='other words', severity='warning'))
    assert first['key'] == again['key'] == 'CloudOSRepairFailed/web-1/cloudos-api.service'
    other, = alerts(dict(UNIT, source='web-2'))
    assert other['key'] != first['key']


@pytest.mark.parametrize('bad, message', [
    ([], 'alerts must be a non-empty list'),
    (['x'], r'alerts\[0\] must be a dict'),
    ([{'summary': 's'}], r'alerts\[0\].name is required'),
    ([dict(UNIT, status='open')], r"alerts\[0\].status must be one of firing, resolved, got 'open'"),
    ([dict(UNIT, severity='high')], r"alerts\[0\].severity must be one of"),
    ([dict(UNIT, starts_at='yesterday')], r"alerts\[0\].starts_at='yesterday' is not an RFC 3339 time"),
    ([UNIT, UNIT], r"alerts\[1\]: key .* appears twice"),
    ([dict(UNIT, labels=['a'])], r'alerts\[0\].labels must be a dict'),
])
def test_bad_alerts_are_refused_naming_the_entry(bad, message):
    with pytest.raises(n.NotifyError, match=message):
        n.normalise_alerts(bad)


def test_webhook_payload_is_alertmanager_version_4():
    payload = n.webhook_payload(alerts(UNIT, dict(UNIT, source='web-2')), 'cloudos.ops', NOW, 'https://reports')
    assert payload['version'] == '4'
    assert payload['status'] == 'firing'
    assert payload['receiver'] == 'cloudos.ops'
    assert payload['groupLabels'] == {'alertname': 'CloudOSRepairFailed'}
    assert payload['groupKey'] == '{}:{alertname="CloudOSRepairFailed"}'
    # instance differs, so it is not common
    assert payload['commonLabels'] == {'alertname': 'CloudOSRepairFailed', 'severity': 'critical',
                                       'unit': 'cloudos-api.service'}
    first = payload['alerts'][0]
    assert set(first) == {'status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint'}
    assert first['labels']['instance'] == 'web-1'
    assert first['endsAt'] == '0001-01-01T00:00:00Z'
    assert first['startsAt'] == '2026-12-01T07:00:00.000Z'
    assert len(first['fingerprint']) == 16 and first['fingerprint'] != payload['alerts'][1]['fingerprint']
    assert payload['externalURL'] == 'https://reports'


def test_resolved_webhook_alert_has_an_end():
    payload = n.webhook_payload(alerts(dict(UNIT, status='resolved')), 'r', NOW)
    assert payload['status'] == 'resolved'
    assert payload['alerts'][0]['endsAt'] == '2026-12-01T07:00:00.000Z'


def test_pagerduty_trigger_and_resolve_share_the_dedup_key():
    trigger, = n.pagerduty_events(alerts(UNIT), 'R' * 32, NOW)
    resolve, = n.pagerduty_events(alerts(dict(UNIT, status='resolved')), 'R' * 32, NOW)
    assert trigger['event_action'] == 'trigger' and resolve['event_action'] == 'resolve'
    assert trigger['dedup_key'] == resolve['dedup_key'] == 'cloudos.ops/CloudOSRepairFailed/web-1/cloudos-api.service'
    assert trigger['payload']['severity'] == 'critical'
    assert trigger['payload']['source'] == 'web-1'
    assert trigger['payload']['summary'].startswith('CloudOSRepairFailed on web-1: cloudos-api.service')
    assert 'payload' not in resolve


def test_pagerduty_limits():
    long_alert, = alerts(dict(UNIT, summary='x' * 5000, key='k' * 400))
    event, = n.pagerduty_events([long_alert], 'R', NOW)
    assert len(event['payload']['summary']) == n.PAGERDUTY_SUMMARY_MAX
    assert event['payload']['summary'].endswith('...')
    assert len(event['dedup_key']) <= n.PAGERDUTY_DEDUP_MAX
    assert event['dedup_key'] == n.pagerduty_events([long_alert], 'R', NOW)[0]['dedup_key']


def test_slack_and_mail_texts():
    items = alerts(UNIT, dict(UNIT, source='web-2', status='resolved', summary='running again'))
    text = n.slack_payload(items, 'CloudOS repair')['text']
    assert text.splitlines()[0] == '[CRITICAL: 1 firing, RESOLVED: 1] CloudOS repair'
    assert '- CloudOSRepairFailed (resolved) on web-2: running again' in text
    mail = n.email_message(items, 'CloudOS repair', 'ops@example.com', ['a@example.com', 'b@example.com'], NOW)
    assert mail['Subject'] == '[CRITICAL: 1 firing, RESOLVED: 1] CloudOS repair'
    assert mail['To'] == 'a@example.com, b@example.com'
    assert 'cloudos-api.service still failed' in mail.get_content()


@pytest.mark.parametrize('target, message', [
    ({'type': 'sms'}, r'targets\[0\].type must be one of'),
    ({'type': 'slack'}, r'targets\[0\].url must be a non-empty'),
    ({'type': 'webhook', 'url': 'ftp://x'}, r'must start with http'),
    ({'type': 'pagerduty'}, r'targets\[0\]: a pagerduty target needs routing_key'),
    ({'type': 'smtp', 'mail_to': ['a@b']}, 'needs smtp_host'),
    ({'type': 'smtp', 'smtp_host': 'm'}, 'needs mail_to'),
    ({'type': 'smtp', 'smtp_host': 'm', 'mail_to': ['a@b\r\nBcc: x@y']}, 'line breaks'),
])
def test_bad_targets_are_refused_before_anything_is_sent(target, message):
    sent = []
    sender = n.Sender(post=lambda *a: sent.append(a))
    with pytest.raises(n.NotifyError, match=message):
        n.notify([target], [UNIT], sender=sender, now=NOW)
    assert sent == []


class Answer:
    def __init__(self, status):
        self.status = status


def test_check_mode_sends_nothing_and_masks_secrets():
    sent = []
    result = n.notify([{'type': 'pagerduty', 'routing_key': 'SECRET-KEY'},
                       {'type': 'slack', 'url': 'https://hooks.slack.com/services/T0/B0/SECRETPATH'},
                       {'type': 'webhook', 'url': 'http://127.0.0.1:1/hook', 'bearer_token': 'SECRET-TOKEN'}],
                      [UNIT], check_mode=True, sender=n.Sender(post=lambda *a: sent.append(a)), now=NOW)
    assert sent == []
    assert result['changed'] is True
    assert [w['type'] for w in result['would_send']] == ['pagerduty', 'slack', 'webhook']
    shown = repr(result)
    for secret in ('SECRET-KEY', 'SECRETPATH', 'SECRET-TOKEN'):
        assert secret not in shown


def test_retries_on_429_then_succeeds_and_fails_after_the_last_try():
    calls, sleeps = [], []

    def flaky(url, data, headers, timeout, validate_certs, expect):
        calls.append(url)
        if len(calls) < 3:
            raise HttpError('POST %s answered HTTP 429: slow down' % url, url=url, status=429)
        return Answer(202)

    sender = n.Sender(retries=2, post=flaky, sleep=sleeps.append)
    result = n.notify([{'type': 'pagerduty', 'routing_key': 'K', 'url': 'http://127.0.0.1:9/pagerduty'}], [UNIT],
                      sender=sender, now=NOW)
    assert len(calls) == 3 and sleeps == [1.0, 2.0]
    assert result['notifications'][0]['statuses'] == [202] and result['undelivered'] == []

    calls.clear()

    def down(*args):
        calls.append(args)
        raise HttpError('POST x answered HTTP 503', status=503)

    sender = n.Sender(retries=1, post=down, sleep=lambda s: None)
    result = n.notify([{'type': 'pagerduty', 'routing_key': 'K'}], [UNIT], sender=sender, now=NOW)
    assert len(calls) == 2
    assert result['undelivered'][0]['msg'].startswith('targets[0] (pagerduty #1): ')
    assert result['changed'] is False


def test_a_failing_target_does_not_stop_the_others_and_hides_the_slack_path():
    seen = []

    def post(url, data, headers, timeout, validate_certs, expect):
        seen.append(url)
        if 'slack' in url:
            raise HttpError('POST %s answered HTTP 404: no_service' % url, url=url, status=404)
        return Answer(200)

    result = n.notify([{'type': 'slack', 'url': 'https://hooks.slack.com/services/T0/B0/SECRETPATH'},
                       {'type': 'webhook', 'url': 'http://127.0.0.1:1/hook'}], [UNIT],
                      sender=n.Sender(post=post, sleep=lambda s: None), now=NOW)
    assert len(seen) == 2
    assert result['notifications'][0]['type'] == 'webhook'
    assert 'SECRETPATH' not in result['undelivered'][0]['msg']
    assert 'https://hooks.slack.com/...' in result['undelivered'][0]['msg']
