# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of cloudos_sysctl_tune over a fake /proc/sys and /sys tree (option ``root``)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.modules import cloudos_sysctl_tune

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils'))

from sysctl_tree import make_tree, snapshot  # noqa: E402


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cloudos_sysctl_tune.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def root(tmp_path):
    return make_tree(tmp_path)


def test_check_mode_reports_and_writes_nothing(root, capsys):
    before = snapshot(root)
    result = run({'root': root, 'settings': {'net.core.somaxconn': 1024}, '_ansible_check_mode': True}, capsys)
    assert result['changed'] is True
    assert result['sysctl']['net.core.somaxconn']['after'] == '1024'
    assert result['files'] == ['/etc/sysctl.d/60-cloudos-tune.conf']
    assert snapshot(root) == before


def test_apply_then_nothing_to_do(root, capsys):
    args = {'root': root, 'settings': {'net/core/somaxconn': '1024'}, 'cpu_governor': 'powersave'}
    first = run(args, capsys)
    second = run(args, capsys)
    assert first['changed'] is True and second['changed'] is False
    assert 'diff' in first and 'diff' not in second
    assert first['sysfs']['/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor']['after'] == 'powersave'


@pytest.mark.parametrize('args, fragment', [
    ({'settings': {'net.core.somaxconn': 'many'}}, "settings[net.core.somaxconn]: value 'many' is not numeric"),
    ({'profile': 'turbo'}, 'profile'),
    ({'cpu_boost': 'max'}, 'cpu_boost'),
    ({'systemd_unit': 'tune.timer'}, "systemd_unit: 'tune.timer' must be a unit file name ending in .service"),
    ({'read_ahead_kb': 'lots'}, 'read_ahead_kb'),
])
def test_bad_parameters_fail_naming_them(root, capsys, args, fragment):
    before = snapshot(root)
    result = run(dict(args, root=root), capsys)
    assert result['failed'] is True and fragment in result['msg']
    assert snapshot(root) == before
