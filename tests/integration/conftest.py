"""Integration tests: shared helpers live in tests/integration/lib.py (import them from there).

Every report.json the tests write must match docs/schemas/fleet-report-v1.schema.json: after
each test its ``tmp_path`` is searched, and at the end of the session the whole temporary
directory of the run (session fixtures write there too). A report that does not match fails
the test that wrote it, or the session.
"""

from __future__ import annotations

import os

import pytest

from tests import report_schema

_CHECKED = set()
HERE = os.path.dirname(os.path.abspath(__file__))


def _mismatches(root):
    problems = []
    for path in sorted(root.rglob('report.json')):
        if path in _CHECKED or not path.is_file():
            continue
        _CHECKED.add(path)
        problems.extend('%s: %s' % (path, error) for error in report_schema.validate_file(str(path)))
    return problems


def _fail(problems):
    pytest.fail('report.json does not match %s:\n%s' % (report_schema.SCHEMA_PATH, '\n'.join(problems[:20])),
                pytrace=False)


@pytest.fixture(scope='session', autouse=True)
def every_session_report_matches_the_schema(tmp_path_factory):
    yield
    problems = _mismatches(tmp_path_factory.getbasetemp())
    if problems:
        _fail(problems)


@pytest.fixture(autouse=True)
def reports_of_the_test_match_the_schema(request):
    if 'tmp_path' not in request.fixturenames:
        yield
        return
    tmp_path = request.getfixturevalue('tmp_path')
    yield
    problems = _mismatches(tmp_path)
    if problems:
        _fail(problems)


_WORKER_COUNTS = {}


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, 'workeroutput', None)
    if workeroutput is not None:  # a pytest-xdist worker: its count goes to the controller
        workeroutput['report_json_checked'] = len(_CHECKED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    _WORKER_COUNTS[node.gateway.id] = getattr(node, 'workeroutput', {}).get('report_json_checked', 0)


def pytest_terminal_summary(terminalreporter):
    checked = len(_CHECKED) + sum(_WORKER_COUNTS.values())
    if checked:
        terminalreporter.write_line('%d report.json file(s) checked against %s'
                                    % (checked, report_schema.SCHEMA_PATH.replace(report_schema.ROOT + '/', '')))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``pytest -n N --dist loadscope`` (``make integration`` runs two workers) a scope is a
    test package (``alertmanager``, ``awx``, ...), not a module: a package's tests run on one
    worker, in order, so its session and module fixtures (fleet hosts with fixed names, one
    Alertmanager, one installed collection) are made once and never twice at the same time."""
    if config.getvalue('dist') != 'loadscope':
        return None
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class PackageScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split('::', 1)[0].split('/')
            if path[:2] == ['tests', 'integration'] and len(path) > 3:
                return '/'.join(path[:3])
            return super()._split_scope(nodeid)

    return PackageScheduling(config, log)
