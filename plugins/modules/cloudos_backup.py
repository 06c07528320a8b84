#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_backup
short_description: Verified, atomic backup sets of paths, Docker volumes and system state; retention; safe restore
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - V(present) writes backup set O(backup_id) under O(dest) - one gzip-compressed tar archive per source plus
    a per-archive file index with the SHA-256 of every file, and C(MANIFEST.json) (format version, host, times,
    sources, sizes, SHA-256 of every archive and index, tool version).
  - The set is written as C(<dest>/.incomplete-<backup_id>-<pid>) and renamed to C(<dest>/<backup_id>) as the
    very last step, so an interrupted run (killed, full disk, error) never leaves a set that looks complete.
    Leftovers of interrupted runs whose process is gone are removed by the next run.
  - Docker volumes are read from their mountpoint, found through the Docker Engine API; no helper container is
    run and no image is pulled.
  - Archives keep modes, owners, modification times, symlinks, hard links and empty directories. Data is
    streamed (memory stays flat whatever the size); C(pigz) or C(gzip) compresses in a separate process when
    installed. Files of a set are mode C(0600), directories C(0700), owned by root.
  - A set is untrusted input. C(MANIFEST.json) (at most 8 MiB of UTF-8 JSON, a regular file) is checked before
    use - its format version, the type of every field, every archive a source reads is a plain file name listed
    with its checksum, every path source is absolute and normalised and its archive name follows from it (an
    edited source name does not match its archive any more). A set whose manifest fails these checks is reported
    by file name and passed over; the other sets keep working. Archives are read as regular files inside the
    set, never through a symlink.
  - V(verified) recomputes every checksum of one set (or of all complete sets) and reports mismatches. Without
    O(backup_id), a set with a damaged manifest is listed as a set that does not verify.
  - V(restored) verifies the set first and refuses one that does not verify, before touching anything. Each
    tree is extracted into a staging directory next to its target with member checks of our own (absolute
    names, C(..), links leaving the tree, device files and members under a symlink are refused), then swapped
    into place, so the target ends up exactly as in the backup (files not in the backup are removed). A target
    that already matches is left alone. Files are written sparse (runs of zeros become holes). A target that is
    C(/), on a pseudo-filesystem or holds O(dest) is refused. C(--check) lists what would be created, changed
    and removed; C(--diff) shows it.
  - V(pruned) applies O(retention) without writing a new set (V(present) applies it after the new set).
    Only complete sets count; the newest complete set and the set this run wrote are never deleted. A set dated
    in the future is kept, reported (C(future) in RV(retention)) and not counted; a set whose manifest is damaged is
    never counted nor deleted (its age cannot be proven), only reported (C(ignored) in RV(retention)).
options:
  state:
    description: What to do.
    type: str
    choices: [present, verified, restored, pruned]
    default: present
  dest:
    description: Directory holding the sets. Created (mode C(0700)) when missing.
    type: path
    default: /backup/cloudos
  backup_id:
    description:
      - Name of the set. A single path component of letters, digits, C(.), C(_), C(+), C(-).
      - For V(present), defaults to the UTC time (C(20240131T020000Z)); re-running with an existing id is a no-op
        unless O(force=true). V(latest) and V(all) (in any case) are reserved and refused.
      - For V(verified), omit it to verify every complete set, or use V(latest).
      - For V(restored), omit it (or use V(latest)) to restore the newest set that verifies; sets that do not
        verify are passed over with a warning.
    type: str
  paths:
    description:
      - V(present) - absolute paths (directories or files) to back up. Defaults to C(/etc/cloudos) and
        C(/opt/cloudos/config).
      - A path that is a symlink to a directory is backed up as that directory's content (RV(backup)
        says C(symlink_to)); a restore writes into the directory the link points to and keeps the link.
      - Refused before anything is written - pseudo-filesystems (C(/proc), C(/sys), C(/dev), C(/run), anything on
        or holding a C(proc), C(sysfs), C(cgroup), ... mount), a path holding O(dest) and a path inside O(dest).
      - V(restored) - restore only these paths of the set (default - every path and volume of the set).
    type: list
    elements: path
  docker_volumes:
    description:
      - V(present) - names of Docker volumes to back up (an unknown volume is an error).
      - V(restored) - restore only these volumes (a missing volume is created with its recorded driver, labels and
        options).
    type: list
    elements: str
  system_state:
    description:
      - V(present) - system information saved as one more archive (informational, never restored) - the list of
        enabled unit files, user and system crontabs, the installed package list and C(docker volume inspect) of
        every volume. An item that cannot be read here is recorded as unavailable, not an error.
      - Default is every item; V([]) saves none.
    type: list
    elements: str
    choices: [units, crontabs, packages, docker_volumes]
  exclude:
    description: Shell patterns matched against each path relative to its source, or its base name; a matching
      directory is skipped whole.
    type: list
    elements: str
    default: []
  missing_source:
    description: What to do when a path in O(paths) does not exist - V(fail) before writing anything, or V(skip)
      it (reported in RV(skipped_sources)).
    type: str
    choices: [fail, skip]
    default: fail
  force:
    description:
      - V(present) - replace an existing set of the same O(backup_id).
      - V(restored) - extract even when the target already matches the backup.
    type: bool
    default: false
  stop_containers:
    description:
      - Containers to stop for a consistent copy (V(present)) or while data is replaced (V(restored)). Only
        those running are stopped, and they are started again afterwards, also when the run fails.
    type: list
    elements: str
    default: []
  stop_volume_users:
    description: V(restored) - also stop (and start again afterwards) every running container that mounts a volume
      being restored.
    type: bool
    default: false
  stop_timeout:
    description: Seconds a container gets to stop before it is killed.
    type: int
    default: 30
  retention:
    description:
      - Which complete sets to keep (V(present) after the new set, V(pruned)). Without any rule nothing is deleted.
        The rules add up; the newest complete set is always kept.
    type: dict
    suboptions:
      keep_daily:
        description: Keep the newest set of each of the last N days that have a set.
        type: int
      keep_weekly:
        description: Keep the newest set of each of the last N ISO weeks that have a set.
        type: int
      keep_monthly:
        description: Keep the newest set of each of the last N months that have a set.
        type: int
      keep_days:
        description: Keep every set created in the last N days.
        type: int
  compression_level:
    description: gzip level, 1 (fastest) to 9 (smallest).
    type: int
    default: 6
  compressor:
    description: Program to compress and decompress with. V(auto) uses C(pigz), else C(gzip), else Python's
      gzip module (V(python)).
    type: str
    choices: [auto, pigz, gzip, python]
    default: auto
  fsync:
    description: Flush every file of a new set to disk before the set is renamed into place.
    type: bool
    default: true
  restore_root:
    description:
      - V(restored) - restore under this directory instead of the original places, for tests and drills;
        path C(/etc/cloudos) goes to C(<restore_root>/etc/cloudos), volume C(v) to C(<restore_root>/volumes/v).
    type: path
  compare:
    description:
      - V(restored) - after restoring, V(manifest) hashes every restored file and compares it (content, mode,
        owner, time, link) with the set's index, failing on any difference; V(live) compares the index with the
        live data at the original place and reports differences (not a failure). Meant for O(restore_root) drills.
    type: list
    elements: str
    choices: [manifest, live]
    default: []
  restore_external_symlinks:
    description: V(restored) - recreate symlinks that point outside their tree (absolute or C(..) targets) as
      they were. They are never followed while extracting. By default such a member is refused.
    type: bool
    default: false
  fail_on_mismatch:
    description: V(verified) - fail when a set does not verify (else only report it).
    type: bool
    default: true
extends_documentation_fragment:
  - cloudos.ops.docker
requirements:
  - The Python C(docker) SDK (Debian C(python3-docker)) for O(docker_volumes), O(stop_containers) and the
    C(docker_volumes) item of O(system_state).
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: V(present) reports the sources with their estimated sizes, leftovers and retention deletions without
      writing; V(restored) verifies and lists what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: V(present) and V(pruned) show the list of sets before and after; V(restored) shows the files that differ.
notes:
  - The archives are ordinary C(.tar.gz) files; C(tar -xzf) can read them without this module.
  - C(kill -9) of a run that stopped containers cannot start them again; the next run reports them as stopped.
seealso:
  - name: Backup and restore playbooks
    description: docs/backup.md and docs/restore.md in this collection.
    link: https://github.com/cloudos/cloudos.ops/tree/main/docs
'''

EXAMPLES = r'''
- name: Daily backup of the guide's sources, keep 7 daily, 4 weekly, 6 monthly sets
  cloudos.ops.cloudos_backup:
    backup_id: "{{ '%Y%m%d' | strftime(utc=true) }}"
    paths: [/etc/cloudos, /opt/cloudos/config]
    docker_volumes: [prometheus_data]
    stop_containers: [prometheus]
    retention:
      keep_daily: 7
      keep_weekly: 4
      keep_monthly: 6

- name: Verify every set
  cloudos.ops.cloudos_backup:
    state: verified

- name: What would a restore of the newest good set change?
  cloudos.ops.cloudos_backup:
    state: restored
  check_mode: true
  diff: true

- name: Restore drill into a scratch directory, comparing every file
  cloudos.ops.cloudos_backup:
    state: restored
    restore_root: /var/tmp/restore-drill
    compare: [manifest, live]
'''

RETURN = r'''
backup:
  description: The set written (or found, when it already existed) by V(present).
  returned: state is present and not in check mode, or when the set exists
  type: dict
  sample: {"backup_id": "20240131", "path": "/backup/cloudos/20240131", "created_at": "2024-01-31T02:00:03Z",
           "duration_s": 12.4, "host": "cloudos-1", "size": 104857600,
           "sources": [{"kind": "path", "name": "/etc/cloudos", "archive": "path-etc_cloudos.tar.gz", "bytes": 5120,
                        "files": 12}], "warnings": []}
sources:
  description: V(present) in check mode - each source with its estimated size before compression.
  returned: state is present in check mode
  type: list
  elements: dict
  sample: [{"kind": "volume", "name": "prometheus_data", "bytes": 73400320, "entries": 412}]
skipped_sources:
  description: Sources skipped because they do not exist (O(missing_source=skip)).
  returned: state is present
  type: list
  elements: dict
cleaned:
  description: Leftovers of interrupted runs that were (or in check mode would be) removed.
  returned: state is present or pruned
  type: list
  elements: str
  sample: [".incomplete-20240131-4242"]
retention:
  description: Sets kept (with the rules that keep them) and deleted (or that would be deleted in check mode).
  returned: when O(retention) has a rule
  type: dict
  sample: {"keep": [{"id": "20240131", "time": "2024-01-31T02:00:03Z", "reasons": ["newest", "daily 2024-01-31"]}],
           "delete": [{"id": "20231201", "time": "2023-12-01T02:00:02Z"}], "future": [],
           "ignored": [{"id": "20231101", "reason": "/backup/cloudos/20231101/MANIFEST.json is not valid JSON: ..."}]}
verified:
  description: Per set checked, whether it verifies, how many files were hashed, the mismatches
    (file and problem) and files in the set directory that the manifest does not list.
  returned: state is verified or restored
  type: raw
  sample: [{"backup_id": "20240131", "ok": false, "checked": 7,
            "mismatches": [{"file": "volume-prometheus_data.tar.gz", "problem": "sha256 ab12..., manifest says 9f00..."}],
            "unexpected_files": []}]
restored:
  description: Per restored source - target, whether it changed, counts of created/changed/removed/same entries and
    the first entries of each list.
  returned: state is restored
  type: list
  elements: dict
compare:
  description: Results of O(compare) per source.
  returned: state is restored and O(compare) is not empty
  type: list
  elements: dict
containers:
  description: Containers stopped for this run and any that could not be started again.
  returned: when O(stop_containers) is used and something was written
  type: dict
  sample: {"stopped": ["prometheus"], "restart_errors": []}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._backup import engine, states
from ansible_collections.cloudos.ops.plugins.module_utils._backup.host import Host
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale


def main():
    module = AnsibleModule(
        argument_spec=_docker.argument_spec(
            state=dict(type='str', choices=['present', 'verified', 'restored', 'pruned'], default='present'),
            dest=dict(type='path', default='/backup/cloudos'),
            backup_id=dict(type='str'),
            paths=dict(type='list', elements='path'),
            docker_volumes=dict(type='list', elements='str'),
            system_state=dict(type='list', elements='str', choices=list(engine.SYSTEM_STATE_ITEMS)),
            exclude=dict(type='list', elements='str', default=[]),
            missing_source=dict(type='str', choices=['fail', 'skip'], default='fail'),
            force=dict(type='bool', default=False),
            stop_containers=dict(type='list', elements='str', default=[]),
            stop_volume_users=dict(type='bool', default=False),
            stop_timeout=dict(type='int', default=30),
            retention=dict(type='dict', options=dict(
                keep_daily=dict(type='int'), keep_weekly=dict(type='int'),
                keep_monthly=dict(type='int'), keep_days=dict(type='int'))),
            compression_level=dict(type='int', default=6),
            compressor=dict(type='str', choices=['auto', 'pigz', 'gzip', 'python'], default='auto'),
            fsync=dict(type='bool', default=True),
            restore_root=dict(type='path'),
            compare=dict(type='list', elements='str', choices=['manifest', 'live'], default=[]),
            restore_external_symlinks=dict(type='bool', default=False),
            fail_on_mismatch=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    set_c_locale(module)
    host = Host(module.run_command, module.params)
    try:
        result = states.run(module.params, host, check_mode=module.check_mode, diff_mode=module._diff)
    except BackupError as exc:
        failed = states.failure(exc)
        for warning in failed.pop('warnings', []) or []:
            module.warn(warning)
        module.fail_json(**failed)
    for warning in result.pop('warnings', []) or []:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
