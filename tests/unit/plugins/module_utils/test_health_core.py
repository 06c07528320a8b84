# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thresholds, severity rules, concurrency budget and the shape of the ``health`` record."""

from __future__ import annotations

import re
import threading
import time

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _systemd
from ansible_collections.cloudos.ops.plugins.module_utils._health import core

from health_fakes import FakeHost, params


def test_defaults_are_the_guides_table():
    t = core.validate_thresholds({})
    assert (t['cpu'], t['memory'], t['disk']) == (80, 85, 80)
    assert (t['alerts_warning'], t['alerts_critical']) == (2, 0)
    assert (t['container_restarts'], t['ai_error_rate'], t['certificate_days']) == (5, 5, 30)


def test_overrides_merge_and_accept_percent_strings():
    t = core.validate_thresholds({'disk': '70%', 'cpu': 90})
    assert t['disk'] == 70 and t['cpu'] == 90 and t['memory'] == 85


@pytest.mark.parametrize('user, fragment', [
    ({'diskk': 70}, "unknown key 'diskk' (value 70)"),
    ({'disk': 'lots'}, "thresholds.disk must be a number, got 'lots'"),
    ({'cpu': True}, 'thresholds.cpu must be a number, got True'),
    ({'memory': [1]}, 'thresholds.memory must be a number, got [1]'),
    ({'disk': -1}, 'thresholds.disk must not be negative, got -1'),
    ({'disk': 96}, 'thresholds.disk_critical=95 is below thresholds.disk=96'),
    ({'certificate_days_critical': 40}, 'certificate_days_critical=40 is above thresholds.certificate_days=30'),
])
def test_bad_thresholds_name_key_and_value(user, fragment):
    with pytest.raises(core.ThresholdError) as err:
        core.validate_thresholds(user)
    assert fragment in str(err.value)


def test_threshold_is_strictly_above():
    assert core.above(80, 80, 95) == 'ok'
    assert core.above(80.1, 80, 95) == 'warning'
    assert core.above(95.5, 80, 95) == 'critical'
    assert core.below(30, 30, 7) == 'ok'
    assert core.below(29.9, 30, 7) == 'warning'
    assert core.below(-1, 30, 7) == 'critical'


def test_worst_ignores_absent_and_skipped():
    assert core.worst(['ok', 'absent', 'skipped']) == 'ok'
    assert core.worst(['absent', 'warning', 'ok']) == 'warning'
    assert core.worst(['warning', 'critical']) == 'critical'


def test_section_status_from_findings_and_absence():
    sec = core.Section('x')
    sec.set_absent('not here')
    assert sec.status == 'absent'
    sec.add('ok', 'ignored', 'none')
    assert sec.findings == []
    sec.add('warning', 'w', 'do', metric='m', value=1, threshold=0)
    assert sec.status == 'warning'
    assert sec.findings[0] == {'check': 'x', 'severity': 'warning', 'message': 'w', 'action': 'do',
                               'metric': 'm', 'value': 1, 'threshold': 0}


def test_required_turns_absence_critical():
    sec = core.Section('monitoring')
    assert core.not_installed(sec, 'grafana', ['grafana'], 'Grafana', 'nothing at :3000')
    assert sec.status == 'critical' and 'required' in sec.findings[0]['message']
    other = core.Section('monitoring')
    assert not core.not_installed(other, 'grafana', ['prometheus'], 'Grafana', 'x')


def test_run_parallel_abandons_slow_calls_within_budget():
    release = threading.Event()
    started = time.monotonic()
    out = core.run_parallel({'fast': lambda: 1, 'slow': lambda: release.wait(30),
                             'boom': lambda: 1 / 0}, 0.3)
    elapsed = time.monotonic() - started
    release.set()
    assert out['fast'] == ('ok', 1)
    assert out['slow'] == ('timeout', None)
    assert out['boom'][0] == 'error' and isinstance(out['boom'][1], ZeroDivisionError)
    assert elapsed < 5  # the call returned instead of joining the slow thread


def _ok_probe(name):
    def probe(host, p, t):
        sec = core.Section(name)
        sec.summary = 'fine'
        sec.metrics['n'] = 1
        return sec
    return probe


def test_run_checks_shape_and_unselected_sections_skipped():
    probes = dict((n, _ok_probe(n)) for n in core.SECTIONS)

    def warn(host, p, t):
        sec = core.Section('resources')
        sec.add('warning', 'disk / 85% used', 'clean up', metric='disk_pct', value=85.0, threshold=80)
        return sec

    probes['resources'] = warn
    health = core.run_checks(FakeHost(), params(checks=['system', 'resources']), probes, core.validate_thresholds({}))
    assert set(health) == {'host', 'status', 'checked_at', 'duration_ms', 'checks', 'findings', 'thresholds'}
    assert health['host'] == 'testhost'
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', health['checked_at'])
    assert isinstance(health['duration_ms'], int)
    assert list(health['checks']) == list(core.SECTIONS)
    assert health['checks']['kubernetes'] == {'status': 'skipped', 'summary': 'not selected (checks option)',
                                              'metrics': {}, 'findings': []}
    assert health['checks']['system']['status'] == 'ok'
    assert health['status'] == 'warning'
    assert health['findings'] == health['checks']['resources']['findings']
    for check in health['checks'].values():
        assert set(check) >= {'status', 'summary', 'metrics', 'findings'}


def test_probe_crash_and_hang_become_findings_not_tracebacks():
    release = threading.Event()

    def crash(host, p, t):
        raise RuntimeError('unexpected')

    def hang(host, p, t):
        release.wait(30)

    probes = {'alerts': crash, 'ai_engine': hang}
    health = core.run_checks(FakeHost(), params(checks=['alerts', 'ai_engine'], timeout=0.1, cpu_sample_seconds=0),
                             probes, core.validate_thresholds({}))
    release.set()
    assert health['status'] == 'critical'
    assert 'RuntimeError: unexpected' in health['checks']['alerts']['findings'][0]['message']
    assert 'did not finish within' in health['checks']['ai_engine']['findings'][0]['message']
    assert health['findings'][0]['severity'] == 'critical'


def test_findings_sorted_critical_first():
    sections = {
        'system': {'status': 'warning', 'summary': '', 'metrics': {}, 'findings': [
            {'check': 'system', 'severity': 'warning', 'message': 'w', 'action': 'a'}]},
        'certificates': {'status': 'critical', 'summary': '', 'metrics': {}, 'findings': [
            {'check': 'certificates', 'severity': 'critical', 'message': 'c', 'action': 'a'}]},
    }
    health = core.assemble('h', FakeHost().now(), 5, sections, {})
    assert [f['severity'] for f in health['findings']] == ['critical', 'warning']
    assert health['status'] == 'critical'


@pytest.mark.parametrize('override, fragment', [
    ({'grafana_url': 'localhost:3000'}, "grafana_url='localhost:3000'"),
    ({'timeout': 0}, 'timeout must be greater than 0, got 0'),
    ({'cpu_sample_seconds': 60}, 'cpu_sample_seconds must be between 0 and 10, got 60'),
    ({'disks': ['var']}, "disks entries must be absolute paths, got 'var'"),
    ({'certificate_endpoints': ['host:http']}, "port 'http' is not a number"),
    ({'component_units': {'redis': ['redis.service']}}, "unknown component 'redis'"),
    ({'service_patterns': ['--all']}, "got '--all'"),
])
def test_validate_params(override, fragment):
    assert fragment in core.validate_params(params(**override))


def test_container_name_matching():
    assert core.container_matches('cloudos-grafana', 'grafana')
    assert core.container_matches('prometheus', 'prometheus')
    assert not core.container_matches('prometheus-alertmanager', 'prometheus')
    assert core.container_matches('prometheus-alertmanager', 'alertmanager')
    assert not core.container_matches('node-exporter-prometheus', 'prometheus')
    assert core.container_matches('cloudos-ai-engine', 'ai-engine')
    assert not core.container_matches('grafanalike', 'grafana')


def test_unit_files_count_without_running_systemd(tmp_path, monkeypatch):
    unit_dir = tmp_path / 'lib'
    unit_dir.mkdir()
    (unit_dir / 'prometheus.service').write_text('[Service]\n')
    monkeypatch.setattr(_systemd, 'UNIT_DIRS', (str(unit_dir),))
    host = core.Host()
    monkeypatch.setattr(host, 'which', lambda name: None)  # no systemctl: systemd is not running
    assert host.units_exist(['prometheus', 'grafana-server.service']) == ['prometheus.service']


def test_commands_go_through_the_module_runner_with_a_time_limit():
    calls = []

    def runner(args, data=None):
        calls.append(args)
        return 124, '', ''
    host = core.Host(timeout=2, run_command=runner)
    rc, dummy, err = host.run(['systemctl', 'show'])
    assert calls[0][-2:] == ['systemctl', 'show'] and calls[0][1:4] == ['-k', '1', '2']
    assert rc == 124 and err == 'systemctl timed out after 2s'
    assert core.Host().run(['true'])[0] == 127
