# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of cloudos_health: parameter validation, read-only result, check mode."""

from __future__ import annotations

import json

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.modules import cloudos_health


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cloudos_health.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('args, fragment', [
    ({'thresholds': {'cpuu': 90}}, "unknown key 'cpuu' (value 90)"),
    ({'thresholds': {'disk': 'full'}}, "thresholds.disk must be a number, got 'full'"),
    ({'prometheus_url': 'ftp://x'}, "prometheus_url='ftp://x' must start with http:// or https://"),
    ({'timeout': -1}, 'timeout must be greater than 0, got -1'),
    ({'certificate_endpoints': ['api:0']}, "certificate_endpoints: endpoint 'api:0': port 0 out of range"),
    ({'checks': ['cpu']}, 'checks'),
    ({'required': ['redis']}, 'required'),
])
def test_bad_parameters_fail_naming_them(args, fragment, capsys):
    result = run(args, capsys)
    assert result['failed'] is True
    assert fragment in result['msg']


def test_read_only_result_same_under_check_mode(capsys, tmp_path):
    args = {'checks': ['system', 'certificates'], 'certificate_files': [str(tmp_path / 'none.crt')],
            'cpu_sample_seconds': 0, 'host': 'web-1', 'thresholds': {'disk': 99, 'disk_critical': 100}}
    normal = run(args, capsys)
    checked = run(dict(args, _ansible_check_mode=True), capsys)
    assert normal['changed'] is False and checked['changed'] is False
    for result in (normal, checked):
        health = result['health']
        assert health['host'] == 'web-1'
        assert health['checks']['certificates']['status'] == 'absent'
        assert health['checks']['kubernetes']['status'] == 'skipped'
        assert health['thresholds']['disk'] == 99
    strip = dict((k, v) for k, v in normal['health'].items() if k not in ('checked_at', 'duration_ms', 'checks'))
    assert strip == dict((k, v) for k, v in checked['health'].items() if k not in ('checked_at', 'duration_ms', 'checks'))
    assert normal['health']['checks']['certificates'] == checked['health']['checks']['certificates']
