#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_updates_info
short_description: Pending package updates, and which are security updates (apt or dnf)
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - The guide's weekly C(apt list --upgradable | wc -l), with the list itself and the security updates told apart.
  - On apt hosts, simulates C(apt-get -s dist-upgrade) (no lock, nothing installed) and reads, for each package, the
    archives its candidate comes from; an update whose archive is a security archive (C(bookworm-security),
    C(jammy-security), origin C(Debian-Security)) is a security update.
  - On dnf hosts, reads C(dnf check-update) and C(dnf updateinfo list --security --available).
  - Read-only; C(changed) is always false. Uses the package lists as they are; refresh them first (for example
    M(ansible.builtin.apt) with C(update_cache)) for current answers.
options:
  manager:
    description: Package manager. V(auto) uses apt when C(apt-get) exists, else dnf.
    type: str
    choices: [auto, apt, dnf]
    default: auto
extends_documentation_fragment:
  - cloudos.ops.info_module
'''

EXAMPLES = r'''
- name: Count pending and security updates
  cloudos.ops.cloudos_updates_info:
  register: updates

- name: Apply only the security updates found (apt)
  ansible.builtin.apt:
    name: "{{ updates.updates.security }}"
    only_upgrade: true
    state: latest
  when: updates.updates.security | length > 0
'''

RETURN = r'''
updates:
  description: Pending updates, security updates first.
  returned: always
  type: dict
  sample: {"manager": "apt", "count": 2, "security_count": 1, "security": ["libssl3"],
           "packages": [{"name": "libssl3", "current": "3.0.11-1~deb12u1", "available": "3.0.11-1~deb12u2",
                         "origins": ["Debian-Security:12/stable-security"], "security": true, "new": false}]}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _updates as updates
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale


def main():
    module = AnsibleModule(
        argument_spec=dict(manager=dict(type='str', choices=['auto', 'apt', 'dnf'], default='auto')),
        supports_check_mode=True,
    )
    set_c_locale(module, DEBIAN_FRONTEND='noninteractive')
    try:
        result = updates.pending(module.params['manager'], module.run_command, module.get_bin_path)
    except updates.UpdatesError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
