#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_journal_vacuum
short_description: Vacuum the systemd journal by age, size or file count, with a preview of what would be freed
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Runs C(journalctl --vacuum-time/--vacuum-size/--vacuum-files), the guide's weekly C(journalctl --vacuum-time=7d),
    once per journal directory found under O(directories) (C(journalctl --directory=...)), so the real run acts on
    exactly the directories the check-mode plan measured, and reports the journal's disk usage before and after, the archived files removed and the bytes freed.
  - In check mode nothing is removed; the module lists the archived journal files that would be removed and the
    bytes that frees, following journald's own vacuum rules per journal directory (only archived and corrupted
    files, oldest first, until the first file within every limit; active files are never removed but count towards
    O(vacuum_size)).
  - C(changed) is true only when files were (or would be) removed, so a second run right after the first reports
    no change. Vacuum is periodic by nature - files age past O(vacuum_time) between runs.
options:
  vacuum_time:
    description: Remove archived files whose entries are older than this time span (journalctl syntax, for example
      V(7d), V(2weeks), V(12h)).
    type: str
  vacuum_size:
    description: Remove the oldest archived files until the journal uses at most this much (V(500M), V(1G)).
    type: str
  vacuum_files:
    description: Remove the oldest archived files until at most this many journal files are left per directory.
    type: int
  directories:
    description: Journal roots to measure (each machine-id subdirectory is vacuumed on its own, as journalctl does).
    type: list
    elements: path
    default: [/var/log/journal, /run/log/journal]
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make.
    support: full
    details: Lists the archived files that would be removed and the bytes freed.
  diff_mode:
    description: Returns details on what changed (or would change) in C(diff).
    support: full
    details: The journal files of each directory before and after.
requirements:
  - journalctl (systemd) on the managed host
'''

EXAMPLES = r'''
- name: The guide's weekly journal clean-up
  cloudos.ops.cloudos_journal_vacuum:
    vacuum_time: 7d

- name: Keep at most 500 MiB of journal, and nothing older than a month
  cloudos.ops.cloudos_journal_vacuum:
    vacuum_time: 1month
    vacuum_size: 500M
'''

RETURN = r'''
usage_before:
  description: Bytes used by journal files (allocated size) before the run.
  returned: always
  type: int
  sample: 134217728
usage_after:
  description: Bytes used afterwards (check mode - expected).
  returned: always
  type: int
bytes_freed:
  description: Bytes freed (check mode - bytes that would be freed).
  returned: always
  type: int
removed:
  description: Archived files removed (check mode - that would be removed), with their size.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/var/log/journal/9fe8.../system@a1b2...-0000000000000001-00060f1e2d3c4b5a.journal", "bytes": 8388608}]
disk_usage:
  description: C(journalctl --disk-usage) after the run.
  returned: always
  type: str
  sample: Archived and active journals take up 24.0M in the file system.
directories:
  description: Per journal directory, usage, file count and files removed.
  returned: always
  type: list
  elements: dict
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _journal as journal
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vacuum_time=dict(type='str'),
            vacuum_size=dict(type='str'),
            vacuum_files=dict(type='int'),
            directories=dict(type='list', elements='path', default=list(journal.DIRECTORIES)),
        ),
        required_one_of=[('vacuum_time', 'vacuum_size', 'vacuum_files')],
        supports_check_mode=True,
    )
    set_c_locale(module)
    try:
        limits = journal.check_params(module.params)
        journalctl = module.get_bin_path('journalctl', required=True)
        result = journal.vacuum(module.params, limits, journalctl, module.run_command, int(time.time() * 1000000),
                                check_mode=module.check_mode, diff_mode=module._diff)
    except journal.JournalError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
