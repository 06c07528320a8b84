# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``resources`` and ``system``: /proc parsing, statvfs arithmetic, thresholds, one finding per file system."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._health import resources, system

from health_fakes import THRESHOLDS, FakeHost, StatVFS, params

STAT_1 = 'cpu  1000 0 1000 7000 1000 0 0 0 0 0\ncpu0 500 0 500 3500 500 0 0 0 0 0\nintr 1\n'
# +900 busy, +100 idle/iowait -> 90 % busy
STAT_2 = 'cpu  1600 0 1300 7050 1050 0 0 0 0 0\ncpu0 800 0 650 3525 525 0 0 0 0 0\nintr 1\n'
MEMINFO = 'MemTotal:       1000000 kB\nMemFree:          50000 kB\nMemAvailable:     100000 kB\nBuffers: 1 kB\n'
MOUNTS = ('/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /var ext4 rw 0 0\n'
          '/dev/sdc1 /mnt/with\\040space ext4 rw 0 0\n')


def host(cpu=(STAT_1, STAT_2), meminfo=MEMINFO, disks=None):
    files = {'/proc/stat': list(cpu), '/proc/meminfo': meminfo, '/proc/self/mounts': MOUNTS,
             '/proc/uptime': '266400.50 100.0\n', '/proc/loadavg': '0.50 0.75 1.25 1/100 42\n'}
    return FakeHost(files=files, disks=disks if disks is not None else {'/': (1, StatVFS(50)), '/var': (2, StatVFS(50))})


def test_cpu_times_count_iowait_as_idle():
    busy, total = resources.parse_cpu_times(STAT_1)
    assert (busy, total) == (2000, 10000)
    assert resources.cpu_percent(resources.parse_cpu_times(STAT_1), resources.parse_cpu_times(STAT_2)) == 90.0


def test_cpu_percent_survives_no_elapsed_jiffies():
    assert resources.cpu_percent((10, 100), (10, 100)) == 0.0


def test_cpu_times_without_cpu_line():
    with pytest.raises(ValueError):
        resources.parse_cpu_times('intr 1\n')


def test_meminfo_used_is_total_minus_available():
    pct, total, avail = resources.parse_meminfo(MEMINFO)
    assert (round(pct, 1), total, avail) == (90.0, 1000000, 100000)


def test_meminfo_old_kernel_without_memavailable():
    pct, dummy, avail = resources.parse_meminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 50 kB\n')
    assert avail == 200 and pct == 80.0


def test_disk_usage_matches_df_with_reserved_blocks():
    # df: used / (used + avail); reserved blocks are neither
    pct, size, avail = system.disk_usage(StatVFS(80, size_blocks=1000, reserved=50))
    assert round(pct) == 80
    assert avail == 200 * 4096


def test_probe_findings_carry_metric_value_threshold():
    sec = resources.probe(host(disks={'/': (1, StatVFS(97)), '/var': (2, StatVFS(82))}), params(cpu_sample_seconds=0.5), THRESHOLDS)
    by_metric = dict((f['metric'], f) for f in sec.findings)
    assert by_metric['cpu_pct']['severity'] == 'warning' and by_metric['cpu_pct']['value'] == 90.0
    assert by_metric['cpu_pct']['threshold'] == 80
    assert by_metric['memory_pct']['severity'] == 'warning'
    assert by_metric['disk_pct']['severity'] == 'critical' and by_metric['disk_pct']['threshold'] == 95
    assert by_metric['disk_pct:/var']['severity'] == 'warning'
    assert 'journalctl --vacuum-time=7d' in by_metric['disk_pct']['action']
    assert sec.status == 'critical'


def test_probe_samples_cpu_over_the_window():
    fake = host()
    resources.probe(fake, params(cpu_sample_seconds=0.7), THRESHOLDS)
    assert fake.slept == [0.7]


def test_window_started_with_the_run_only_sleeps_what_is_left():
    fake = host()
    fake.start_cpu_window()  # run_checks does this before loading libraries
    fake.clock += 0.3
    sec = resources.probe(fake, params(cpu_sample_seconds=1.0), THRESHOLDS)
    assert fake.slept == [pytest.approx(0.7)] and sec.metrics['cpu_pct'] == 90.0
    late = host()
    late.start_cpu_window()
    late.clock += 2.5
    resources.probe(late, params(cpu_sample_seconds=1.0), THRESHOLDS)
    assert late.slept == []


def test_the_checks_own_cpu_is_left_out():
    fake = host()
    fake.own_ticks = [100, 500]  # this module used 400 of the 900 busy ticks
    sec = resources.probe(fake, params(), THRESHOLDS)
    assert sec.metrics['cpu_pct'] == 50.0
    assert resources.cpu_percent((0, 0), (900, 1000), own=1200) == 0.0


def test_same_file_system_reported_once():
    # /opt is on the root file system (same device): one entry, one finding
    fake = host(disks={'/': (1, StatVFS(90)), '/opt': (1, StatVFS(90)), '/var': (2, StatVFS(10))})
    sec = resources.probe(fake, params(), THRESHOLDS)
    disk = [f for f in sec.findings if f['metric'].startswith('disk')]
    assert len(disk) == 1 and '/+/opt' in disk[0]['message']
    assert 'disk_pct:/opt' not in sec.metrics and sec.metrics['disk_pct:/var'] == 10.0


def test_thresholds_override_changes_verdict():
    t = dict(THRESHOLDS, cpu=95, memory=95, memory_critical=99)
    sec = resources.probe(host(), params(), t)
    assert sec.status == 'ok' and sec.findings == []


def test_unreadable_proc_is_a_warning_not_a_crash():
    fake = FakeHost(files={'/proc/self/mounts': MOUNTS}, disks={'/': (1, StatVFS(10))})
    sec = resources.probe(fake, params(), THRESHOLDS)
    assert sec.status == 'warning'
    assert any('/proc/stat' in f['message'] for f in sec.findings)
    assert sec.metrics['disk_pct'] == 10.0


def test_system_summary_and_mount_points():
    fake = host(disks={'/': (1, StatVFS(40)), '/opt': (1, StatVFS(40)), '/var': (2, StatVFS(60))})
    sec = system.probe(fake, params(), THRESHOLDS)
    assert sec.status == 'ok'
    assert sec.metrics['uptime_seconds'] == 266400 and sec.metrics['load15'] == 1.25
    assert sec.summary.startswith('up 3d 2h; load 0.50 0.75 1.25 on 4 CPUs')
    assert [(f['mount_point'], f['paths']) for f in sec.details['filesystems']] == [('/', ['/', '/opt']), ('/var', ['/var'])]


def test_mount_parsing_decodes_escapes():
    mounts = system.parse_mounts(MOUNTS)
    assert ('/mnt/with space', 'ext4') in mounts
    assert system.mount_point_of('/var/lib/docker', mounts) == '/var'
    assert system.mount_point_of('/variable', mounts) == '/'
