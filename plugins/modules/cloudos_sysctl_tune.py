#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_sysctl_tune
short_description: Tune kernel parameters, CPU frequency and block devices, with persistence and revert
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Sets sysctl keys (O(settings), optionally on top of a named O(profile)), the CPU frequency
    governor, CPU boost, the I/O scheduler and read-ahead of block devices.
  - Validates every key and value before the first write (the key exists under C(/proc/sys), numeric
    keys get numbers with the same number of fields, governors and schedulers are known to the kernel
    and offered by the hardware). Applies all or nothing; when the kernel rejects a value half-way,
    every value already written is put back and the module fails naming the key and the value.
  - Persists sysctl keys to one drop-in file (never appends to C(/etc/sysctl.conf)), block device
    settings to a udev rule and CPU settings to a oneshot systemd unit, each written atomically and
    holding only what this module manages.
  - Records the values found before the first change in a root-only state file, once, so that
    O(state=reverted) puts the machine back as it was and removes the persistence files.
  - Multi-field values such as C(net.ipv4.tcp_rmem) are compared field by field, whitespace-insensitive.
  - Keys that are read-only here (C(/proc/sys) mounted read-only in a container) are reported in
    RV(unsupported) and left alone, or fail with O(strict=true). Inside a container, keys that are not
    namespaced (C(vm.*), most of C(kernel.*) and C(fs.*)) would change the whole host; they are
    reported as unsupported unless O(allow_host_wide=true).
  - Keys previously tuned by this module but no longer listed go back to their recorded value.
options:
  state:
    description:
      - V(present) applies the settings; V(reverted) restores every recorded value and removes the
        persistence files and the state file (all other tuning options are ignored).
    type: str
    choices: [present, reverted]
    default: present
  settings:
    description:
      - Mapping of sysctl name to value. Names use dots (C(net.ipv4.tcp_rmem)) or slashes
        (C(net/ipv4/tcp_rmem); then dots inside a component stay, as in C(net/ipv4/conf/eth0.1/rp_filter)).
      - Values are strings, integers, booleans (written as C(1)/C(0)) or lists of fields.
      - Overrides the same key of O(profile).
    type: dict
    default: {}
  profile:
    description:
      - V(guide) adds the CloudOS Operations Guide's values C(vm.swappiness=1), C(vm.vfs_cache_pressure=10),
        C(vm.dirty_ratio=50), C(net.core.rmem_max=16777216), C(net.core.wmem_max=16777216) and
        C(net.ipv4.tcp_rmem=4096 87380 16777216).
      - A profile key that does not exist on this kernel or in this network namespace is reported
        unsupported rather than failing (a key given in O(settings) that does not exist is an error).
    type: str
    choices: [guide, none]
    default: none
  cpu_governor:
    description:
      - CPU frequency governor for every CPU (C(performance), C(powersave), C(schedutil), C(ondemand),
        C(conservative), C(userspace)). A name the kernel does not know is an error even where no
        CPU frequency scaling exists; a known one on a machine without cpufreq is reported unsupported.
    type: str
  cpu_boost:
    description:
      - Turbo/boost (C(cpufreq/boost) or C(intel_pstate/no_turbo)). The default leaves it alone, because
        turning boost off lowers performance.
    type: str
    choices: ['on', 'off', unchanged]
    default: unchanged
  io_scheduler:
    description:
      - I/O scheduler for the block devices matching O(block_devices) (C(mq-deadline), C(none), C(kyber),
        C(bfq), or the single-queue names C(deadline), C(noop), C(cfq)).
      - C(deadline) and C(mq-deadline) (and C(noop)/C(none)) stand for each other when a device offers only
        the other name; the substitution is listed in RV(notes). Devices that offer no choice (stacked
        C(dm-*), C(md*)) are skipped and noted.
    type: str
  read_ahead_kb:
    description:
      - Read-ahead in KiB for the matching block devices; a multiple of the page size.
    type: int
  block_devices:
    description:
      - Shell-style pattern of device names under C(/sys/block) to tune (for example C(sd*) or C(nvme*)).
      - A pattern other than C(*) that matches no device is an error.
    type: str
    default: '*'
  block_devices_exclude:
    description:
      - Patterns of device names never tuned.
    type: list
    elements: str
    default: ['loop*', 'ram*', 'zram*']
  persist:
    description:
      - Keep the values across reboots (drop-in, udev rule, systemd unit). V(false) removes files an
        earlier run wrote.
    type: bool
    default: true
  strict:
    description:
      - Fail, before changing anything, when a setting is unsupported here.
    type: bool
    default: false
  allow_host_wide:
    description:
      - Inside a container, also change keys that are not namespaced and so change the host.
    type: bool
    default: false
  sysctl_file:
    description: Drop-in file for the sysctl keys.
    type: path
    default: /etc/sysctl.d/60-cloudos-tune.conf
  udev_rules_file:
    description: udev rule file for the block device settings.
    type: path
    default: /etc/udev/rules.d/60-cloudos-tune.rules
  systemd_unit:
    description: Name of the oneshot unit (in C(/etc/systemd/system)) that applies the CPU settings at boot.
    type: str
    default: cloudos-tune-cpu.service
  state_file:
    description:
      - Root-only JSON file recording the values found before the first change. Use one state file per
        set of managed files.
      - It is read as untrusted input - a symbolic link, a directory, a file over 1 MiB, invalid JSON, another
        schema, an entry other than a sysctl key or the C(/sys) CPU frequency and block queue attributes this
        module writes, or a value with a control character is an error naming the file and the entry, and
        nothing is changed.
    type: path
    default: /var/lib/cloudos-ops/sysctl-tune.json
  root:
    description:
      - Directory treated as C(/) for every path read or written (C(/proc/sys), C(/sys), the files above).
        Meant for testing against a prepared tree; leave at C(/) on real hosts.
    type: path
    default: /
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the diff, and changes nothing.
  diff_mode:
    support: full
    description: Shows live values and persistence files before and after.
notes:
  - Values are written directly to C(/proc/sys) and C(/sys) (one write per key), then read back; a value
    the kernel silently adjusts (for example a clamped maximum) fails the run and is rolled back, so
    that a second run never reports a change again.
  - Keys that are host-wide are not detected when a container shares the host's network namespace.
seealso:
  - module: ansible.posix.sysctl
'''

EXAMPLES = r'''
- name: Apply the guide's memory and network values, keep them across reboots
  cloudos.ops.cloudos_sysctl_tune:
    profile: guide

- name: Tune network keys and disks
  cloudos.ops.cloudos_sysctl_tune:
    settings:
      net.core.somaxconn: 4096
      net/ipv4/ip_local_port_range: 10240 65000
      net.ipv4.tcp_rmem: [4096, 87380, 16777216]
    io_scheduler: mq-deadline
    read_ahead_kb: 4096
    block_devices: 'sd*'
    cpu_governor: performance

- name: Put everything back as it was before tuning
  cloudos.ops.cloudos_sysctl_tune:
    state: reverted
'''

RETURN = r'''
sysctl:
  description: Per sysctl key, the value before and after this run, whether it changed, and a status
    (V(ok), V(changed), V(restored) for a key no longer managed, V(unsupported)).
  returned: always
  type: dict
  sample: {"net.core.somaxconn": {"before": "4096", "after": "8192", "changed": true, "status": "changed"}}
sysfs:
  description: Per sysfs attribute path (governor, boost, scheduler, read-ahead), name, before, after, changed, status.
  returned: always
  type: dict
  sample: {"/sys/block/sda/queue/scheduler": {"name": "sda scheduler", "before": "none", "after": "mq-deadline",
           "changed": true, "status": "changed"}}
unsupported:
  description: Settings left alone because they cannot be changed here, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "vm.swappiness", "reason": "host-wide key inside a container (set allow_host_wide to change it)"}]
notes:
  description: Substitutions made (for example C(deadline) for C(mq-deadline)) and devices skipped.
  returned: always
  type: list
  elements: str
files:
  description: Persistence files present after this run.
  returned: always
  type: list
  elements: str
  sample: [/etc/sysctl.d/60-cloudos-tune.conf]
diff:
  description: Live values and persistence files before and after (also shown with C(--diff)).
  returned: when changed
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _sysctl
from ansible_collections.cloudos.ops.plugins.module_utils._common import set_c_locale
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd


def _daemon_reload(module):
    reloaded, message = Systemd(module.run_command, which=module.get_bin_path).daemon_reload()
    if not reloaded:
        module.warn(message)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'reverted'], default='present'),
            settings=dict(type='dict', default={}),
            profile=dict(type='str', choices=['guide', 'none'], default='none'),
            cpu_governor=dict(type='str'),
            cpu_boost=dict(type='str', choices=['on', 'off', 'unchanged'], default='unchanged'),
            io_scheduler=dict(type='str'),
            read_ahead_kb=dict(type='int'),
            block_devices=dict(type='str', default='*'),
            block_devices_exclude=dict(type='list', elements='str', default=list(_sysctl.DEFAULT_BLOCK_EXCLUDE)),
            persist=dict(type='bool', default=True),
            strict=dict(type='bool', default=False),
            allow_host_wide=dict(type='bool', default=False),
            sysctl_file=dict(type='path', default=_sysctl.DEFAULT_SYSCTL_FILE),
            udev_rules_file=dict(type='path', default=_sysctl.DEFAULT_UDEV_FILE),
            systemd_unit=dict(type='str', default=_sysctl.DEFAULT_UNIT_NAME),
            state_file=dict(type='path', default=_sysctl.DEFAULT_STATE_FILE),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    set_c_locale(module)
    system = _sysctl.System(module.params['root'], move=module.atomic_move)
    try:
        plan = _sysctl.plan_from_params(system, module.params)
        if not module.check_mode:
            if plan.changed:
                _sysctl.apply(system, plan)
            if _sysctl.needs_daemon_reload(system, plan):
                _daemon_reload(module)
    except _sysctl.TuneError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**_sysctl.module_result(plan))


if __name__ == '__main__':
    main()
