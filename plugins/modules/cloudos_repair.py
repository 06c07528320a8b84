#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_repair
short_description: Bring failed CloudOS units and containers back without fighting systemd or Docker
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - The guide's service recovery step (C(systemctl restart cloudos-*), C(docker-compose restart)), done the
    way the supervisors expect. It starts again only what is broken and is meant to run.
  - "systemd units matching O(unit_patterns): only C(failed) units are started, at most once per run (every
    start counts towards the unit's C(StartLimitBurst)). A unit systemd is already restarting
    (C(SubState=auto-restart)) is left to systemd. A unit at its start limit (C(Result=start-limit-hit))
    stays failed until C(systemctl reset-failed), which is done only with O(reset_failed=true); otherwise it is
    reported in RV(escalate). Units that are merely C(inactive) were stopped by someone and are left alone."
  - "Containers matching O(container_patterns): a container that exited under the restart policy C(always) or
    C(unless-stopped) was stopped by a person (the engine would have restarted it): it is never started. One
    that exited non-zero under C(on-failure) after the engine gave up is started; a running but C(unhealthy)
    one is restarted; one the engine is restarting is left to it; C(paused) and C(dead) ones are reported."
  - After acting it waits up to O(wait) seconds for each item to be up for O(settle) seconds, so a unit that
    starts and dies again is reported in RV(still_failing), not as repaired.
  - O(budget) (from the repair role's state on the controller) caps restarts across runs. An item whose
    budget is spent is escalated instead of restarted again.
extends_documentation_fragment:
  - cloudos.ops.docker
attributes:
  check_mode:
    support: full
    description: Lists what would be started or restarted, and why the rest is left alone; changes nothing.
  diff_mode:
    support: none
    description: Starting a service changes no file.
options:
  unit_patterns:
    description: systemd unit globs to look at; V([]) looks at none.
    type: list
    elements: str
    default: ['cloudos-*']
  container_patterns:
    description: Container name globs to look at; V([]) looks at none.
    type: list
    elements: str
    default: ['cloudos-*']
  allow:
    description: When not empty, only units and containers matching one of these globs are acted on.
    type: list
    elements: str
    default: []
  deny:
    description: Units and containers matching one of these globs are never acted on.
    type: list
    elements: str
    default: []
  reset_failed:
    description: Allow C(systemctl reset-failed) for units at their start limit before starting them.
    type: bool
    default: false
  max_restarts:
    description: Restarts an item may get when O(budget) does not name it.
    type: int
    default: 3
  budget:
    description:
      - Restarts left per item, keyed C(unit:<name>) or C(container:<name>), as the repair role computes them from
        the restarts of earlier runs. V(0) escalates the item instead of restarting it.
    type: dict
    default: {}
  wait:
    description: Seconds to wait, at most, for the items acted on to come up.
    type: float
    default: 60
  settle:
    description: Seconds an item must stay up after the last action to count as recovered.
    type: float
    default: 5
'''

EXAMPLES = r'''
- name: Repair what failed, escalate what keeps failing
  cloudos.ops.cloudos_repair:
    deny: [cloudos-migrations*]
  register: repair

- name: What would be restarted (nothing is)
  cloudos.ops.cloudos_repair:
  check_mode: true

- name: Units at their start limit may be reset too
  cloudos.ops.cloudos_repair:
    unit_patterns: [cloudos-api.service]
    container_patterns: []
    reset_failed: true
'''

RETURN = r'''
decisions:
  description: Every unit and container looked at, with what was decided and why.
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "V(unit) or V(container).", type: str}
    name: {description: The unit or container name., type: str}
    key: {description: "C(<kind>:<name>), the key of O(budget).", type: str}
    state: {description: What systemd or Docker said before., type: str}
    action: {description: "V(start), V(reset-failed and start), V(restart) or null.", type: str}
    reason: {description: Why (also why nothing was done)., type: str}
    disposition: {description: "V(ok), V(act), V(left alone) or V(escalate).", type: str}
    result: {description: "After acting: V(recovered), V(still failing), V(pending), V(action failed); in check mode V(would ...).", type: str}
    state_after: {description: What systemd or Docker said after the wait., type: str}
  sample:
    - {kind: unit, name: cloudos-api.service, key: unit:cloudos-api.service, state: failed/failed (exit-code),
       action: start, reason: failed (exit-code), disposition: act, result: recovered, state_after: active/running}
actions:
  description: What was (in check mode, would be) done.
  returned: always
  type: list
  elements: dict
recovered:
  description: Keys of the items that are up again.
  returned: always
  type: list
  elements: str
still_failing:
  description: Keys of the items acted on that are not up after the wait.
  returned: always
  type: list
  elements: str
escalate:
  description: Keys of the items that need a person (still failing, at the start limit, budget spent, dead).
  returned: always
  type: list
  elements: str
left_alone:
  description: Keys of the items not touched although not running (stopped by a person, policy says no, ...).
  returned: always
  type: list
  elements: str
notes:
  description: What could not be looked at (no systemd, no Docker engine).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _docker, _repair
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd


def main():
    module = AnsibleModule(argument_spec=_docker.argument_spec(
        unit_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        container_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        allow=dict(type='list', elements='str', default=[]),
        deny=dict(type='list', elements='str', default=[]),
        reset_failed=dict(type='bool', default=False),
        max_restarts=dict(type='int', default=3),
        budget=dict(type='dict', default={}),
        wait=dict(type='float', default=60.0),
        settle=dict(type='float', default=5.0),
    ), supports_check_mode=True)
    set_c_locale(module)
    params = dict(module.params)
    try:
        _repair.validate(params)
    except _repair.RepairError as exc:
        module.fail_json(msg=str(exc))
    notes = []
    systemd = Systemd(module.run_command)
    if params['unit_patterns'] and not systemd.running():
        notes.append('units not checked: %s' % systemd.absent_reason())
        params['unit_patterns'] = []
    conn = None
    if params['container_patterns']:
        try:
            conn = _docker.connect(_docker.options(params), low_level=True)
        except _docker.DockerError as exc:
            notes.append('containers not checked: %s' % exc)
            params['container_patterns'] = []
    try:
        result = _repair.run(params, _repair.HostAdapter(systemd, conn), module.check_mode)
    finally:
        if conn is not None:
            _docker.close(conn.client)
    module.exit_json(notes=notes, **result)


if __name__ == '__main__':
    main()
