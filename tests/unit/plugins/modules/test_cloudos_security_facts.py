# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of cloudos_security_facts, next to cloudos_health's: the same thresholds rules, read-only
result, check mode."""

from __future__ import annotations

import json

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.modules import cloudos_health, cloudos_security_facts

MODULES = pytest.mark.parametrize('module, fact, base', [
    (cloudos_health, 'health', {'checks': ['certificates'], 'cpu_sample_seconds': 0}),
    (cloudos_security_facts, 'security', {'checks': ['certificates']}),
], ids=['health', 'security'])


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@MODULES
def test_both_modules_accept_percent_strings(module, fact, base, capsys, tmp_path):
    args = dict(base, certificate_files=[str(tmp_path / 'none.crt')], thresholds={'certificate_days': '45%'})
    result = run(module, args, capsys)
    assert not result.get('failed'), result
    assert result[fact]['thresholds']['certificate_days'] == 45
    assert result[fact]['checks']['certificates']['status'] == 'absent'


@MODULES
@pytest.mark.parametrize('value, fragment', [
    ('abc', "thresholds.certificate_days must be a number, got 'abc'"),
    (True, 'thresholds.certificate_days must be a number, got True'),
    (-1, 'thresholds.certificate_days must not be negative, got -1'),
    ('nan', "thresholds.certificate_days must be a number, got 'nan'"),
])
def test_both_modules_refuse_the_same_values(module, fact, base, value, fragment, capsys):
    result = run(module, dict(base, thresholds={'certificate_days': value}), capsys)
    assert result['failed'] is True and fragment in result['msg']


@pytest.mark.parametrize('args, fragment', [
    ({'thresholds': {'auth': 1}}, "unknown key 'auth' (value 1)"),
    ({'thresholds': {'auth_failures_critical': 5}}, 'thresholds.auth_failures_critical=5 is below thresholds.auth_failures=20'),
    ({'connection_allowlist': ['10.0.0.300']}, "connection_allowlist: '10.0.0.300'"),
    ({'expected_listeners': ['sctp/22']}, 'expected_listeners'),
    ({'files_roots': ['etc']}, "files_roots entries must be absolute paths, got 'etc'"),
    ({'timeout': 0}, 'timeout must be greater than 0, got 0'),
    ({'checks': ['cpu']}, 'checks'),
])
def test_bad_parameters_fail_naming_them(args, fragment, capsys):
    result = run(cloudos_security_facts, args, capsys)
    assert result['failed'] is True
    assert fragment in result['msg']


def test_read_only_result_same_under_check_mode(capsys, tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'motd').write_text('hello')
    args = {'checks': ['files', 'hardening'], 'files_roots': [str(tmp_path / 'etc')], 'host': 'web-1',
            'hardening_state': str(tmp_path / 'none.json'), 'thresholds': {'changed_files': '0%', 'changed_files_critical': 5}}
    normal = run(cloudos_security_facts, args, capsys)
    checked = run(cloudos_security_facts, dict(args, _ansible_check_mode=True), capsys)
    for result in (normal, checked):
        assert result['changed'] is False
        security = result['security']
        assert set(security) == {'host', 'status', 'checked_at', 'duration_ms', 'checks', 'findings', 'thresholds'}
        assert security['host'] == 'web-1' and security['status'] == 'warning'
        assert list(security['checks']) == ['auth', 'connections', 'listeners', 'files', 'alerts', 'containers',
                                            'certificates', 'hardening']
        assert security['checks']['auth']['status'] == 'skipped'
        assert security['checks']['hardening']['status'] == 'absent'
        assert security['checks']['files']['metrics']['changed_24h'] == 1
        assert [f['check'] for f in security['findings']] == ['files']
        assert security['thresholds']['changed_files'] == 0
    assert normal['security']['checks']['files'] == checked['security']['checks']['files']
