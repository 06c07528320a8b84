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


TEXTFILE_ARGS = {'checks': ['system'], 'cpu_sample_seconds': 0, 'host': 'web-1', 'thresholds': {'disk': 99, 'disk_critical': 100}}


def test_textfile_written_atomically_with_the_result(capsys, tmp_path):
    result = run(dict(TEXTFILE_ARGS, textfile_dir=str(tmp_path)), capsys)
    path = tmp_path / 'cloudos_health.prom'
    assert result['changed'] is True and result['textfile'] == {'path': str(path), 'changed': True}
    text = path.read_text()
    assert 'cloudos_health_check_status{check="system"} 0' in text
    assert 'cloudos_health_status %d' % {'ok': 0, 'warning': 1, 'critical': 2}[result['health']['status']] in text
    assert oct(path.stat().st_mode & 0o777) == '0o644'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cloudos_health.prom']  # no temporary file left


def test_textfile_not_written_under_check_mode_but_diffed(capsys, tmp_path):
    path = tmp_path / 'cloudos_health.prom'
    path.write_text('old\n')
    result = run(dict(TEXTFILE_ARGS, textfile_dir=str(tmp_path), _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result['changed'] is True and result['textfile']['changed'] is True
    assert result['diff']['before'] == 'old\n' and 'cloudos_health_status' in result['diff']['after']
    assert path.read_text() == 'old\n'


def test_unchanged_textfile_is_not_rewritten(capsys, tmp_path, monkeypatch):
    from ansible_collections.cloudos.ops.plugins.module_utils._health import textfile
    monkeypatch.setattr(textfile, 'textfile', lambda report, now=None: 'same\n')
    path = tmp_path / 'cloudos_health.prom'
    path.write_text('same\n')
    before = path.stat().st_ino
    result = run(dict(TEXTFILE_ARGS, textfile_dir=str(tmp_path), _ansible_diff=True), capsys)
    assert result['changed'] is False and result['textfile']['changed'] is False and 'diff' not in result
    assert path.stat().st_ino == before


@pytest.mark.parametrize('make, fragment', [
    (lambda d: d / 'missing', 'is not a directory'),
    (lambda d: (d / 'cloudos_health.prom').mkdir() or d, 'is a directory, not a file'),
    (lambda d: (d / 'cloudos_health.prom').symlink_to(d / 'elsewhere') or d, 'symbolic link'),
])
def test_bad_textfile_dir_fails_naming_it(capsys, tmp_path, make, fragment):
    directory = make(tmp_path)
    result = run(dict(TEXTFILE_ARGS, textfile_dir=str(directory)), capsys)
    assert result['failed'] is True and 'textfile_dir' in result['msg'] and fragment in result['msg'], result['msg']
    assert not (tmp_path / 'elsewhere').exists()
