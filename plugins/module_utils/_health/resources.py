# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``resources`` section: CPU % sampled from ``/proc/stat``, memory % from ``/proc/meminfo``,
disk % from ``statvfs`` of every path in ``disks`` (one per file system)."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    ACTIONS, CRITICAL, OK, WARNING, Section, above, rnd, worst)
from ansible_collections.cloudos.ops.plugins.module_utils._health.system import filesystems, metric_key


def parse_cpu_times(text):
    """``(busy, total)`` jiffies from the aggregate ``cpu`` line of ``/proc/stat``.

    iowait counts as idle (as ``top`` does); guest time is already inside user/nice.
    """
    for line in text.splitlines():
        if line.startswith('cpu '):
            values = [int(v) for v in line.split()[1:]]
            values += [0] * (8 - len(values))
            user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
            idle_all = idle + iowait
            total = user + nice + system + idle_all + irq + softirq + steal
            return total - idle_all, total
    raise ValueError('no aggregate "cpu" line in /proc/stat')


def cpu_percent(first, second, own=0):
    """Busy % between two ``(busy, total)`` samples, leaving out ``own`` ticks (this check's own work)."""
    busy = second[0] - first[0] - max(0, own)
    total = second[1] - first[1]
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * busy / total))


def sample_cpu(host, window):
    """CPU % of the host over ``window`` seconds, without the CPU this module itself used meanwhile.

    The window started when the run did (``Host.start_cpu_window``) when it could, so the time
    the module spends loading its libraries is part of it rather than added to it.
    """
    started, text, own = host.cpu_window_start or host.cpu_snapshot()
    first = parse_cpu_times(text)
    remaining = window - (host.monotonic() - started)
    if remaining > 0:
        host.sleep(remaining)
    second = parse_cpu_times(host.read_text('/proc/stat'))
    return cpu_percent(first, second, host.own_cpu_ticks() - own)


def parse_meminfo(text):
    """``(used %, total kB, available kB)`` where used = MemTotal - MemAvailable."""
    info = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(':')
        if sep:
            try:
                info[key.strip()] = int(rest.split()[0])
            except (ValueError, IndexError):
                continue
    total = info.get('MemTotal')
    if not total:
        raise ValueError('MemTotal missing from /proc/meminfo')
    avail = info.get('MemAvailable')
    if avail is None:  # kernels before 3.14
        avail = info.get('MemFree', 0) + info.get('Buffers', 0) + info.get('Cached', 0)
    return 100.0 * (total - avail) / total, total, avail


def probe(host, params, thresholds):
    sec = Section('resources')
    window = float(params.get('cpu_sample_seconds', 1.0))
    cpu = mem = None
    try:
        cpu = rnd(sample_cpu(host, window))
        sec.metrics['cpu_pct'] = cpu
    except (OSError, ValueError) as exc:
        sec.add(WARNING, 'cannot sample CPU use from /proc/stat: %s' % exc, 'Check that /proc is mounted')
    if cpu is not None:
        sev = above(cpu, thresholds['cpu'], thresholds['cpu_critical'])
        sec.add(sev, 'CPU %.1f%% busy over %.1fs, this check itself left out (threshold %s%%)' % (cpu, window, thresholds['cpu']),
                ACTIONS['cpu'], metric='cpu_pct', value=cpu,
                threshold=thresholds['cpu_critical'] if sev == CRITICAL else thresholds['cpu'])
    try:
        pct, total, avail = parse_meminfo(host.read_text('/proc/meminfo'))
        mem = rnd(pct)
        sec.metrics.update({'memory_pct': mem, 'memory_total_kb': total, 'memory_available_kb': avail})
    except (OSError, ValueError) as exc:
        sec.add(WARNING, 'cannot read /proc/meminfo: %s' % exc, 'Check that /proc is mounted')
    if mem is not None:
        sev = above(mem, thresholds['memory'], thresholds['memory_critical'])
        sec.add(sev, 'memory %.1f%% used (threshold %s%%)' % (mem, thresholds['memory']), ACTIONS['memory'],
                metric='memory_pct', value=mem,
                threshold=thresholds['memory_critical'] if sev == CRITICAL else thresholds['memory'])
    fss, errors = filesystems(host, params['disks'])
    disk_parts = []
    for entry in fss:
        key = metric_key('disk_pct', entry['path'])
        sec.metrics[key] = entry['used_pct']
        disk_parts.append('disk %s %.0f%%' % (entry['path'], entry['used_pct']))
        sev = above(entry['used_pct'], thresholds['disk'], thresholds['disk_critical'])
        sec.add(sev, 'disk %s (%s) %.1f%% used (threshold %s%%)'
                % ('+'.join(entry['paths']), entry['mount_point'], entry['used_pct'],
                   thresholds['disk_critical'] if sev == CRITICAL else thresholds['disk']),
                ACTIONS['disk'] + '; du -xh --max-depth=2 %s | sort -h | tail' % entry['mount_point'],
                metric=key, value=entry['used_pct'],
                threshold=thresholds['disk_critical'] if sev == CRITICAL else thresholds['disk'])
    for path, err in errors:
        sec.add(WARNING, 'cannot read the file system of %s: %s' % (path, err), 'Check the mount: findmnt %s' % path)
    parts = []
    if cpu is not None:
        parts.append('CPU %.0f%%' % cpu)
    if mem is not None:
        parts.append('memory %.0f%%' % mem)
    parts.extend(disk_parts)
    status = worst(f['severity'] for f in sec.findings)
    sec.summary = ', '.join(parts) + ('' if status == OK else ' (above threshold)')
    return sec
