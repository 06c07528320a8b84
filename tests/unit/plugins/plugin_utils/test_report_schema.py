"""report.json matches docs/schemas/fleet-report-v1.schema.json: the sample reports of the unit tests,
and the schema is strict enough to refuse a wrong status value or a missing key.

Every report.json the integration tests write is validated too (tests/integration/conftest.py).
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.cloudos.ops.plugins.plugin_utils import _maintenance_report, _report as R

from tests import report_schema

import report_samples as S
import test_maintenance_report as M
import test_report as T


def reports():
    """Every sample report of the unit tests, by name."""
    samples = dict(('fleet, fail_on=%s' % level, T.make_report(fail_on=level)) for level in ('critical', 'warning', 'never'))
    samples['healthy host'] = T.make_report(results={'web1': S.fleet()['web1']})
    samples['empty'] = R.build_report([], title='nothing')
    samples['hostile names'] = R.build_report([R.normalize_result('<b>evil</b>', S.health(
        'h', 'warning', {'"><img src=x onerror=alert(1)>': {'status': 'warning', 'summary': 's'}}, []))])
    samples['odd results'] = R.build_report([
        R.normalize_result('db8', {'failed': True, 'msg': 'No python interpreter found'}),
        R.normalize_result('db9', None),
        R.normalize_result('db7', {'skipped': True, 'skip_reason': 'Conditional result was False'}),
        R.normalize_result('db6', S.health('db6', 'ok', {'odd': {'status': 'purple', 'summary': 'hm'}}, [])),
        R.normalize_result('db5', {'checks': {'disk': {'status': 'absent'}}}),
        R.host_entry('db4', checks=[{'name': 'disk', 'status': 'warning', 'summary': 'full',
                                     'findings': [{'severity': 'warning', 'message': 'm', 'action': 'a'}]}]),
    ], metadata={'inventory': 'inventories/local', 'check mode': True}, columns=['disk'])
    entry = _maintenance_report.host_report({
        'checked_at': '2024-02-01T12:00:00Z',
        'gate': _maintenance_report.health_gate(M.health(), M.health(services='critical', findings=[M.FAILED_UNIT])),
        'docker': {'plan': {'images': [{'id': 'a'}]}, 'bytes_freed': 2500000,
                   'not_removed': [{'kind': 'images', 'id': 'a', 'reason': 'in use'}]},
        'backup': {'verify': {'verified': [{'backup_id': 'b', 'ok': True}]}, 'age_hours': 30, 'max_age_hours': 26},
        'error': {'task': 'Vacuum the journal', 'msg': 'boom'}})
    samples['maintenance'] = R.build_report([R.normalize_result('web-1', {'maintenance': entry}, key='maintenance')],
                                            kind='maintenance', fail_on='never')
    return samples


SAMPLES = reports()


def test_the_schema_is_a_valid_draft_2020_12_schema_and_names_the_version():
    schema = report_schema.load_schema()
    report_schema.jsonschema.Draft202012Validator.check_schema(schema)
    assert schema['properties']['schema']['const'] == R.SCHEMA == 'cloudos.ops/fleet-report/v1'


@pytest.mark.parametrize('name', sorted(SAMPLES))
def test_every_sample_report_matches_the_schema(name):
    report = json.loads(R.render_json(SAMPLES[name]))
    assert report['schema'] == 'cloudos.ops/fleet-report/v1'
    assert report_schema.errors(report) == []


def broken(path, value=None, delete=False):
    report = copy.deepcopy(json.loads(R.render_json(SAMPLES['fleet, fail_on=critical'])))
    node = report
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return report_schema.errors(report)


@pytest.mark.parametrize('path,value,where', [
    (['hosts', 1, 'status'], 'purple', 'hosts/1/status'),
    (['hosts', 1, 'checks', 'alerts', 'status'], 'unreachable', 'hosts/1/checks/alerts/status'),
    (['summary', 'status'], 'fine', 'summary/status'),
    (['findings', 0, 'severity'], 'urgent', 'findings/0/severity'),
    (['summary', 'fail_on'], 'sometimes', 'summary/fail_on'),
    (['schema'], 'cloudos.ops/fleet-report/v2', 'schema'),
    (['summary', 'hosts'], '4', 'summary/hosts'),
])
def test_a_wrong_value_is_refused(path, value, where):
    found = broken(path, value)
    assert found and found[0].startswith(where + ': '), found


@pytest.mark.parametrize('path,where', [
    (['hosts', 0, 'error'], 'hosts/0'),
    (['hosts', 1, 'checks', 'alerts', 'summary'], 'hosts/1/checks/alerts'),
    (['summary', 'failing_hosts'], 'summary'),
    (['summary', 'status_counts', 'unreachable'], 'summary/status_counts'),
    (['run'], '(top)'),
    (['findings', 0, 'action'], 'findings/0'),
])
def test_a_missing_key_is_refused(path, where):
    found = broken(path, delete=True)
    assert found and found[0].startswith(where + ': ') and 'is a required property' in found[0], found


def test_an_undocumented_field_is_refused_by_the_tests_not_by_the_published_schema():
    report = json.loads(R.render_json(SAMPLES['healthy host']))
    report['hosts'][0]['uptime'] = 3
    assert report_schema.errors(report) == ["hosts/0: Additional properties are not allowed ('uptime' was unexpected)"]
    published = report_schema.jsonschema.Draft202012Validator(report_schema.load_schema())
    assert list(published.iter_errors(report)) == []
