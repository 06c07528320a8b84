# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``system`` section: uptime, load averages and the file systems behind ``disks``.

Informational: its findings are limited to paths that cannot be read. Disk thresholds
are evaluated once, in the ``resources`` section, so a full disk is one finding.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_mounts
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import WARNING, Section, rnd


def parse_uptime(text):
    """Seconds since boot from ``/proc/uptime``."""
    return float(text.split()[0])


def parse_loadavg(text):
    """``(load1, load5, load15)`` from ``/proc/loadavg``."""
    parts = text.split()
    return float(parts[0]), float(parts[1]), float(parts[2])


def mount_point_of(path, mounts):
    """Longest mount point that contains ``path``."""
    best = '/'
    for point, dummy in mounts:
        if (path == point or path.startswith(point.rstrip('/') + '/')) and len(point) > len(best):
            best = point
    return best


def disk_usage(stat):
    """``(used %, size bytes, free bytes)`` as df computes them (reserved blocks excluded)."""
    total = stat.f_blocks * stat.f_frsize
    free = stat.f_bfree * stat.f_frsize
    avail = stat.f_bavail * stat.f_frsize
    used = total - free
    denom = used + avail
    pct = (100.0 * used / denom) if denom else 0.0
    return pct, total, avail


def format_duration(seconds):
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return '%dd %dh' % (days, hours)
    if hours:
        return '%dh %dm' % (hours, minutes)
    return '%dm' % minutes


def metric_key(prefix, path):
    return prefix if path == '/' else '%s:%s' % (prefix, path)


def filesystems(host, paths):
    """One entry per distinct file system among ``paths`` that exist.

    A path on the same file system as an earlier one (``/opt`` on the root file
    system) is folded into it, so a single full disk is reported once.
    """
    try:
        mounts = parse_mounts(host.read_text('/proc/self/mounts'))
    except OSError:
        mounts = []
    result, seen, errors = [], {}, []
    for path in paths:
        if not host.exists(path):
            continue
        try:
            dev = host.stat_dev(path)
            pct, size, avail = disk_usage(host.statvfs(path))
        except OSError as exc:
            errors.append((path, str(exc)))
            continue
        if dev in seen:
            seen[dev]['paths'].append(path)
            continue
        entry = {'path': path, 'paths': [path], 'mount_point': mount_point_of(path, mounts),
                 'used_pct': rnd(pct), 'size_bytes': size, 'avail_bytes': avail}
        seen[dev] = entry
        result.append(entry)
    return result, errors


def probe(host, params, thresholds):
    sec = Section('system')
    uptime = load = None
    try:
        uptime = parse_uptime(host.read_text('/proc/uptime'))
        sec.metrics['uptime_seconds'] = int(uptime)
    except (OSError, ValueError, IndexError) as exc:
        sec.add(WARNING, 'cannot read /proc/uptime: %s' % exc, 'Check that /proc is mounted')
    try:
        load = parse_loadavg(host.read_text('/proc/loadavg'))
        sec.metrics.update({'load1': load[0], 'load5': load[1], 'load15': load[2]})
    except (OSError, ValueError, IndexError) as exc:
        sec.add(WARNING, 'cannot read /proc/loadavg: %s' % exc, 'Check that /proc is mounted')
    cpus = host.cpu_count()
    sec.metrics['cpus'] = cpus
    fss, errors = filesystems(host, params['disks'])
    for entry in fss:
        sec.metrics[metric_key('disk_used_pct', entry['path'])] = entry['used_pct']
    for path, err in errors:
        sec.add(WARNING, 'cannot read the file system of %s: %s' % (path, err), 'Check the mount: findmnt %s' % path)
    sec.details['filesystems'] = fss
    parts = []
    if uptime is not None:
        parts.append('up %s' % format_duration(uptime))
    if load is not None:
        parts.append('load %.2f %.2f %.2f on %d CPU%s' % (load + (cpus, '' if cpus == 1 else 's')))
    parts.append(', '.join('%s %.0f%%' % ('+'.join(e['paths']), e['used_pct']) for e in fss) or 'no disk paths found')
    sec.summary = '; '.join(parts)
    return sec
