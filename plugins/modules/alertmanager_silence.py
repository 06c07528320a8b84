#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: alertmanager_silence
short_description: Ensure an Alertmanager silence is in force, extend it, or expire it
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Manages silences through the Alertmanager API v2 (C(/api/v2/silences)). API v1 is not used (Alertmanager
    0.27 and later answer it with HTTP 410).
  - With O(state=present) exactly one silence with the given O(matchers), O(created_by) and O(comment) is in
    force. These three fields are the silence's identity; its times are not. Running the same task again
    finds the silence and sends nothing. A later O(ends_at), or a longer O(duration), extends it.
  - A re-run never shortens a window. O(duration) means "at least until", so when the silence in force already
    ends later than its start plus O(duration) (it was extended since, by a later O(ends_at) or a longer
    O(duration)), it is kept and the result is RV(action=unchanged). Only an explicit earlier O(ends_at)
    shortens a silence (the diff shows the old and the new end).
  - An extension is sent as an update of the silence in force. Alertmanager keeps the silence's ID when it
    can update in place (same matchers, and an active silence keeps its start, or a pending one starts in
    the future); otherwise it expires the old silence and creates a new one. The module sends the matchers in
    the server's own order so that the ID is kept whenever the server allows it, and returns the ID now in
    force, with RV(previous_id) when it changed.
  - With O(state=absent) every active or pending silence with the identity (or the O(id)) is expired.
    Expired silences are history and never count as existing.
  - Input is validated before any request is sent, including the rules Alertmanager applies (a matcher set
    must not match every alert, regular expressions are Go RE2, anchored at both ends).
extends_documentation_fragment:
  - cloudos.ops.alertmanager
attributes:
  check_mode:
    support: full
    description: Reads the silences and reports what would change; sends no POST or DELETE.
  diff_mode:
    support: full
    description: Shows the silence before and after (or the silences expired).
options:
  state:
    description:
      - V(present) ensures the silence is in force until the requested end.
      - V(absent) expires every live silence with this identity, or the one with O(id).
    type: str
    choices: [present, absent]
    default: present
  matchers:
    description:
      - The alerts to silence. Each item is either a dict with C(name), C(value), C(is_regex) (default
        V(false)) and C(is_equal) (default V(true)), or an amtool-style string such as
        V(alertname="HighCPUUsage"), V(instance=~"web-.*"), V(severity!="critical") or V(job!~"x|y").
      - Regular expressions are anchored (they must match the whole label value) and use Go's RE2 syntax;
        lookaround, backreferences and possessive quantifiers are refused.
      - At least one matcher must not match an empty label value; otherwise the silence would match every
        alert, or only alerts without the label, and the module fails.
      - The order does not matter for the identity.
      - Required with O(state=present), and with O(state=absent) unless O(id) is given.
    type: list
    elements: raw
  created_by:
    description:
      - Author of the silence. Part of the identity.
      - Required with O(state=present). With O(state=absent) it narrows the silences expired when given.
    type: str
  comment:
    description:
      - Why the silence exists, for example the maintenance window's name. Part of the identity.
      - Required with O(state=present). With O(state=absent) it narrows the silences expired when given.
    type: str
  starts_at:
    description:
      - RFC 3339 time with a time zone, for example V(2030-01-31T18:00:00Z) or V(2030-01-31T20:00:00+02:00).
      - When omitted a new silence starts now, and a silence already in force keeps its start.
      - A start in the past means now. Moving the start of an active silence into the future makes the
        server replace it (new ID). At most 3653 days from now.
    type: str
  ends_at:
    description:
      - RFC 3339 end time with a time zone. Must be in the future, after O(starts_at), and at most 3653 days
        (about ten years) from now; V(9999-12-31T00:00:00Z) is refused as a typo. Leap seconds (C(:60)) are refused.
      - The one way to shorten a silence in force is an O(ends_at) earlier than its end (sent as is).
      - Times within one second of the silence's are considered equal (Alertmanager keeps milliseconds).
      - Mutually exclusive with O(duration); one of them is required with O(state=present).
    type: str
  duration:
    description:
      - Length of the silence, a number with a unit C(s), C(m), C(h), C(d) or C(w), combinable, for example
        V(90m), V(2h), V(1d) or V(1h30m).
      - Measured from the start of the silence in force (from now for a new silence). Running the same task
        again later therefore computes the same end and makes no change; a longer duration extends the
        silence.
      - It means "at least until", so a silence in force that ends later (extended since) is kept, never
        shortened; give an earlier O(ends_at) to shorten it.
      - At most 3653 days (about ten years); V(99999999999w) is refused before anything is sent.
      - An end less than one minute later than the current one is not an extension. This absorbs the time
        between the module reading its clock and the server starting a new silence, so that a re-run never
        moves the end by that delay.
    type: str
  id:
    description:
      - With O(state=absent), expire the silence with this ID instead of looking it up by identity.
        An ID that is unknown or already expired is not an error (nothing to do).
    type: str
notes:
  - Alertmanager clusters replicate silences between peers; point O(url) at any one peer.
seealso:
  - module: cloudos.ops.alertmanager_alert_info
  - name: Alertmanager API v2 specification
    description: The OpenAPI description of the API this module uses.
    link: https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
'''

EXAMPLES = r'''
- name: Silence high CPU alerts of a host for a two hour maintenance window
  cloudos.ops.alertmanager_silence:
    url: http://alertmanager.example.com:9093
    matchers:
      - alertname="HighCPUUsage"
      - instance=~"web-01(:[0-9]+)?"
    duration: 2h
    created_by: ops-team
    comment: "Maintenance window 2030-01-31: expected high CPU"

- name: The same with dict matchers and fixed times
  cloudos.ops.alertmanager_silence:
    matchers:
      - name: alertname
        value: HighCPUUsage
      - name: severity
        value: critical
        is_equal: false
    starts_at: "2030-01-31T18:00:00+01:00"
    ends_at: "2030-01-31T20:00:00+01:00"
    created_by: ops-team
    comment: Database upgrade

- name: Extend the window to four hours (same identity, longer duration)
  cloudos.ops.alertmanager_silence:
    matchers:
      - alertname="HighCPUUsage"
      - instance=~"web-01(:[0-9]+)?"
    duration: 4h
    created_by: ops-team
    comment: "Maintenance window 2030-01-31: expected high CPU"

- name: End the window early
  cloudos.ops.alertmanager_silence:
    state: absent
    matchers:
      - alertname="HighCPUUsage"
      - instance=~"web-01(:[0-9]+)?"
    created_by: ops-team
    comment: "Maintenance window 2030-01-31: expected high CPU"

- name: Expire one silence by ID, through an authenticating proxy
  cloudos.ops.alertmanager_silence:
    state: absent
    id: 6c3d2b5e-1f0a-4c41-9d6e-5f0e4ad5a0c1
    url: https://proxy.example.com/alertmanager
    bearer_token: "{{ alertmanager_token }}"
    ca_path: /etc/ssl/private-ca.pem

- name: Set the connection once for every Alertmanager module
  module_defaults:
    group/cloudos.ops.alertmanager:
      url: https://proxy.example.com/alertmanager
      url_username: ops
      url_password: "{{ alertmanager_password }}"
  block:
    - name: Silence the backup job's alerts for the night
      cloudos.ops.alertmanager_silence:
        matchers: ['job="backup"']
        duration: 8h
        created_by: ops-team
        comment: Nightly backup
'''

RETURN = r'''
action:
  description:
    - What was done (or, in check mode, what would be done).
    - V(created) a new silence; V(updated) the silence in force was changed in place (same ID);
      V(replaced) the server expired the silence in force and created a new one (new ID, see RV(previous_id));
      V(unchanged) the silence in force already matches; V(expired) silences were expired; V(none) there was
      nothing to expire.
    - In check mode V(updated) or V(replaced) is the prediction from Alertmanager's update rule.
  returned: always
  type: str
  sample: created
silence_id:
  description: ID of the silence now in force. In check mode, null when a new silence would be created.
  returned: when O(state=present)
  type: str
  sample: 6c3d2b5e-1f0a-4c41-9d6e-5f0e4ad5a0c1
previous_id:
  description: ID of the silence that the server expired when it could not update it in place.
  returned: when RV(action=replaced)
  type: str
  sample: 0f5e8a9c-3b1d-4e7a-8c2f-1a2b3c4d5e6f
expired_ids:
  description:
    - IDs of the silences expired (or that would be expired in check mode). With O(state=present) these are
      duplicates with the same identity, which are expired so that one silence remains.
  returned: always
  type: list
  elements: str
  sample: [6c3d2b5e-1f0a-4c41-9d6e-5f0e4ad5a0c1]
silence:
  description:
    - The silence now in force, as the Alertmanager API v2 returns it. In check mode, the predicted silence.
  returned: when O(state=present)
  type: dict
  sample:
    id: 6c3d2b5e-1f0a-4c41-9d6e-5f0e4ad5a0c1
    matchers:
      - {name: alertname, value: HighCPUUsage, isRegex: false, isEqual: true}
    startsAt: "2030-01-31T17:00:00.000Z"
    endsAt: "2030-01-31T19:00:00.000Z"
    updatedAt: "2030-01-31T17:00:00.000Z"
    createdBy: ops-team
    comment: Database upgrade
    status: {state: active}
silences:
  description: The silences that were (or would be) expired, as the API returned them before.
  returned: when O(state=absent)
  type: list
  elements: dict
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import (
    ALERTMANAGER_REQUIRED_TOGETHER,
    AlertmanagerClient,
    AlertmanagerError,
    alertmanager_argument_spec,
    fail_json,
)
from ansible_collections.cloudos.ops.plugins.module_utils._silences import build_silence_spec, ensure_silence


def main():
    argument_spec = alertmanager_argument_spec(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        matchers=dict(type='list', elements='raw'),
        created_by=dict(type='str'),
        comment=dict(type='str'),
        starts_at=dict(type='str'),
        ends_at=dict(type='str'),
        duration=dict(type='str'),
        id=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[('ends_at', 'duration'), ('id', 'matchers')],
        required_together=ALERTMANAGER_REQUIRED_TOGETHER,
        required_if=[
            ('state', 'present', ('matchers', 'created_by', 'comment')),
            ('state', 'present', ('ends_at', 'duration'), True),
            ('state', 'absent', ('matchers', 'id'), True),
        ],
    )
    try:
        spec = build_silence_spec(module.params)
        client = AlertmanagerClient.from_params(module.params)
        result = ensure_silence(client, spec, check_mode=module.check_mode)
    except AlertmanagerError as exc:
        fail_json(module, exc)
    if not module._diff:
        result.pop('diff')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
