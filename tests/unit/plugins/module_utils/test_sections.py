# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The section runner and thresholds model shared by cloudos_health and cloudos_security_facts."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _sections
from ansible_collections.cloudos.ops.plugins.module_utils._common import C_LOCALE
from ansible_collections.cloudos.ops.plugins.module_utils._health import core
from ansible_collections.cloudos.ops.plugins.module_utils._health.registry import HEALTH
from ansible_collections.cloudos.ops.plugins.module_utils._security import SECURITY
from ansible_collections.cloudos.ops.plugins.module_utils._sections import SectionSpec, Suite, ThresholdError

from health_fakes import FakeHost, params

SUITES = pytest.mark.parametrize('suite', [HEALTH, SECURITY], ids=['health', 'security'])


# --------------------------------------------------------------------------- one thresholds model

@SUITES
@pytest.mark.parametrize('value, merged', [
    ('90%', 90), ('90', 90), (' 7.5 % ', 7.5), (12, 12), (3.0, 3), (0, 0), ('0%', 0),
])
def test_both_modules_accept_the_same_values(suite, value, merged):
    result = suite.thresholds.merge({'container_restarts_critical': 99, 'container_restarts': value})
    assert result['container_restarts'] == merged and type(result['container_restarts']) is type(merged)


@SUITES
@pytest.mark.parametrize('value, fragment', [
    ('abc', "thresholds.container_restarts must be a number, got 'abc'"),
    (True, 'thresholds.container_restarts must be a number, got True'),
    (False, 'thresholds.container_restarts must be a number, got False'),
    (float('nan'), 'thresholds.container_restarts must be a number, got nan'),
    ('NaN%', "thresholds.container_restarts must be a number, got 'NaN%'"),
    (None, 'thresholds.container_restarts must be a number, got None'),
    ([5], 'thresholds.container_restarts must be a number, got [5]'),
    (-1, 'thresholds.container_restarts must not be negative, got -1'),
    ('-1%', "thresholds.container_restarts must not be negative, got '-1%'"),
])
def test_both_modules_refuse_the_same_values(suite, value, fragment):
    with pytest.raises(ThresholdError) as err:
        suite.thresholds.merge({'container_restarts': value})
    assert fragment in str(err.value)


@SUITES
@pytest.mark.parametrize('user, fragment', [
    ({'nope': 1}, "thresholds: unknown key 'nope' (value 1); known keys: "),
    ({'container_restarts': 21}, 'thresholds.container_restarts_critical=20 is below thresholds.container_restarts=21'),
    ({'certificate_days_critical': '31%'}, 'thresholds.certificate_days_critical=31 is above thresholds.certificate_days=30'),
    ('90%', "thresholds must be a dict, got '90%'"),
])
def test_both_modules_apply_the_same_rules(suite, user, fragment):
    with pytest.raises(ThresholdError) as err:
        suite.thresholds.merge(user)
    assert fragment in str(err.value)


@SUITES
def test_defaults_without_overrides(suite):
    assert suite.thresholds.merge(None) == suite.thresholds.merge({}) == suite.thresholds.defaults
    assert suite.thresholds.merge({}) is not suite.thresholds.defaults


def test_security_pairs_and_health_pairs():
    with pytest.raises(ThresholdError, match='auth_failures_source_critical=100 is below'):
        SECURITY.thresholds.merge({'auth_failures_source': '101%'})
    with pytest.raises(ThresholdError, match='ai_error_rate_critical=25 is below'):
        HEALTH.thresholds.merge({'ai_error_rate': '30%'})
    # levels of different metrics are not a pair
    assert HEALTH.thresholds.merge({'alerts_critical': 5})['alerts_warning'] == 2
    assert SECURITY.thresholds.merge({'security_alerts_warning': 3})['security_alerts_critical'] == 0


# --------------------------------------------------------------------------- concurrency

def test_run_parallel_abandons_slow_calls_within_budget():
    release = threading.Event()
    started = time.monotonic()
    out = _sections.run_parallel({'fast': lambda: 1, 'slow': lambda: release.wait(30),
                                  'boom': lambda: 1 / 0}, 0.3)
    elapsed = time.monotonic() - started
    release.set()
    assert out['fast'] == ('ok', 1)
    assert out['slow'] == ('timeout', None)
    assert out['boom'][0] == 'error' and isinstance(out['boom'][1], ZeroDivisionError)
    assert elapsed < 5  # the call returned instead of joining the slow thread
    assert core.run_parallel is _sections.run_parallel  # the probes' import still works


# --------------------------------------------------------------------------- registry and runner

def test_registries_list_the_sections_in_report_order():
    assert HEALTH.names == ('system', 'services', 'containers', 'kubernetes', 'monitoring', 'alerts', 'resources',
                            'ai_engine', 'certificates')
    assert SECURITY.names == ('auth', 'connections', 'listeners', 'files', 'alerts', 'containers', 'certificates',
                              'hardening')


@SUITES
def test_selection_keeps_registry_order(suite):
    assert suite.select(['all']) == suite.select([]) == list(suite.names)
    assert suite.select(['certificates', 'alerts']) == ['alerts', 'certificates']


def _section(name, severity=None):
    sec = core.Section(name)
    sec.summary = 'fine'
    if severity:
        sec.add(severity, '%s %s' % (name, severity), 'act')
    return sec


def _suite(*specs, **kw):
    kw.setdefault('budget', lambda p: 0.3)
    kw.setdefault('hang', ('slow after {timeout}s', '{name} hung for {budget:.1f}s', 'look at {name}'))
    return Suite(specs, _sections.Thresholds({'x': 1}), **kw)


def test_run_assembles_findings_by_severity_then_registry_order():
    release = threading.Event()
    suite = _suite(SectionSpec('a', lambda h, p, t: _section('a', 'warning')),
                   SectionSpec('b', lambda h, p, t: _section('b', 'critical')),
                   SectionSpec('c', lambda h, p, t: release.wait(30)),
                   SectionSpec('d', lambda h, p, t: 1 / 0),
                   SectionSpec('e', lambda h, p, t: _section('e', 'warning')),
                   SectionSpec('f', lambda h, p, t: _section('f')))
    report = suite.run(FakeHost(), {'checks': ['a', 'b', 'c', 'd', 'e'], 'timeout': 2}, {'x': 1})
    release.set()
    assert list(report['checks']) == ['a', 'b', 'c', 'd', 'e', 'f']
    assert [(f['check'], f['severity']) for f in report['findings']] == [
        ('b', 'critical'), ('c', 'critical'), ('d', 'critical'), ('a', 'warning'), ('e', 'warning')]
    assert report['checks']['c'] == {'status': 'critical', 'summary': 'slow after 2s', 'metrics': {}, 'findings': [
        {'check': 'c', 'severity': 'critical', 'message': 'c hung for 0.3s', 'action': 'look at c'}]}
    assert report['checks']['d']['summary'] == 'probe error'
    assert report['checks']['d']['findings'][0]['message'] == 'the d check failed unexpectedly: ZeroDivisionError: division by zero'
    assert report['checks']['f']['status'] == 'skipped'
    assert report['status'] == 'critical' and report['host'] == 'testhost' and report['thresholds'] == {'x': 1}
    assert report['checked_at'] == '2026-11-26T06:00:00Z'


def test_prepare_runs_before_the_libraries_load_and_only_when_selected():
    events = []
    suite = _suite(SectionSpec('a', lambda h, p, t: _section('a'), ('lib_a',), prepare=lambda host: events.append('prepare a')),
                   SectionSpec('b', lambda h, p, t: _section('b'), prepare=lambda host: events.append('prepare b')))
    suite.preload = lambda selected, params: events.append('preload %s' % ','.join(selected))
    suite.run(FakeHost(), {'checks': ['a'], 'timeout': 1}, {})
    assert events == ['prepare a', 'preload a']


def test_preload_reads_the_libraries_of_the_selected_sections_once():
    seen = []
    suite = _suite(SectionSpec('a', None, ('one', 'two')), SectionSpec('b', None, ('two', 'three')),
                   SectionSpec('c', None, ('four',), needs=lambda params, exists, environ: params.get('c_here')))
    assert suite.preload(['b', 'a', 'c'], {}, importer=seen.append, environ={}) == ['two', 'three', 'one']
    assert seen == ['two', 'three', 'one']
    assert suite.preload(['c'], {'c_here': True}, importer=seen.append, environ={}) == ['four']


def test_param_defaults_fill_what_the_module_has_no_option_for():
    got = {}

    def probe(host, p, t):
        got.update(p)
        return _section('a')
    suite = _suite(SectionSpec('a', probe), param_defaults={'required': [], 'component_units': {}})
    suite.run(FakeHost(), {'checks': ['all'], 'timeout': 1, 'required': ['a']}, {})
    assert got['required'] == ['a'] and got['component_units'] == {}


def test_each_module_keeps_its_budget_and_hang_words():
    assert HEALTH.budget(params(timeout=5, cpu_sample_seconds=1)) == 6.5
    assert HEALTH.budget(params(timeout=1, cpu_sample_seconds=3)) == 4.5
    assert SECURITY.budget({'timeout': 10}) == 25.0
    words = dict(name='auth', budget=25.0, timeout=10.0)
    assert [t.format(**words) for t in SECURITY.hang] == [
        'probe error', 'the auth check did not finish within 25s', 'Check auth by hand; raise timeout if the host is just slow']
    words = dict(name='kubernetes', budget=6.5, timeout=5.0)
    assert [t.format(**words) for t in HEALTH.hang] == [
        'no answer within 5.0s', 'the kubernetes check did not finish within 6.5s (a component is hanging)',
        'Check the kubernetes components by hand; raise timeout if the host is just slow']


# --------------------------------------------------------------------------- module glue

class Exit(Exception):
    pass


class FakeModule:
    def __init__(self, **module_params):
        self.params = dict({'thresholds': {}, 'timeout': 3.0, 'validate_certs': False, 'host': 'h1', 'checks': ['all']},
                           **module_params)
        self.commands = []
        self.result = None

    def run_command(self, args, **kw):
        self.commands.append((args, kw, dict(self.run_command_environ_update)))
        return 0, b'', b''

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise Exit()

    def exit_json(self, **result):
        self.result = result
        raise Exit()


def _record_suite(calls):
    def probe(host, p, t):
        calls.append(host)
        host.run_command(['true'])
        return _section('a')
    return _suite(SectionSpec('a', probe))


def test_run_module_runs_with_the_c_locale_and_returns_the_fact():
    calls = []
    module = FakeModule(docker_host='tcp://d:2375', thresholds={'x': '2%'})
    with pytest.raises(Exit):
        _sections.run_module(module, _record_suite(calls), core.Host, lambda p: None, 'health')
    report = module.result['health']
    assert module.result['changed'] is False and report['host'] == 'h1' and report['thresholds'] == {'x': 2}
    assert report['checks']['a']['status'] == 'ok'
    host = calls[0]
    assert (host.timeout, host.validate_certs, host.docker_host) == (3.0, False, 'tcp://d:2375')
    args, kw, environ = module.commands[0]
    assert args == ['true'] and kw == {'data': None, 'binary_data': True, 'expand_user_and_vars': False}
    assert environ == C_LOCALE


@pytest.mark.parametrize('module_params, validate, message', [
    ({'thresholds': {'x': 'abc'}}, lambda p: None, "thresholds.x must be a number, got 'abc'"),
    ({}, lambda p: 'timeout must be greater than 0, got 0', 'timeout must be greater than 0, got 0'),
])
def test_run_module_fails_before_anything_runs(module_params, validate, message):
    calls = []
    module = FakeModule(**module_params)
    with pytest.raises(Exit):
        _sections.run_module(module, _record_suite(calls), core.Host, validate, 'health')
    assert module.result == {'msg': message, 'failed': True}
    assert calls == [] and module.commands == []
