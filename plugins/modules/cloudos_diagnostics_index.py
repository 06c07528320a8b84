#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the action plugin plugins/action/cloudos_diagnostics_index.py, which
# does all the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudos_diagnostics_index
short_description: Verify, optionally obfuscate, and index the diagnostics bundles fetched to the controller
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Runs on the controller after the archives of M(cloudos.ops.cloudos_diagnostics) were fetched into O(dest).
    For each host it checks the archive's sha256 against what the host reported and against its C(.sha256)
    file, and every file of the archive against the sha256 in its C(manifest.json).
  - With O(obfuscate), host names, IPv4 and IPv6 addresses, MAC addresses, user names and O(keywords) are
    replaced in every file of every bundle by stable aliases (C(host-001), C(198.18.0.1), C(2001:db8::1),
    C(02:00:00:00:00:01), C(user-001), C(word-001)) from B(one) map, so the same address has the same alias in
    every bundle. The map is written to O(map_path) with mode 0600 and is never put in a bundle; an existing map
    is extended, so aliases stay the same across runs. Each rewritten archive gets a new name (its host name
    replaced), a new C(.sha256), and a manifest with the new sha256 and size of every file and a
    C(obfuscated) entry counting the replacements per kind. The original archive is removed.
  - Writes C(index.json) and C(index.md) (mode 0600) in O(dest) across hosts. A host without a bundle or with
    a checksum mismatch is listed with its problem and fails the task, after the index is written.
options:
  dest:
    description: Directory on the controller holding the fetched archives; the index is written there.
    type: path
    required: true
  hosts:
    description: The hosts of the run (for example V({{ ansible_play_hosts_all }})).
    type: list
    elements: str
    required: true
  result_var:
    description:
      - Name of the host variable that says what was fetched - a dict with C(archive) (the local path),
        C(sha256) (what the host reported) and C(obfuscation) (the hints the module returned); or C(failed)
        and C(msg).
    type: str
    default: diagnostics_fetched
  obfuscate:
    description: Replace host names, addresses, MAC addresses, user names and O(keywords) consistently.
    type: bool
    default: false
  map_path:
    description: The obfuscation map on the controller (required with O(obfuscate)); keep it private.
    type: path
  keywords:
    description: Further words to replace (customer names, project names).
    type: list
    elements: str
    default: []
  run_id:
    description: Identifier of the run, shown in the index.
    type: str
attributes:
  check_mode:
    support: full
    details: Nothing is verified, rewritten or written.
  diff_mode:
    support: none
  platform:
    platforms: all
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - cloudos.ops.attributes.controller
notes:
  - Obfuscation works on the text of the bundles after redaction on the host; it does not replace redaction.
seealso:
  - module: cloudos.ops.cloudos_diagnostics
"""

EXAMPLES = r"""
- name: Index the bundles of this run, obfuscated
  cloudos.ops.cloudos_diagnostics_index:
    dest: "{{ diagnostics_dest }}"
    hosts: "{{ ansible_play_hosts_all }}"
    obfuscate: true
    map_path: "{{ diagnostics_report_root }}/diagnostics/obfuscation-map.json"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
index:
  description: The index as written to C(index.json).
  returned: success and not check mode
  type: dict
  sample: {"run_id": "20240501T031500Z", "obfuscated": false, "totals": {"hosts": 2, "verified": 2, "problems": 0},
           "hosts": [{"host": "web01", "archive": "cloudos-diagnostics-web01-20240501T031500Z.tar.gz",
                      "verified": true, "files": 31, "redactions": {"docker_env": 6}}]}
index_json:
  description: Path of C(index.json).
  returned: success and not check mode
  type: str
index_md:
  description: Path of C(index.md).
  returned: success and not check mode
  type: str
"""
