# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudos_sysctl_tune run through Ansible on localhost against a fake /proc/sys and /sys
tree (option ``root``), so argument parsing, check mode, diff and the result shape are
the real ones while no value of this machine is ever written."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.integration.lib import run_module

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'unit', 'plugins', 'module_utils'))

from sysctl_tree import make_tree, snapshot  # noqa: E402

from ansible_collections.cloudos.ops.plugins.module_utils import _sysctl  # noqa: E402


@pytest.fixture
def root(tmp_path):
    return make_tree(tmp_path / 'root')


def read(root, rel):
    with open(os.path.join(root, rel.lstrip('/'))) as handle:
        return handle.read().strip()


def comparable(tree):
    """Fields of every file; for a scheduler file (a plain file here, not the kernel's list) the active one."""
    out = {}
    for path, text in tree.items():
        out[path] = _sysctl.parse_scheduler(text)[0] if path.endswith('/scheduler') else text.split()
    return out


ARGS = {
    'settings': {'net.core.somaxconn': 8192, 'net/ipv4/tcp_rmem': [4096, 87380, 16777216]},
    'io_scheduler': 'mq-deadline', 'read_ahead_kb': 4096, 'block_devices': 'vd*',
    'cpu_governor': 'performance',
}


def test_check_diff_apply_idempotent_revert(root):
    original = snapshot(root)
    args = dict(ARGS, root=root)

    check = run_module('cloudos_sysctl_tune', args, check=True, diff=True)
    assert check['changed'] and not check.failed
    assert check['sysctl']['net.core.somaxconn'] == {'before': '4096', 'after': '8192', 'changed': True, 'status': 'changed'}
    headers = [d['after_header'] for d in check['diff']]
    assert headers == ['live values', '/etc/sysctl.d/60-cloudos-tune.conf', '/etc/udev/rules.d/60-cloudos-tune.rules',
                       '/etc/systemd/system/cloudos-tune-cpu.service']
    assert snapshot(root) == original                      # check mode changed nothing

    first = run_module('cloudos_sysctl_tune', args)
    assert first['changed']
    assert read(root, '/proc/sys/net/ipv4/tcp_rmem') == '4096 87380 16777216'
    assert read(root, '/sys/block/vdb/queue/scheduler') == 'mq-deadline'
    assert read(root, '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor') == 'performance'
    assert sorted(first['files']) == ['/etc/sysctl.d/60-cloudos-tune.conf', '/etc/systemd/system/cloudos-tune-cpu.service',
                                      '/etc/udev/rules.d/60-cloudos-tune.rules']

    second = run_module('cloudos_sysctl_tune', args, diff=True)
    assert not second['changed'] and 'diff' not in second

    state = json.loads(read(root, '/var/lib/cloudos-ops/sysctl-tune.json'))
    assert state['sysctl']['net.core.somaxconn'] == '4096'

    check_revert = run_module('cloudos_sysctl_tune', {'state': 'reverted', 'root': root}, check=True)
    assert check_revert['changed']
    assert read(root, '/proc/sys/net/core/somaxconn') == '8192'

    revert = run_module('cloudos_sysctl_tune', {'state': 'reverted', 'root': root})
    assert revert['changed']
    assert revert['sysctl']['net.core.somaxconn'] == {'before': '8192', 'after': '4096', 'changed': True, 'status': 'restored'}
    assert comparable(snapshot(root)) == comparable(original)
    assert not run_module('cloudos_sysctl_tune', {'state': 'reverted', 'root': root})['changed']


@pytest.mark.parametrize('args, message', [
    ({'settings': {'net.core.nope': 1}}, "unknown sysctl key 'net.core.nope'"),
    ({'settings': {'net.ipv4.ip_local_port_range': 'low high'}}, "value 'low high' is not numeric"),
    ({'cpu_governor': 'warp'}, "cpu_governor: 'warp'"),
    ({'io_scheduler': 'cfq', 'block_devices': 'vd*'}, "'cfq' is not offered by vda"),
    ({'cpu_boost': 'maybe'}, 'cpu_boost'),
    ({'systemd_unit': '../evil.service'}, 'systemd_unit'),
])
def test_bad_input_fails_cleanly(root, args, message):
    original = snapshot(root)
    settings = dict({'net.core.somaxconn': 8192}, **args.get('settings', {}))
    result = run_module('cloudos_sysctl_tune', dict(args, root=root, settings=settings))
    assert result.failed
    assert message in result['msg']
    assert snapshot(root) == original
