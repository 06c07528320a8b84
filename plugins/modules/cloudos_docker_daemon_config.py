#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_docker_daemon_config
short_description: Merge options into Docker's daemon.json and validate the result before writing it
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Merges O(options) into the existing C(daemon.json) as a JSON Merge Patch (RFC 7386) - objects merge
    key by key, C(null) removes a key, other values replace - so keys set by others stay.
  - Validates the result before writing it - it must be a JSON object; every key must be one the
    installed C(dockerd) knows, with a value of the type its flag takes (read from C(dockerd --help),
    which catches for example a number as C(max-file) in C(log-opts), where dockerd wants a string);
    no key may also be set as a flag of the Docker service (dockerd refuses to start with that); and,
    where the installed Docker has it (23.0 and later), C(dockerd --validate --config-file) on a
    temporary copy.
  - Writes atomically and only when the content changes (compared as JSON, so formatting is kept
    when nothing changes). Restarting Docker is left to a handler of the caller.
  - Does not change the storage driver under a running daemon that uses another one (its images and
    containers would disappear from view) unless O(allow_storage_driver_change=true).
options:
  path:
    description:
      - The daemon configuration file. A symbolic link is updated through the link (the link stays, its target
        is replaced atomically); a directory, a file over 1 MiB, text that is not UTF-8 or invalid JSON (named with
        its line and column) is an error and nothing is written.
    type: path
    default: /etc/docker/daemon.json
  options:
    description:
      - Keys to merge into the file. A C(null) value removes the key.
    type: dict
    required: true
  validate:
    description: Validate the merged result (schema from the installed dockerd, service flags, C(dockerd --validate)).
    type: bool
    default: true
  dockerd:
    description: Path of the dockerd binary used for validation; by default looked up in E(PATH) and C(/usr/sbin).
    type: path
  service:
    description:
      - systemd unit whose C(ExecStart) flags must not be repeated in the file. Empty to skip the check.
      - Where systemd is not running, the C(ExecStart) is read from the unit file and its drop-ins
        (C(/etc/systemd/system/docker.service.d/*.conf)) as systemd would combine them.
    type: str
    default: docker.service
  allow_storage_driver_change:
    description:
      - Allow a C(storage-driver) different from the one the running daemon uses. Without it, such a
        change is left out (with a warning) and the rest is applied.
      - The running daemon is asked through the Docker options below (O(docker_host) and the others); where the
        C(docker) Python SDK is missing, through C(docker info) on the same endpoint. A daemon that cannot be
        asked does not block the change.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the previous file when it changes.
    type: bool
    default: false
extends_documentation_fragment:
  - cloudos.ops.docker
attributes:
  check_mode:
    support: full
    description: Validates and reports the change with its diff; writes nothing.
  diff_mode:
    support: full
    description: Shows the file before and after.
seealso:
  - name: dockerd configuration file reference
    description: All keys of daemon.json.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
'''

EXAMPLES = r'''
- name: The guide's logging and ulimit settings, keeping every other key
  cloudos.ops.cloudos_docker_daemon_config:
    options:
      log-driver: json-file
      log-opts:
        max-size: 10m
        max-file: "3"
      default-ulimits:
        nofile: {Name: nofile, Hard: 64000, Soft: 64000}
  notify: Restart docker

- name: Remove a key
  cloudos.ops.cloudos_docker_daemon_config:
    options:
      debug: null
'''

RETURN = r'''
config:
  description: The configuration after the merge.
  returned: always
  type: dict
  sample: {"log-driver": "json-file", "log-opts": {"max-file": "3", "max-size": "10m"}}
validated_with:
  description: Validations performed (V(json), V(schema), V(service-flags), V(dockerd)).
  returned: always
  type: list
  elements: str
  sample: [json, schema, service-flags]
backup_file:
  description: The copy of the previous file.
  returned: when O(backup=true) and the file changed
  type: str
diff:
  description: The file before and after.
  returned: when changed
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _docker, _docker_daemon as D
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale


def main():
    module = AnsibleModule(
        argument_spec=_docker.argument_spec(
            path=dict(type='path', default='/etc/docker/daemon.json'),
            options=dict(type='dict', required=True),
            validate=dict(type='bool', default=True),
            dockerd=dict(type='path'),
            service=dict(type='str', default='docker.service'),
            allow_storage_driver_change=dict(type='bool', default=False),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    set_c_locale(module)
    try:
        result = D.configure(D.ModuleSystem(module), module.params, check_mode=module.check_mode)
    except D.DaemonConfigError as exc:
        module.fail_json(msg=str(exc), **exc.partial)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
