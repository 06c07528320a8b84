#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_notify
short_description: Tell people about alerts through a JSON webhook, Slack, PagerDuty or e-mail
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - The collection's one notifier, used by the repair role to escalate and by the daily health
    report to say what changed. Sends a list of O(alerts) to every one of O(targets).
  - C(webhook) targets get Alertmanager's webhook payload (version 4), so receivers written for
    Alertmanager take it unchanged. C(slack) targets get an incoming-webhook message (C(text)).
    C(pagerduty) targets get one Events API v2 event per alert, C(trigger) for firing alerts and
    C(resolve) for resolved ones, with a C(dedup_key) derived from the alert's O(alerts[].key), so
    sending the same alert again updates the open incident instead of opening a second one.
    C(smtp) targets get one plain-text e-mail.
  - Every target is tried, also after one failed; the task fails afterwards naming the targets that
    did not take the notification (their secrets never appear in a message). HTTP 429 and 5xx
    answers, timeouts and refused connections are retried O(retries) times with backoff.
  - Usually run once for the play on the controller (C(delegate_to=localhost), C(run_once=true)).
attributes:
  check_mode:
    support: full
    description: Nothing is sent; RV(would_send) shows each target's payloads with secrets masked.
  diff_mode:
    support: none
    description: Sending a message changes nothing that could be shown as a diff.
options:
  targets:
    description: Where to send. Each entry is one receiver.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: The kind of receiver.
        type: str
        choices: [webhook, slack, pagerduty, smtp]
        required: true
      name:
        description: "A name for messages and results (default: the type and the position in O(targets), for example V(webhook #1))."
        type: str
      url:
        description:
          - C(webhook) and C(slack) (required), the URL to POST to. A Slack webhook URL carries its
            secret in its path, so messages show only its scheme and host.
          - C(pagerduty), the Events API v2 endpoint (default V(https://events.pagerduty.com/v2/enqueue)).
        type: str
      headers:
        description: Extra HTTP headers (values are masked in results).
        type: dict
      bearer_token:
        description: C(webhook), sent as an C(Authorization) header with the C(Bearer) scheme.
        type: str
      routing_key:
        description: C(pagerduty), the integration's routing key (required).
        type: str
      external_url:
        description: C(webhook), the payload's C(externalURL) (for example where the reports are served).
        type: str
      smtp_host:
        description: C(smtp), the mail server (required).
        type: str
      smtp_port:
        description: C(smtp), its port (default 25, or 465 with O(targets[].smtp_security=tls)).
        type: int
      smtp_security:
        description: C(smtp), V(starttls) (upgrade the connection, the default), V(tls) (TLS from the start) or V(none).
        type: str
        choices: [none, starttls, tls]
        default: starttls
      smtp_username:
        description: C(smtp), the user to log in as (no login when unset).
        type: str
      smtp_password:
        description: C(smtp), the password.
        type: str
      mail_from:
        description: C(smtp), the sender address.
        type: str
        default: cloudos.ops@localhost
      mail_to:
        description: C(smtp), the recipients (required).
        type: list
        elements: str
  alerts:
    description: What to tell. Each entry is one thing that needs a person, or that no longer does.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The alert's name (C(alertname) in the webhook payload), for example V(CloudOSRepairFailed).
        type: str
        required: true
      status:
        description: V(firing), or V(resolved) to close what an earlier notification opened.
        type: str
        choices: [firing, resolved]
        default: firing
      severity:
        description: How bad it is (PagerDuty's severities).
        type: str
        choices: [critical, error, warning, info]
        default: warning
      summary:
        description: One line for a person (PagerDuty truncates it to 1024 characters).
        type: str
        required: true
      description:
        description: More text (the e-mail body, the webhook's C(description) annotation).
        type: str
      source:
        description: The host the alert is about.
        type: str
      key:
        description:
          - What makes two notifications about the same thing, across runs. PagerDuty's C(dedup_key) is
            derived from it; firing and resolved notifications of one incident must use the same key.
          - Default C(<name>/<source>/<labels.unit or labels.container or labels.check>).
        type: str
      labels:
        description: Extra labels (the webhook's C(labels), PagerDuty's C(custom_details)).
        type: dict
      url:
        description: A link for the reader (the report), the webhook's C(generatorURL).
        type: str
      starts_at:
        description: When it started (RFC 3339, after 1970 and at most a day ahead of now); default now.
        type: str
  title:
    description: The headline of Slack and e-mail messages, after the status counts.
    type: str
    default: cloudos.ops
  receiver:
    description: The C(receiver) field of the webhook payload.
    type: str
    default: cloudos.ops
  timeout:
    description:
      - Seconds one request or mail session may take, at most 300. It bounds the whole request (connecting,
        sending, the answer), not each read.
    type: float
    default: 10
  retries:
    description:
      - How often a request answered with HTTP 429 or 5xx, timed out or refused is tried again (0 to 10, with a
        backoff of 1, 2, 4... seconds, at most 30), so one target holds a run for at most about
        (O(retries) + 1) * O(timeout) plus the backoff.
    type: int
    default: 2
  validate_certs:
    description: Verify TLS certificates of https:// targets.
    type: bool
    default: true
  fail_on_error:
    description: Fail the task when a target did not take the notification (after trying all of them).
    type: bool
    default: true
seealso:
  - name: Alertmanager webhook payload
    description: The payload C(webhook) targets receive.
    link: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
  - name: PagerDuty Events API v2
    description: The events C(pagerduty) targets receive.
    link: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
'''

EXAMPLES = r'''
- name: Escalate a host that is still critical
  cloudos.ops.cloudos_notify:
    targets:
      - type: pagerduty
        routing_key: "{{ vault_pagerduty_routing_key }}"
      - type: slack
        url: "{{ vault_slack_webhook_url }}"
    alerts:
      - name: CloudOSRepairFailed
        severity: critical
        source: "{{ inventory_hostname }}"
        summary: cloudos-api.service still failed after 3 restarts
        labels:
          unit: cloudos-api.service
  delegate_to: localhost

- name: Close it again after a later repair worked (same name, source and unit -> same key)
  cloudos.ops.cloudos_notify:
    targets:
      - type: pagerduty
        routing_key: "{{ vault_pagerduty_routing_key }}"
    alerts:
      - name: CloudOSRepairFailed
        status: resolved
        source: "{{ inventory_hostname }}"
        summary: cloudos-api.service is running again
        labels:
          unit: cloudos-api.service
  delegate_to: localhost

- name: Mail the on-call list and post to an Alertmanager-style receiver
  cloudos.ops.cloudos_notify:
    targets:
      - type: smtp
        smtp_host: mail.example.com
        smtp_username: cloudos
        smtp_password: "{{ vault_smtp_password }}"
        mail_to: [oncall@example.com]
      - type: webhook
        url: https://hooks.example.com/alertmanager
        bearer_token: "{{ vault_hook_token }}"
    title: CloudOS daily health
    alerts: "{{ daily_health_changes }}"
  delegate_to: localhost
  run_once: true
  register: told
  when: daily_health_changes | length > 0
'''

RETURN = r'''
alerts:
  description: How many alerts were given.
  type: int
  returned: always
  sample: 1
alert_keys:
  description: The key of each alert (see O(alerts[].key)).
  returned: always
  type: list
  elements: str
  sample: [CloudOSRepairFailed/web-1/cloudos-api.service]
notifications:
  description: What each target took.
  returned: success
  type: list
  elements: dict
  sample:
    - {name: "pagerduty #1", type: pagerduty, sent: 1, statuses: [202], dedup_keys: [cloudos.ops/CloudOSRepairFailed/web-1/cloudos-api.service]}
undelivered:
  description: The targets that did not take the notification, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{name: "slack #2", type: slack, msg: "targets[1] (slack #2): POST https://hooks.slack.com/... timed out after 10.0s"}]
would_send:
  description: In check mode, each target's payloads, secrets masked.
  returned: check mode
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils._notify import NotifyError, Sender, check_limits, notify

TARGET = dict(
    type=dict(type='str', required=True, choices=['webhook', 'slack', 'pagerduty', 'smtp']),
    name=dict(type='str'),
    url=dict(type='str'),
    headers=dict(type='dict', no_log=True),
    bearer_token=dict(type='str', no_log=True),
    routing_key=dict(type='str', no_log=True),
    external_url=dict(type='str'),
    smtp_host=dict(type='str'),
    smtp_port=dict(type='int'),
    smtp_security=dict(type='str', choices=['none', 'starttls', 'tls'], default='starttls'),
    smtp_username=dict(type='str'),
    smtp_password=dict(type='str', no_log=True),
    mail_from=dict(type='str', default='cloudos.ops@localhost'),
    mail_to=dict(type='list', elements='str'),
)
ALERT = dict(
    name=dict(type='str', required=True),
    status=dict(type='str', choices=['firing', 'resolved'], default='firing'),
    severity=dict(type='str', choices=['critical', 'error', 'warning', 'info'], default='warning'),
    summary=dict(type='str', required=True),
    description=dict(type='str'),
    source=dict(type='str'),
    key=dict(type='str', no_log=False),
    labels=dict(type='dict'),
    url=dict(type='str'),
    starts_at=dict(type='str'),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type='list', elements='dict', required=True, options=TARGET),
            alerts=dict(type='list', elements='dict', required=True, options=ALERT),
            title=dict(type='str', default='cloudos.ops'),
            receiver=dict(type='str', default='cloudos.ops'),
            timeout=dict(type='float', default=10.0),
            retries=dict(type='int', default=2),
            validate_certs=dict(type='bool', default=True),
            fail_on_error=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        check_limits(params['timeout'], params['retries'])
    except NotifyError as exc:
        module.fail_json(msg=str(exc))
    sender = Sender(timeout=params['timeout'], validate_certs=params['validate_certs'], retries=params['retries'])
    try:
        result = notify(params['targets'], params['alerts'], title=params['title'], receiver=params['receiver'],
                        check_mode=module.check_mode, sender=sender)
    except NotifyError as exc:
        module.fail_json(msg=str(exc))
    if result['undelivered'] and params['fail_on_error']:
        module.fail_json(msg='; '.join(f['msg'] for f in result['undelivered']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
