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
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make.
    support: full
    details: Read-only; the same result in check mode.
  diff_mode:
    description: Returns details on what changed (or would change) in C(diff).
    support: none
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

ENV = {'LANG': 'C', 'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'}


def apt(module):
    apt_get = module.get_bin_path('apt-get', required=True)
    argv = [apt_get, '-s', '-q', '-o', 'Debug::NoLocking=1', 'dist-upgrade']
    rc, out, err = module.run_command(argv, environ_update=ENV)
    if rc != 0:
        module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
    return updates.summary('apt', updates.parse_apt_simulation(out))


def dnf(module):
    binary = module.get_bin_path('dnf', required=True)
    rc, out, err = module.run_command([binary, '-q', '-C', 'check-update'], environ_update=ENV)
    if rc not in (0, 100):
        module.fail_json(msg='dnf check-update failed (rc %d): %s' % (rc, (err or out).strip()))
    packages = updates.parse_dnf_check_update(out)
    rc, info, err = module.run_command([binary, '-q', '-C', 'updateinfo', 'list', '--security', '--available'],
                                       environ_update=ENV)
    if rc != 0:
        module.fail_json(msg='dnf updateinfo failed (rc %d): %s' % (rc, (err or info).strip()))
    return updates.summary('dnf', updates.merge_dnf(packages, updates.parse_dnf_updateinfo(info)))


def main():
    module = AnsibleModule(
        argument_spec=dict(manager=dict(type='str', choices=['auto', 'apt', 'dnf'], default='auto')),
        supports_check_mode=True,
    )
    manager = module.params['manager']
    if manager == 'auto':
        if module.get_bin_path('apt-get'):
            manager = 'apt'
        elif module.get_bin_path('dnf'):
            manager = 'dnf'
        else:
            module.fail_json(msg='manager=auto: neither apt-get nor dnf found on this host')
    result = apt(module) if manager == 'apt' else dnf(module)
    module.exit_json(changed=False, updates=result,
                     msg='%d pending update(s), %d security' % (result['count'], result['security_count']))


if __name__ == '__main__':
    main()
