#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_workload
short_description: Stop a host's CloudOS units and containers, and start exactly those again
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - The data-corruption runbook's "stop all write operations" and "resume operations".
  - V(stopped) stops the running systemd services matching O(unit_patterns) and the running containers matching
    O(container_patterns) (containers first), and returns their names in RV(units) and RV(containers).
  - V(started) starts the O(units) and O(containers) it is given - the names a V(stopped) run returned - so that
    resuming never starts what was not running before. The patterns do not apply to V(started).
extends_documentation_fragment:
  - cloudos.ops.docker
attributes:
  check_mode:
    support: full
    description: Lists what would be stopped or started; changes nothing.
  diff_mode:
    support: none
    description: Nothing file-like changes.
options:
  state:
    description: V(stopped) or V(started).
    type: str
    choices: [stopped, started]
    required: true
  unit_patterns:
    description: V(stopped) - systemd service globs.
    type: list
    elements: str
    default: ['cloudos-*']
  container_patterns:
    description: V(stopped) - container name globs.
    type: list
    elements: str
    default: ['cloudos-*']
  units:
    description: V(started) - the units to start (RV(units) of the V(stopped) run).
    type: list
    elements: str
    default: []
  containers:
    description: V(started) - the containers to start (RV(containers) of the V(stopped) run).
    type: list
    elements: str
    default: []
  stop_timeout:
    description: Seconds a container gets to stop before it is killed.
    type: int
    default: 30
'''

EXAMPLES = r'''
- name: Stop all write operations
  cloudos.ops.cloudos_workload:
    state: stopped
  register: writers

- name: Resume operations
  cloudos.ops.cloudos_workload:
    state: started
    units: "{{ writers.units }}"
    containers: "{{ writers.containers }}"
'''

RETURN = r'''
units:
  description: The units stopped or started (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [cloudos-api.service, cloudos-scheduler.service]
containers:
  description: The containers stopped or started (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [cloudos-web]
errors:
  description: What could not be stopped or started (the task fails when there is any).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _docker, _workload
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd


def main():
    module = AnsibleModule(argument_spec=_docker.argument_spec(
        state=dict(type='str', choices=['stopped', 'started'], required=True),
        unit_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        container_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        units=dict(type='list', elements='str', default=[]),
        containers=dict(type='list', elements='str', default=[]),
        stop_timeout=dict(type='int', default=30),
    ), supports_check_mode=True)
    set_c_locale(module)
    params = dict(module.params)
    if params['state'] == 'started':
        params['unit_patterns'] = params['container_patterns'] = []
    try:
        _workload.validate(params)
    except _workload.WorkloadError as exc:
        module.fail_json(msg=str(exc))
    conn = None
    if params['container_patterns'] or params['containers']:
        try:
            conn = _docker.connect(_docker.options(params), low_level=True)
        except _docker.DockerError as exc:
            if params['containers'] or exc.reason != _docker.ABSENT:
                module.fail_json(msg=str(exc))
    try:
        result = _workload.run(params, _workload.Adapter(Systemd(module.run_command), conn), module.check_mode)
    finally:
        if conn is not None:
            _docker.close(conn.client)
    if result['errors']:
        module.fail_json(msg='; '.join(result['errors']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
