#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_account_audit
short_description: Find accounts that can log in with an empty or a known default password
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Reads the shadow file and lists the accounts whose password is empty, or is one of
    O(default_passwords).
  - Hashes are compared on the host with C(crypt(3)) through Python's C(crypt) module, so no hash
    leaves it. Locked accounts (hash starting with C(!) or C(*)) are not weak.
  - Python 3.13 has no C(crypt) module. On such an interpreter only empty passwords are checked;
    RV(checked) and RV(note) say so, so that the caller can report what was not checked.
  - Read-only; C(changed) is always false.
options:
  default_passwords:
    description:
      - Known default passwords to try against every account's hash.
      - Not masked by the module (masking would also hide an account named like one of them); set
        C(no_log) on the task to keep them out of logs.
    type: list
    elements: str
    default: []
  shadow_file:
    description: The shadow file to read.
    type: path
    default: /etc/shadow
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; the same result in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs to read the shadow file (usually root).
  - The C(cloudos.ops.hardening) role runs it and locks (or reports) the accounts found.
seealso:
  - module: ansible.builtin.user
    description: Lock an account (C(password_lock)).
'''

EXAMPLES = r'''
- name: Find accounts with empty or default passwords
  cloudos.ops.cloudos_account_audit:
    default_passwords: [changeme, admin, cloudos]
  register: weak
  no_log: true

- name: Say what could not be checked
  ansible.builtin.debug:
    msg: "{{ weak.note }}"
  when: weak.note | length > 0
'''

RETURN = r'''
accounts:
  description: Accounts with an empty or a known default password, in shadow file order.
  returned: success
  type: list
  elements: dict
  sample: [{"user": "guest", "reason": "empty password"}, {"user": "admin", "reason": "known default password"}]
  contains:
    user:
      description: Account name.
      type: str
    reason:
      description: V(empty password) or V(known default password).
      type: str
checked:
  description: What was looked for - V(empty) passwords, and V(default) ones where hashing is possible here.
  returned: success
  type: list
  elements: str
  sample: [empty, default]
note:
  description: Why something was not checked (empty when everything was).
  returned: success
  type: str
  sample: 'crypt module unavailable: only empty passwords were checked'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _accounts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            default_passwords=dict(type='list', elements='str', default=[], no_log=False),
            shadow_file=dict(type='path', default='/etc/shadow'),
        ),
        supports_check_mode=True,
    )
    path = module.params['shadow_file']
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read %s: %s' % (path, exc))
    result = _accounts.audit(text, module.params['default_passwords'], _accounts.crypt_check())
    if result['note']:
        module.warn(result['note'])
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
