# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake ``/proc/sys`` and ``/sys`` tree in a temporary directory, and a System
adapter that behaves like the kernel where the tests need it to (rejecting
out-of-range values with EINVAL, read-only mounts)."""

from __future__ import annotations

import errno
import os

from ansible_collections.cloudos.ops.plugins.module_utils import _sysctl

SYSCTL = {
    'net/core/somaxconn': '4096',
    'net/core/rmem_max': '212992',
    'net/core/wmem_max': '212992',
    'net/ipv4/tcp_rmem': '4096\t131072\t6291456',
    'net/ipv4/ip_local_port_range': '32768\t60999',
    'net/ipv4/tcp_congestion_control': 'cubic',
    'net/ipv4/conf/eth0.1/rp_filter': '2',
    'vm/swappiness': '60',
    'vm/vfs_cache_pressure': '100',
    'vm/dirty_ratio': '20',
    'kernel/pid_max': '4194304',
}
SPECIAL_MODES = {'vm/drop_caches': ('', 0o200), 'fs/file-nr': ('2048\t0\t9223372036854775807', 0o444)}

BLOCK = {
    'vda': 'none [mq-deadline] kyber bfq',
    'vdb': '[none] mq-deadline kyber bfq',
    'sdb': 'noop [deadline] cfq',
    'dm-0': 'none',
    'loop0': '[none] mq-deadline kyber bfq',
    'zram0': '[none] mq-deadline kyber bfq',
    'ram0': '[none] mq-deadline',
}


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text + '\n')
    os.chmod(path, mode)


def make_tree(root, cpus=2, governors='performance powersave schedutil', boost='1', block=None):
    root = str(root)
    for rel, value in SYSCTL.items():
        write(os.path.join(root, 'proc/sys', rel), value)
    for rel, (value, mode) in SPECIAL_MODES.items():
        write(os.path.join(root, 'proc/sys', rel), value, mode)
    for dev, sched in (BLOCK if block is None else block).items():
        write(os.path.join(root, 'sys/block', dev, 'queue/scheduler'), sched)
        write(os.path.join(root, 'sys/block', dev, 'queue/read_ahead_kb'), '128')
    for cpu in range(cpus):
        base = os.path.join(root, 'sys/devices/system/cpu/cpu%d/cpufreq' % cpu)
        write(os.path.join(base, 'scaling_governor'), 'schedutil')
        write(os.path.join(base, 'scaling_available_governors'), governors)
    if boost is not None:
        write(os.path.join(root, 'sys/devices/system/cpu/cpufreq/boost'), boost)
    return root


def snapshot(root):
    """Every file below root with its content, to prove nothing changed."""
    out = {}
    for base, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(base, name)
            if os.path.islink(path):
                out[os.path.relpath(path, str(root))] = '-> ' + os.readlink(path)
                continue
            with open(path) as handle:
                out[os.path.relpath(path, str(root))] = handle.read()
    return out


class Kernel(_sysctl.System):
    """Behaves like the kernel for the writes the tests make.

    ``ranges`` maps a /proc/sys or /sys path to (min, max) per field: values outside
    fail with EINVAL as the kernel's proc_dointvec_minmax does. ``readonly`` lists path
    prefixes that are not writable (a read-only mount). ``fail_on`` makes every write
    to a path fail with the given errno.
    """

    def __init__(self, root, ranges=None, readonly=(), fail_on=None, container=False):
        super().__init__(root)
        self.ranges = ranges or {'/proc/sys/net/ipv4/ip_local_port_range': (1, 65535),
                                 '/proc/sys/net/core/somaxconn': (0, 2147483647)}
        self.readonly = tuple(readonly)
        self.fail_on = fail_on or {}
        self.container = container
        self.writes = []

    def writable(self, abspath):
        if abspath.startswith(self.readonly):
            return False
        return super().writable(abspath)

    def in_container(self):
        return self.container

    def write(self, abspath, value):
        self.writes.append((abspath, value))
        if abspath in self.fail_on:
            raise OSError(self.fail_on[abspath], os.strerror(self.fail_on[abspath]))
        if abspath.startswith(self.readonly):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        if abspath in self.ranges:
            low, high = self.ranges[abspath]
            if any(not (low <= int(f) <= high) for f in value.split()):
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        if abspath.endswith('/scheduler'):
            current, offered = _sysctl.parse_scheduler(self.read(abspath))
            if value.strip() not in offered:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            value = ' '.join('[%s]' % s if s == value.strip() else s for s in offered)
        super().write(abspath, value)
