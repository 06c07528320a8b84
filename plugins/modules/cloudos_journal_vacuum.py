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
    and reports the journal's disk usage before and after, the archived files removed and the bytes freed.
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


def _listing(found):
    lines = []
    for directory in sorted(found):
        for item in found[directory]:
            lines.append('%s %s' % (item['path'], journal.human(item['bytes'])))
    return '\n'.join(lines) + ('\n' if lines else '')


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
    params = module.params
    try:
        size = journal.parse_size(params['vacuum_size'])
        span = journal.parse_timespan(params['vacuum_time'])
    except journal.JournalError as exc:
        module.fail_json(msg=str(exc))
    if params['vacuum_files'] is not None and params['vacuum_files'] < 1:
        module.fail_json(msg='vacuum_files must be at least 1, got %r' % params['vacuum_files'])
    if size is not None and size <= 0:
        module.fail_json(msg='vacuum_size must be more than 0, got %r' % params['vacuum_size'])
    journalctl = module.get_bin_path('journalctl', required=True)

    before = journal.scan(params['directories'])
    result = journal.plan(before, int(time.time() * 1000000), size, params['vacuum_files'], span)
    out = dict(changed=False, usage_before=result['usage'], directories=result['directories'])

    if module.check_mode:
        out.update(changed=bool(result['remove']), removed=result['remove'], bytes_freed=result['bytes'],
                   usage_after=result['usage_after'])
        if result['remove'] and module._diff:
            planned = set(r['path'] for r in result['remove'])
            after = dict((d, [f for f in files if f['path'] not in planned]) for d, files in before.items())
            out['diff'] = {'before': _listing(before), 'after': _listing(after)}
    else:
        argv = [journalctl] + journal.vacuum_args(params['vacuum_size'], params['vacuum_files'], params['vacuum_time'])
        rc, stdout, stderr = module.run_command(argv, environ_update={'LANG': 'C', 'LC_ALL': 'C'})
        if rc != 0:
            module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(argv), rc, (stderr or stdout).strip()), **out)
        after = journal.scan(params['directories'])
        paths_after = set(f['path'] for files in after.values() for f in files)
        removed = [dict(path=f['path'], bytes=f['bytes']) for files in before.values() for f in files
                   if f['path'] not in paths_after]
        usage_after = sum(f['bytes'] for files in after.values() for f in files)
        out.update(changed=bool(removed), removed=removed, bytes_freed=sum(r['bytes'] for r in removed),
                   usage_after=usage_after, journalctl_output=(stderr or '') + (stdout or ''))
        if removed and module._diff:
            out['diff'] = {'before': _listing(before), 'after': _listing(after)}
    rc, stdout, stderr = module.run_command([journalctl, '--disk-usage'], environ_update={'LANG': 'C', 'LC_ALL': 'C'})
    out['disk_usage'] = (stdout or stderr).strip()
    out['msg'] = '%s %d archived journal file(s), %s' % (
        'would remove' if module.check_mode else 'removed', len(out['removed']), journal.human(out['bytes_freed']))
    module.exit_json(**out)


if __name__ == '__main__':
    main()
