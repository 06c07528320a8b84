#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: alertmanager_alert_info
short_description: List the alerts Alertmanager holds, with filters
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Lists alerts through the Alertmanager API v2 (C(/api/v2/alerts)), filtered by state, label matchers and
    receiver, and counts them by state and severity.
  - Resolved alerts are not listed; Alertmanager forgets them on its own (there is no call to clear them).
extends_documentation_fragment:
  - cloudos.ops.alertmanager
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
options:
  active:
    description: Include active (firing, neither silenced nor inhibited) alerts.
    type: bool
    default: true
  silenced:
    description: Include silenced alerts.
    type: bool
    default: true
  inhibited:
    description: Include inhibited alerts.
    type: bool
    default: true
  unprocessed:
    description: Include alerts that Alertmanager has received but not processed yet.
    type: bool
    default: true
  matchers:
    description:
      - Only alerts matching all of these label matchers. Same forms as the C(matchers) option of
        M(cloudos.ops.alertmanager_silence) (dicts or strings such as V(severity="critical")).
    type: list
    elements: raw
    default: []
  receiver:
    description: Only alerts routed to a receiver whose name matches this regular expression.
    type: str
seealso:
  - module: cloudos.ops.alertmanager_silence
'''

EXAMPLES = r'''
- name: Check current alerts (firing, not silenced, not inhibited)
  cloudos.ops.alertmanager_alert_info:
    url: http://localhost:9093
    silenced: false
    inhibited: false
    unprocessed: false
  register: firing

- name: Fail on any critical alert
  ansible.builtin.assert:
    that: firing.by_severity.critical | default(0) == 0
    fail_msg: "{{ firing.alerts | map(attribute='labels.alertname') | list }}"

- name: Security alerts only
  cloudos.ops.alertmanager_alert_info:
    matchers:
      - team="security"
  register: security_alerts

- name: Which alerts of web hosts are silenced right now
  cloudos.ops.alertmanager_alert_info:
    active: false
    inhibited: false
    matchers:
      - instance=~"web-.*"
  register: silenced_web
'''

RETURN = r'''
alerts:
  description: The alerts as the Alertmanager API v2 returns them, with labels, annotations, status and receivers.
  returned: always
  type: list
  elements: dict
  sample:
    - labels: {alertname: HighCPUUsage, instance: web-01, severity: warning}
      annotations: {summary: CPU above 80 %}
      startsAt: "2030-01-31T17:00:00.000Z"
      endsAt: "2030-01-31T17:05:00.000Z"
      fingerprint: 0b3f1c2d4e5f6a7b
      receivers: [{name: ops}]
      status: {state: active, silencedBy: [], inhibitedBy: []}
count:
  description: Number of alerts listed.
  returned: always
  type: int
  sample: 1
by_state:
  description: Number of alerts per state (V(active), V(suppressed), V(unprocessed)).
  returned: always
  type: dict
  sample: {active: 1}
by_severity:
  description: Number of alerts per value of the C(severity) label (V(none) when the label is missing).
  returned: always
  type: dict
  sample: {warning: 1}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import (
    ALERTMANAGER_REQUIRED_TOGETHER,
    AlertmanagerClient,
    AlertmanagerError,
    alertmanager_argument_spec,
    fail_json,
    list_alerts,
)
from ansible_collections.cloudos.ops.plugins.module_utils._silences import parse_matchers, validate_regex


def main():
    argument_spec = alertmanager_argument_spec(
        active=dict(type='bool', default=True),
        silenced=dict(type='bool', default=True),
        inhibited=dict(type='bool', default=True),
        unprocessed=dict(type='bool', default=True),
        matchers=dict(type='list', elements='raw', default=[]),
        receiver=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=ALERTMANAGER_REQUIRED_TOGETHER)
    params = module.params
    try:
        matchers = parse_matchers(params['matchers'], require_selective=False) if params['matchers'] else []
        if params['receiver']:
            validate_regex(params['receiver'], 'receiver=%r' % params['receiver'], field='receiver')
        client = AlertmanagerClient.from_params(params)
        result = list_alerts(client, active=params['active'], silenced=params['silenced'],
                             inhibited=params['inhibited'], unprocessed=params['unprocessed'],
                             matchers=matchers, receiver=params['receiver'])
    except AlertmanagerError as exc:
        fail_json(module, exc)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
