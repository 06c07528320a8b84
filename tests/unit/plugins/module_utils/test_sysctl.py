# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing, validation, planning, apply/rollback and revert over a fake /proc/sys and /sys."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _sysctl as S

from sysctl_tree import Kernel, make_tree, snapshot


def read(root, rel):
    with open(os.path.join(str(root), rel.lstrip('/'))) as handle:
        return handle.read().strip()


def run(system, **kwargs):
    plan = S.plan(system, **kwargs)
    S.apply(system, plan)
    return plan


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path)


@pytest.fixture
def kernel(tree):
    return Kernel(tree)


# ---------------------------------------------------------------- parsing

@pytest.mark.parametrize('key, rel, name', [
    ('net.ipv4.tcp_rmem', 'net/ipv4/tcp_rmem', 'net.ipv4.tcp_rmem'),
    ('net/ipv4/tcp_rmem', 'net/ipv4/tcp_rmem', 'net.ipv4.tcp_rmem'),
    ('/net/core/somaxconn', 'net/core/somaxconn', 'net.core.somaxconn'),
    ('net/ipv4/conf/eth0.1/rp_filter', 'net/ipv4/conf/eth0.1/rp_filter', 'net.ipv4.conf.eth0/1.rp_filter'),
    ('net.ipv4.conf.eth0/1.rp_filter', 'net/ipv4/conf/eth0.1/rp_filter', 'net.ipv4.conf.eth0/1.rp_filter'),
])
def test_normalize_key_dots_and_slashes(key, rel, name):
    assert S.normalize_key(key) == (rel, name)


@pytest.mark.parametrize('key', ['', 'net..core', 'net/../../etc/passwd', 'net.core.somaxconn =', 'a b'])
def test_normalize_key_rejects_bad_names(key):
    with pytest.raises(S.TuneError, match='not a sysctl name'):
        S.normalize_key(key)


def test_values_compare_by_fields_whitespace_insensitive():
    assert S.same_value('4096\t87380\t16777216', ' 4096  87380 16777216 ')
    assert S.same_value('010', '10')
    assert not S.same_value('4096 87380', '4096 87380 16777216')
    assert not S.same_value('cubic', 'bbr')
    assert S.format_value([4096, 87380, 16777216]) == '4096 87380 16777216'
    assert S.format_value(True) == '1'
    assert S.format_value('  4096\t 87380  ') == '4096 87380'


def test_parse_scheduler():
    assert S.parse_scheduler('none [mq-deadline] kyber bfq') == ('mq-deadline', ['none', 'mq-deadline', 'kyber', 'bfq'])
    assert S.parse_scheduler('none') == ('none', ['none'])


# ---------------------------------------------------------------- planning

def test_guide_profile_plan_and_check_mode_touches_nothing(tree, kernel):
    before = snapshot(tree)
    plan = S.plan(kernel, profile='guide')
    assert plan.changed
    assert plan.sysctl['vm.swappiness'] == {'before': '60', 'after': '1', 'changed': True, 'status': 'changed'}
    assert plan.sysctl['net.ipv4.tcp_rmem']['before'] == '4096 131072 6291456'
    assert sorted(c.name for c in plan.changes) == sorted(S.GUIDE_PROFILE)
    diff = S.diff(plan)
    assert diff[0]['after'].count('\n') == len(S.GUIDE_PROFILE)
    assert diff[1]['after_header'] == S.DEFAULT_SYSCTL_FILE
    assert snapshot(tree) == before          # planning writes nothing


def test_apply_writes_values_dropin_and_private_state(tree, kernel):
    run(kernel, settings={'net.core.somaxconn': 8192, 'net/ipv4/tcp_rmem': '4096 87380 16777216'})
    assert read(tree, '/proc/sys/net/core/somaxconn') == '8192'
    assert read(tree, '/proc/sys/net/ipv4/tcp_rmem') == '4096 87380 16777216'
    dropin = read(tree, S.DEFAULT_SYSCTL_FILE)
    lines = [line for line in dropin.splitlines() if not line.startswith('#')]
    assert lines == ['net.core.somaxconn = 8192', 'net.ipv4.tcp_rmem = 4096 87380 16777216']   # sorted, ours only
    assert dropin.startswith('# Managed by cloudos.ops')
    state_path = os.path.join(tree, S.DEFAULT_STATE_FILE.lstrip('/'))
    assert stat.S_IMODE(os.stat(state_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(state_path)).st_mode) == 0o700
    state = json.loads(read(tree, S.DEFAULT_STATE_FILE))
    assert state['sysctl'] == {'net.core.somaxconn': '4096', 'net.ipv4.tcp_rmem': '4096 131072 6291456'}


def test_second_run_changes_nothing(tree, kernel):
    args = dict(settings={'net.core.somaxconn': 8192, 'net.ipv4.tcp_rmem': '4096 87380 16777216'},
                io_scheduler='mq-deadline', read_ahead_kb=4096, cpu_governor='performance')
    run(kernel, **args)
    before = snapshot(tree)
    again = S.plan(kernel, **args)
    assert not again.changed
    assert S.diff(again) == []
    S.apply(kernel, again)
    assert snapshot(tree) == before


def test_whitespace_and_tabs_do_not_count_as_change(tree, kernel):
    plan = S.plan(kernel, settings={'net.ipv4.tcp_rmem': '4096   131072\t6291456'}, persist=False)
    assert not plan.changed
    assert plan.sysctl['net.ipv4.tcp_rmem']['status'] == 'ok'


def test_originals_recorded_once_not_overwritten_by_later_runs(tree, kernel):
    run(kernel, settings={'net.core.somaxconn': 8192})
    run(kernel, settings={'net.core.somaxconn': 16384})
    state = json.loads(read(tree, S.DEFAULT_STATE_FILE))
    assert state['sysctl']['net.core.somaxconn'] == '4096'
    revert = S.plan_revert(kernel)
    S.apply(kernel, revert)
    assert read(tree, '/proc/sys/net/core/somaxconn') == '4096'


def test_key_dropped_from_settings_goes_back_to_original(tree, kernel):
    run(kernel, settings={'net.core.somaxconn': 8192, 'net.ipv4.ip_local_port_range': '10000 60000'})
    plan = run(kernel, settings={'net.core.somaxconn': 8192})
    assert plan.sysctl['net.ipv4.ip_local_port_range']['status'] == 'restored'
    assert S.same_value(read(tree, '/proc/sys/net/ipv4/ip_local_port_range'), '32768 60999')
    state = json.loads(read(tree, S.DEFAULT_STATE_FILE))
    assert list(state['sysctl']) == ['net.core.somaxconn']
    assert 'ip_local_port_range' not in read(tree, S.DEFAULT_SYSCTL_FILE)


def test_revert_restores_everything_and_removes_our_files(tree, kernel):
    original = snapshot(tree)
    run(kernel, settings={'net.core.somaxconn': 8192, 'net.ipv4.tcp_congestion_control': 'bbr'},
        io_scheduler='bfq', read_ahead_kb=4096, block_devices='vd*', cpu_governor='performance', cpu_boost='off')
    assert read(tree, '/sys/devices/system/cpu/cpufreq/boost') == '0'
    assert os.path.islink(os.path.join(tree, 'etc/systemd/system/multi-user.target.wants', S.DEFAULT_UNIT_NAME))
    revert = S.plan_revert(kernel)
    assert revert.changed
    S.apply(kernel, revert)
    after = snapshot(tree)
    # the kernel tree is back as it was, scheduler brackets included; no file of ours is left
    assert {k: S.fields(v) for k, v in after.items()} == {k: S.fields(v) for k, v in original.items()}
    assert not os.path.lexists(os.path.join(tree, 'etc/systemd/system/multi-user.target.wants', S.DEFAULT_UNIT_NAME))
    assert not S.plan_revert(kernel).changed


def test_revert_without_state_is_a_noop(tree, kernel):
    plan = S.plan_revert(kernel)
    assert not plan.changed


def test_persist_false_removes_earlier_dropin(tree, kernel):
    run(kernel, settings={'net.core.somaxconn': 8192})
    plan = run(kernel, settings={'net.core.somaxconn': 8192}, persist=False)
    assert plan.changed and not plan.changes
    assert not os.path.exists(os.path.join(tree, S.DEFAULT_SYSCTL_FILE.lstrip('/')))


# ---------------------------------------------------------------- sysfs

def test_block_devices_skip_loop_ram_zram_and_stacked(tree, kernel):
    plan = run(kernel, io_scheduler='mq-deadline', read_ahead_kb=4096)
    assert read(tree, '/sys/block/vdb/queue/scheduler') == 'none [mq-deadline] kyber bfq'
    for dev in ('loop0', 'zram0', 'ram0'):
        assert read(tree, '/sys/block/%s/queue/scheduler' % dev).startswith('[none]')
        assert read(tree, '/sys/block/%s/queue/read_ahead_kb' % dev) == '128'
    assert read(tree, '/sys/block/dm-0/queue/scheduler') == 'none'
    assert any('dm-0' in n and 'stacked' in n for n in plan.notes)
    # sdb is single-queue: mq-deadline is not offered there, deadline is
    assert read(tree, '/sys/block/sdb/queue/scheduler') == 'noop [deadline] cfq'
    assert any('sdb' in n and 'equivalent deadline' in n for n in plan.notes)
    rules = read(tree, S.DEFAULT_UDEV_FILE)
    assert 'KERNEL=="vdb", ATTR{queue/scheduler}="mq-deadline", ATTR{queue/read_ahead_kb}="4096"' in rules
    assert 'loop0' not in rules and 'zram0' not in rules


def test_guide_deadline_maps_to_mq_deadline(tree, kernel):
    plan = run(kernel, io_scheduler='deadline', block_devices='vd*')
    assert read(tree, '/sys/block/vdb/queue/scheduler') == 'none [mq-deadline] kyber bfq'
    assert any('equivalent mq-deadline' in n for n in plan.notes)


def test_cpu_governor_applied_and_persisted_by_unit(tree, kernel):
    run(kernel, cpu_governor='performance')
    assert read(tree, '/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor') == 'performance'
    unit = read(tree, '/etc/systemd/system/' + S.DEFAULT_UNIT_NAME)
    assert 'echo performance' in unit and 'cpufreq/boost' not in unit
    assert read(tree, '/sys/devices/system/cpu/cpufreq/boost') == '1'   # boost left alone by default


def test_no_cpufreq_is_unsupported_or_strict_error(tmp_path):
    root = make_tree(tmp_path, cpus=0, boost=None)
    system = Kernel(root)
    plan = S.plan(system, cpu_governor='performance')
    assert [u['name'] for u in plan.unsupported] == ['cpu_governor']
    with pytest.raises(S.TuneError, match='strict: cannot apply cpu_governor'):
        S.plan(system, cpu_governor='performance', strict=True)


# ---------------------------------------------------------------- bad input: error, nothing changed

BAD = [
    (dict(settings={'net.core.no_such_key': 1}), "unknown sysctl key 'net.core.no_such_key'"),
    (dict(settings={'net.core.somaxconn': 'lots'}), "value 'lots' is not numeric"),
    (dict(settings={'net.ipv4.tcp_rmem': '4096 87380'}), 'has 2 field'),
    (dict(settings={'net.core.somaxconn': 1.5}), 'is not an integer'),
    (dict(settings={'net.core.somaxconn': ''}), 'is empty'),
    (dict(settings={'vm.drop_caches': 3}), 'write-only'),
    (dict(settings={'fs.file-nr': '1 2 3'}), 'read-only key'),
    (dict(settings={'net.ipv4': 1}), 'sysctl directory'),
    (dict(settings={'net.core.somaxconn': 1, 'net/core/somaxconn': 2}), 'given twice'),
    (dict(profile='fast'), "profile: 'fast'"),
    (dict(cpu_governor='turbo'), "cpu_governor: 'turbo' is not a CPU frequency governor"),
    (dict(cpu_governor='ondemand'), "'ondemand' is not offered by cpu0"),
    (dict(cpu_boost='maybe'), "cpu_boost: 'maybe'"),
    (dict(io_scheduler='fastest'), "io_scheduler: 'fastest' is not an I/O scheduler"),
    (dict(io_scheduler='cfq', block_devices='vd*'), "'cfq' is not offered by vda"),
    (dict(read_ahead_kb=-4, io_scheduler='none'), 'read_ahead_kb: -4'),
    (dict(read_ahead_kb=4097), 'multiple of the page size'),
    (dict(read_ahead_kb=4096, block_devices='nvme*'), "block_devices: 'nvme\\*' matches no block device"),
]


@pytest.mark.parametrize('args, message', BAD, ids=[m for _a, m in BAD])
def test_bad_input_fails_before_any_change(tree, kernel, args, message):
    before = snapshot(tree)
    # a valid change alongside proves validation runs before the first write
    args = dict(args, settings=dict({'net.core.rmem_max': 4194304}, **args.get('settings', {})))
    with pytest.raises(S.TuneError, match=message):
        run(kernel, page_kb=4, **args)
    assert snapshot(tree) == before
    assert kernel.writes == []


def test_unknown_governor_is_an_error_even_without_cpufreq(tmp_path):
    system = Kernel(make_tree(tmp_path, cpus=0, boost=None))
    with pytest.raises(S.TuneError, match="'turbo' is not a CPU frequency governor"):
        S.plan(system, cpu_governor='turbo')


def test_kernel_rejecting_a_value_midway_rolls_back(tree, kernel):
    before = snapshot(tree)
    # keys are applied in sorted order: somaxconn is written before ip_local_port_range fails
    with pytest.raises(S.TuneError) as err:
        run(kernel, settings={'net.core.somaxconn': 8192, 'net.ipv4.ip_local_port_range': '70000 80000',
                              'net.core.rmem_max': 4194304}, io_scheduler='bfq', block_devices='vd*')
    msg = str(err.value)
    assert "net.ipv4.ip_local_port_range = '70000 80000' could not be set (the kernel rejected it" in msg
    assert 'every value already written was put back' in msg
    written = [p for p, _v in kernel.writes]
    assert '/proc/sys/net/core/somaxconn' in written      # it really got written, then put back
    assert {k: S.fields(v) for k, v in snapshot(tree).items()} == {k: S.fields(v) for k, v in before.items()}


def test_sysfs_failure_rolls_back_sysctl_writes(tree):
    kernel = Kernel(tree, fail_on={'/sys/block/vdb/queue/read_ahead_kb': errno.EIO})
    before = snapshot(tree)
    with pytest.raises(S.TuneError, match='vdb read_ahead_kb'):
        run(kernel, settings={'net.core.somaxconn': 8192}, read_ahead_kb=4096, block_devices='vd*')
    assert {k: S.fields(v) for k, v in snapshot(tree).items()} == {k: S.fields(v) for k, v in before.items()}


def test_value_the_kernel_adjusts_is_reported_and_rolled_back(tree):
    class Clamping(Kernel):
        def write(self, abspath, value):
            if abspath.endswith('somaxconn') and int(value) > 65535:
                value = '65535'
            super().write(abspath, value)
    kernel = Clamping(tree)
    with pytest.raises(S.TuneError, match="reads back as '65535'"):
        run(kernel, settings={'net.core.somaxconn': 100000})
    assert read(tree, '/proc/sys/net/core/somaxconn') == '4096'


# ---------------------------------------------------------------- read-only (container) keys

def test_read_only_mount_reports_unsupported_and_changes_nothing(tree):
    kernel = Kernel(tree, readonly=('/proc/sys/',))
    before = snapshot(tree)
    plan = run(kernel, settings={'net.core.somaxconn': 8192})
    assert plan.sysctl['net.core.somaxconn']['status'] == 'unsupported'
    assert plan.unsupported[0]['name'] == 'net.core.somaxconn'
    assert not plan.changed
    assert snapshot(tree) == before
    with pytest.raises(S.TuneError, match='strict: cannot apply net.core.somaxconn'):
        S.plan(kernel, settings={'net.core.somaxconn': 8192}, strict=True)


def test_container_host_wide_keys_are_unsupported(tree):
    kernel = Kernel(tree, container=True)
    plan = run(kernel, profile='guide', settings={'net.core.somaxconn': 8192})
    reasons = {u['name']: u['reason'] for u in plan.unsupported}
    assert set(reasons) == {'vm.swappiness', 'vm.vfs_cache_pressure', 'vm.dirty_ratio'}
    assert read(tree, '/proc/sys/vm/swappiness') == '60'
    assert read(tree, '/proc/sys/net/core/somaxconn') == '8192'
    assert 'vm.' not in read(tree, S.DEFAULT_SYSCTL_FILE)


def test_profile_key_missing_in_namespace_is_unsupported_but_user_key_is_error(tree):
    os.unlink(os.path.join(tree, 'proc/sys/net/core/rmem_max'))
    kernel = Kernel(tree)
    plan = S.plan(kernel, profile='guide')
    assert {'name': 'net.core.rmem_max', 'reason': 'not present in this kernel or network namespace'} in plan.unsupported
    with pytest.raises(S.TuneError, match='unknown sysctl key'):
        S.plan(kernel, settings={'net.core.rmem_max': 1})


def test_corrupt_state_file_is_an_error(tree, kernel):
    path = os.path.join(tree, S.DEFAULT_STATE_FILE.lstrip('/'))
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write('{not json')
    with pytest.raises(S.TuneError, match='state_file .* is not valid JSON'):
        S.plan(kernel, settings={'net.core.somaxconn': 8192})


# ---------------------------------------------------------------- the module's decision and result

def params(**over):
    base = dict(state='present', settings={}, profile='none', cpu_governor=None, cpu_boost='unchanged',
                io_scheduler=None, read_ahead_kb=None, block_devices='*',
                block_devices_exclude=list(S.DEFAULT_BLOCK_EXCLUDE), persist=True, strict=False,
                allow_host_wide=False, sysctl_file=S.DEFAULT_SYSCTL_FILE, udev_rules_file=S.DEFAULT_UDEV_FILE,
                systemd_unit=S.DEFAULT_UNIT_NAME, state_file=S.DEFAULT_STATE_FILE)
    base.update(over)
    return base


@pytest.mark.parametrize('unit', ['tune.timer', 'x/tune.service'])
def test_plan_from_params_refuses_a_unit_that_is_not_a_service_file(kernel, unit):
    with pytest.raises(S.TuneError, match='systemd_unit: .* must be a unit file name ending in .service'):
        S.plan_from_params(kernel, params(systemd_unit=unit))


def test_plan_from_params_present_then_reverted_and_the_result(tree, kernel):
    before = snapshot(tree)
    plan = S.plan_from_params(kernel, params(settings={'net.core.somaxconn': 1024}))
    assert snapshot(tree) == before
    result = S.module_result(plan)
    assert result['changed'] is True and result['sysctl']['net.core.somaxconn']['after'] == '1024'
    assert result['files'] == [S.DEFAULT_SYSCTL_FILE]
    assert result['diff'][0]['after'] == 'net.core.somaxconn = 1024\n'
    S.apply(kernel, plan)
    assert 'diff' not in S.module_result(S.plan_from_params(kernel, params(settings={'net.core.somaxconn': 1024})))
    back = S.plan_from_params(kernel, params(state='reverted'))
    assert back.sysctl['net.core.somaxconn']['after'] == '4096'
    S.apply(kernel, back)
    assert read(tree, '/proc/sys/net/core/somaxconn') == '4096'


def test_daemon_reload_only_on_the_real_root_with_systemd(kernel):
    plan = S.Plan()
    plan.reload_systemd = True
    assert S.needs_daemon_reload(kernel, plan) is False  # a test tree is never the real root
    plan.reload_systemd = False
    assert S.needs_daemon_reload(S.System('/'), plan) is False


def test_files_go_through_the_given_mover_and_keep_our_mode(tree):
    moved = []

    def mover(src, dest):
        moved.append(dest)
        os.replace(src, dest)

    system = S.System(tree, move=mover)
    system.put_file('/etc/x.conf', 'a\n', 0o600)
    assert moved == [system.path('/etc/x.conf')] and system.mode('/etc/x.conf') == 0o600
    os.chmod(system.path('/etc/x.conf'), 0o644)
    system.put_file('/etc/x.conf', 'b\n', 0o600)
    assert system.read_file('/etc/x.conf') == 'b\n' and system.mode('/etc/x.conf') == 0o600


def test_a_mover_failure_rolls_the_transaction_back(tree):
    def mover(src, dest):
        raise Exception('Could not replace %r' % dest)  # what module.atomic_move raises

    system = Kernel(tree)
    system.move = mover
    before = snapshot(tree)
    plan = S.plan(system, settings={'net.core.somaxconn': '1024'})
    with pytest.raises(S.TuneError, match='write failed: Could not replace.*every value already written was put back'):
        S.apply(system, plan)
    assert snapshot(tree) == before
