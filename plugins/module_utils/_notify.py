# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one notifier: alerts to a JSON webhook, Slack, PagerDuty or e-mail.

Private to this collection (the leading underscore): no compatibility promise.

Input is a list of *alerts* (one per thing that needs a person: a host still critical after a
repair, a new finding in the morning report), each with a stable ``key``. Pure functions turn
them into each target's payload:

* ``webhook``: Alertmanager's webhook payload, version 4 (``version``, ``groupKey``, ``status``,
  ``receiver``, ``groupLabels``, ``commonLabels``, ``commonAnnotations``, ``externalURL``,
  ``alerts[]`` with ``status``, ``labels``, ``annotations``, ``startsAt``, ``endsAt``,
  ``generatorURL``, ``fingerprint``), so receivers written for Alertmanager take it as is;
* ``slack``: an incoming-webhook message (``text``, which is also what clients show when they
  cannot render anything else);
* ``pagerduty``: one Events API v2 event per alert (``routing_key``, ``event_action`` trigger or
  resolve, ``dedup_key`` derived from the alert's key so that a re-run never opens a second
  incident, ``payload.summary`` of at most 1024 characters, ``source``, ``severity``);
* ``smtp``: one plain-text message for all alerts.

:class:`Sender` is the only code that sends (HTTP through ``_http.request``, mail through
``smtplib``); tests replace its ``post`` and ``smtp`` callables or point targets at loopback
receivers.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import time

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ansible_collections.cloudos.ops.plugins.module_utils._common import rfc3339, utcnow, parse_time
from ansible_collections.cloudos.ops.plugins.module_utils._http import (
    HttpError, check_headers, check_timeout, check_token, request, validate_url)

TYPES = ('webhook', 'slack', 'pagerduty', 'smtp')
STATUSES = ('firing', 'resolved')
SEVERITIES = ('critical', 'error', 'warning', 'info')
PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue'
PAGERDUTY_SUMMARY_MAX = 1024
PAGERDUTY_DEDUP_MAX = 255
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Alertmanager's zero time: an alert that has not ended.
ZERO_TIME = '0001-01-01T00:00:00Z'
#: An alert's ``starts_at`` lies between the Unix epoch and this far ahead of the clock (skew).
STARTS_AT_SKEW = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Most ``retries`` and ``timeout`` (seconds) accepted: each target is bounded by about
#: (retries + 1) * timeout plus at most 30 s of backoff a retry.
MAX_RETRIES = 10
MAX_TIMEOUT = 300


class NotifyError(ValueError):
    """Bad input or a target that did not take the notification; the message names which."""


# --------------------------------------------------------------------------- input

def _text(value, name, required=False):
    if value is None or value == '':
        if required:
            raise NotifyError('%s is required' % name)
        return ''
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise NotifyError('%s must be a string, got %r' % (name, value))
    text = str(value)
    if '\x00' in text:
        raise NotifyError('%s contains a NUL character' % name)
    return text


def check_limits(timeout, retries):
    """Raise :class:`NotifyError` naming ``timeout`` or ``retries`` when out of bounds (``nan``,
    ``inf``, negative, huge): a target may never hold a run for hours."""
    error = check_timeout(timeout, 'timeout', maximum=MAX_TIMEOUT)
    if error:
        raise NotifyError(error)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise NotifyError('retries must be a whole number from 0 to %d, got %r' % (MAX_RETRIES, retries))


def normalise_alerts(alerts, now=None):
    """Validated copies of ``alerts``; raise :class:`NotifyError` naming the entry and field."""
    now = now or utcnow()
    if not isinstance(alerts, list) or not alerts:
        raise NotifyError('alerts must be a non-empty list, got %r' % (alerts,))
    out = []
    seen = set()
    for index, alert in enumerate(alerts):
        where = 'alerts[%d]' % index
        if not isinstance(alert, dict):
            raise NotifyError('%s must be a dict, got %r' % (where, alert))
        name = _text(alert.get('name'), where + '.name', required=True)
        status = alert.get('status') or 'firing'
        if status not in STATUSES:
            raise NotifyError('%s.status must be one of %s, got %r' % (where, ', '.join(STATUSES), status))
        severity = alert.get('severity') or 'warning'
        if severity not in SEVERITIES:
            raise NotifyError('%s.severity must be one of %s, got %r' % (where, ', '.join(SEVERITIES), severity))
        labels = alert.get('labels') or {}
        if not isinstance(labels, dict):
            raise NotifyError('%s.labels must be a dict, got %r' % (where, labels))
        labels = dict((_text(k, where + '.labels key', True), _text(v, '%s.labels.%s' % (where, k))) for k, v in labels.items())
        source = _text(alert.get('source'), where + '.source')
        key = _text(alert.get('key'), where + '.key') or '/'.join(
            p for p in (name, source, labels.get('unit') or labels.get('container') or labels.get('check')) if p)
        if (key, status) in seen:
            raise NotifyError('%s: key %r appears twice with status %s' % (where, key, status))
        seen.add((key, status))
        starts = alert.get('starts_at')
        started = parse_time(starts) if starts else None
        if starts and started is None:
            raise NotifyError('%s.starts_at=%r is not an RFC 3339 time' % (where, starts))
        if started is not None and not _EPOCH <= started <= now + STARTS_AT_SKEW:
            raise NotifyError('%s.starts_at=%r is out of range: an alert starts after 1970-01-01 and at most a day '
                              'ahead of now (%s)' % (where, starts, rfc3339(now)))
        out.append({
            'name': name, 'status': status, 'severity': severity, 'source': source, 'key': key,
            'summary': _text(alert.get('summary'), where + '.summary', required=True),
            'description': _text(alert.get('description'), where + '.description'),
            'url': _text(alert.get('url'), where + '.url'),
            'labels': labels, 'starts_at': started,
        })
    return out


def validate_target(target, index):
    """Raise :class:`NotifyError` naming ``targets[index]`` when a target cannot be used."""
    where = 'targets[%d]' % index
    kind = target.get('type')
    if kind not in TYPES:
        raise NotifyError('%s.type must be one of %s, got %r' % (where, ', '.join(TYPES), kind))
    if kind in ('webhook', 'slack'):
        error = validate_url(target.get('url'), where + '.url')
        if error:
            raise NotifyError(error)
    # A token or header with a newline is refused here, before anything is sent, naming the
    # option and never quoting the value.
    error = (check_token(target['bearer_token'], where + '.bearer_token') if target.get('bearer_token') else None) \
        or check_headers(target.get('headers'), where + '.headers')
    if error:
        raise NotifyError(error)
    if kind == 'pagerduty':
        if not target.get('routing_key'):
            raise NotifyError('%s: a pagerduty target needs routing_key' % where)
        error = validate_url(target.get('url') or PAGERDUTY_URL, where + '.url')
        if error:
            raise NotifyError(error)
    if kind == 'smtp':
        if not target.get('smtp_host'):
            raise NotifyError('%s: an smtp target needs smtp_host' % where)
        if not target.get('mail_to'):
            raise NotifyError('%s: an smtp target needs mail_to' % where)
        for address in list(target.get('mail_to') or []) + [target.get('mail_from') or '']:
            if any(c in str(address) for c in '\r\n'):
                raise NotifyError('%s: mail addresses must not contain line breaks' % where)
    return kind


def target_name(target, index):
    return target.get('name') or '%s #%d' % (target.get('type'), index + 1)


# --------------------------------------------------------------------------- payloads

def fingerprint(labels):
    """A stable 16-hex-digit fingerprint of a label set (Alertmanager uses 16 hex digits too)."""
    text = json.dumps(sorted(labels.items()), separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def alert_labels(alert):
    labels = {'alertname': alert['name'], 'severity': alert['severity']}
    if alert['source']:
        labels['instance'] = alert['source']
    labels.update(alert['labels'])
    return labels


def webhook_payload(alerts, receiver, now, external_url=''):
    """Alertmanager webhook payload version 4 for ``alerts`` (grouped by alert name)."""
    items = []
    for alert in alerts:
        labels = alert_labels(alert)
        annotations = {'summary': alert['summary']}
        if alert['description']:
            annotations['description'] = alert['description']
        items.append({
            'status': alert['status'],
            'labels': labels,
            'annotations': annotations,
            'startsAt': rfc3339(alert['starts_at'] or now, millis=True),
            'endsAt': rfc3339(now, millis=True) if alert['status'] == 'resolved' else ZERO_TIME,
            'generatorURL': alert['url'],
            'fingerprint': fingerprint(dict(labels, key=alert['key'])),
        })
    common = dict(items[0]['labels'])
    for item in items[1:]:
        common = dict((k, v) for k, v in common.items() if item['labels'].get(k) == v)
    common_ann = dict(items[0]['annotations'])
    for item in items[1:]:
        common_ann = dict((k, v) for k, v in common_ann.items() if item['annotations'].get(k) == v)
    group = {'alertname': common['alertname']} if 'alertname' in common else {}
    return {
        'version': '4',
        'groupKey': '{}:{%s}' % ','.join('%s=%s' % (k, json.dumps(v)) for k, v in sorted(group.items())),
        'truncatedAlerts': 0,
        'status': 'firing' if any(a['status'] == 'firing' for a in alerts) else 'resolved',
        'receiver': receiver,
        'groupLabels': group,
        'commonLabels': common,
        'commonAnnotations': common_ann,
        'externalURL': external_url,
        'alerts': items,
    }


def headline(alerts, title):
    firing = [a for a in alerts if a['status'] == 'firing']
    resolved = [a for a in alerts if a['status'] == 'resolved']
    parts = []
    if firing:
        worst = 'CRITICAL' if any(a['severity'] in ('critical', 'error') for a in firing) else firing[0]['severity'].upper()
        parts.append('%s: %d firing' % (worst, len(firing)))
    if resolved:
        parts.append('RESOLVED: %d' % len(resolved))
    return '[%s] %s' % (', '.join(parts), title)


def line(alert):
    where = ' on %s' % alert['source'] if alert['source'] else ''
    mark = 'resolved' if alert['status'] == 'resolved' else alert['severity']
    text = '- %s (%s)%s: %s' % (alert['name'], mark, where, alert['summary'])
    if alert['url']:
        text += ' <%s>' % alert['url']
    return text


def slack_payload(alerts, title):
    return {'text': '\n'.join([headline(alerts, title)] + [line(a) for a in alerts])}


def dedup_key(alert):
    """The PagerDuty ``dedup_key`` of an alert: its key, or a digest of it when longer than allowed."""
    key = 'cloudos.ops/' + alert['key']
    if len(key) <= PAGERDUTY_DEDUP_MAX:
        return key
    return 'cloudos.ops/sha256:' + hashlib.sha256(alert['key'].encode('utf-8')).hexdigest()


def pagerduty_events(alerts, routing_key, now, client='cloudos.ops'):
    """One Events API v2 event per alert: ``trigger`` for firing ones, ``resolve`` for resolved ones."""
    events = []
    for alert in alerts:
        event = {'routing_key': routing_key, 'dedup_key': dedup_key(alert)}
        if alert['status'] == 'resolved':
            event['event_action'] = 'resolve'
        else:
            summary = '%s%s: %s' % (alert['name'], ' on %s' % alert['source'] if alert['source'] else '', alert['summary'])
            if len(summary) > PAGERDUTY_SUMMARY_MAX:
                summary = summary[:PAGERDUTY_SUMMARY_MAX - 3] + '...'
            details = dict(alert['labels'])
            if alert['description']:
                details['description'] = alert['description']
            event.update({
                'event_action': 'trigger',
                'client': client,
                'payload': {
                    'summary': summary,
                    'source': alert['source'] or 'cloudos.ops',
                    'severity': alert['severity'],
                    'timestamp': rfc3339(alert['starts_at'] or now, millis=True),
                    'component': alert['labels'].get('unit') or alert['labels'].get('container') or alert['name'],
                    'group': alert['labels'].get('group', ''),
                    'class': alert['name'],
                    'custom_details': details,
                },
            })
            if alert['url']:
                event['client_url'] = alert['url']
        events.append(event)
    return events


def email_message(alerts, title, mail_from, mail_to, now):
    message = EmailMessage()
    message['Subject'] = headline(alerts, title)
    message['From'] = mail_from
    message['To'] = ', '.join(mail_to)
    message['Date'] = formatdate(now.timestamp())
    message['Message-ID'] = make_msgid(domain='cloudos.ops')
    body = [headline(alerts, title), '']
    for alert in alerts:
        body.append(line(alert))
        if alert['description']:
            body.append('  ' + alert['description'])
    message.set_content('\n'.join(body) + '\n')
    return message


# --------------------------------------------------------------------------- sending

def shown_url(url):
    """``url`` as it may appear in a message: a Slack-style webhook URL carries its secret in the
    path, so only the scheme and host are shown."""
    scheme, _sep, rest = str(url or '').partition('://')
    host = rest.split('/', 1)[0].rsplit('@', 1)[-1]
    return '%s://%s/...' % (scheme, host) if '/' in rest else '%s://%s' % (scheme, host)


def redact(target):
    """The target as it may be shown: secrets replaced."""
    shown = {}
    for key, value in target.items():
        if value in (None, '', [], {}):
            continue
        if key in ('routing_key', 'bearer_token', 'smtp_password'):
            value = '********'
        elif key == 'headers':
            value = dict((k, '********') for k in value)
        elif key == 'url':
            value = shown_url(value)
        shown[key] = value
    return shown


def plan(targets, alerts, title, receiver, now):
    """What each target would be sent: ``[(index, target, kind, payloads)]``."""
    planned = []
    for index, target in enumerate(targets):
        kind = validate_target(target, index)
        if kind == 'webhook':
            payloads = [webhook_payload(alerts, receiver, now, target.get('external_url') or '')]
        elif kind == 'slack':
            payloads = [slack_payload(alerts, title)]
        elif kind == 'pagerduty':
            payloads = pagerduty_events(alerts, target['routing_key'], now)
        else:
            payloads = [email_message(alerts, title, target.get('mail_from') or 'cloudos.ops@localhost',
                                      list(target['mail_to']), now)]
        planned.append((index, target, kind, payloads))
    return planned


def preview(planned):
    """Check-mode view of a plan, with secrets masked."""
    out = []
    for index, target, kind, payloads in planned:
        shown = []
        for payload in payloads:
            if kind == 'smtp':
                shown.append({'subject': payload['Subject'], 'to': payload['To'], 'body': payload.get_content()})
            elif kind == 'pagerduty':
                shown.append(dict(payload, routing_key='********'))
            else:
                shown.append(payload)
        out.append({'name': target_name(target, index), 'type': kind, 'target': redact(target), 'payloads': shown})
    return out


class Sender:
    """Delivers planned notifications. ``post(url, data, headers, timeout, validate_certs)`` and
    ``smtp(host, port, timeout)`` are replaceable; ``sleep`` bounds the retries' backoff."""

    def __init__(self, timeout=10.0, validate_certs=True, retries=2, post=None, smtp=None, sleep=time.sleep):
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = retries
        self.post = post or self._post
        self.smtp = smtp or self._smtp
        self.sleep = sleep

    def _post(self, url, data, headers, timeout, validate_certs, expect=None):
        return request(url, method='POST', data=data, headers=headers, timeout=timeout,
                       validate_certs=validate_certs, expect=expect)

    @staticmethod
    def _smtp(host, port, timeout, security):
        if security == 'tls':
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(host, port, timeout=timeout)

    def _post_retrying(self, what, url, data, headers, expect=None):
        attempt = 0
        while True:
            try:
                return self.post(url, data, headers, self.timeout, self.validate_certs, expect)
            except HttpError as exc:
                retry = exc.status in RETRY_STATUSES or exc.kind in ('timeout', 'refused', 'connection')
                if not retry or attempt >= self.retries:
                    message = exc.message.replace(url, shown_url(url))
                    for secret in [headers.get('Authorization')] + list(headers.values()):
                        if secret:
                            message = message.replace(str(secret), '********')
                    raise NotifyError('%s: %s' % (what, message))
                self.sleep(min(30.0, 1.0 * 2 ** attempt))
                attempt += 1

    def deliver(self, index, target, kind, payloads):
        """Send one target's payloads; return its result dict or raise :class:`NotifyError`."""
        name = target_name(target, index)
        what = 'targets[%d] (%s)' % (index, name)
        headers = dict(target.get('headers') or {})
        if target.get('bearer_token'):
            headers['Authorization'] = 'Bearer %s' % target['bearer_token']
        result = {'name': name, 'type': kind, 'sent': 0}
        if kind == 'smtp':
            self._send_mail(what, target, payloads[0])
            result['sent'] = 1
            result['recipients'] = list(target['mail_to'])
            return result
        url = target.get('url') or PAGERDUTY_URL
        statuses = []
        for payload in payloads:
            resp = self._post_retrying(what, url, payload, headers,
                                       expect=(200, 201, 202, 204) if kind != 'pagerduty' else (202,))
            statuses.append(resp.status)
            result['sent'] += 1
        result['statuses'] = statuses
        if kind == 'pagerduty':
            result['dedup_keys'] = [p['dedup_key'] for p in payloads]
        return result

    def _send_mail(self, what, target, message):
        security = target.get('smtp_security') or 'starttls'
        port = target.get('smtp_port') or (465 if security == 'tls' else 25)
        try:
            client = self.smtp(target['smtp_host'], port, self.timeout, security)
            try:
                if security == 'starttls':
                    client.starttls(context=ssl.create_default_context())
                if target.get('smtp_username'):
                    client.login(target['smtp_username'], target.get('smtp_password') or '')
                client.send_message(message)
            finally:
                try:
                    client.quit()
                except Exception:  # pylint: disable=broad-except
                    pass
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            text = str(exc)
            if target.get('smtp_password'):
                text = text.replace(target['smtp_password'], '********')
            raise NotifyError('%s: sending mail through %s:%s failed: %s' % (what, target['smtp_host'], port, text))


def notify(targets, alerts, title='cloudos.ops', receiver='cloudos.ops', check_mode=False, sender=None, now=None):
    """Validate, plan and (unless ``check_mode``) send. Returns the module's result dict.

    Every target is tried even when an earlier one failed; ``failed`` lists the ones that did not
    take the notification (their messages name the target, never its secrets).
    """
    now = now or utcnow()
    normal = normalise_alerts(alerts, now)
    planned = plan(targets, normal, title, receiver, now)
    result = {'changed': True, 'alerts': len(normal),
              'alert_keys': [a['key'] for a in normal], 'notifications': [], 'undelivered': []}
    if check_mode:
        result['would_send'] = preview(planned)
        return result
    sender = sender or Sender()
    for index, target, kind, payloads in planned:
        try:
            result['notifications'].append(sender.deliver(index, target, kind, payloads))
        except NotifyError as exc:
            result['undelivered'].append({'name': target_name(target, index), 'type': kind, 'msg': str(exc)})
    result['changed'] = bool(result['notifications'])
    return result
