"""Integration tests: shared helpers live in tests/integration/lib.py (import them from there).

Every report.json the tests write must match docs/schemas/fleet-report-v1.schema.json: after
each test its ``tmp_path`` is searched, and at the end of the session the whole temporary
directory of the run (session fixtures write there too). A report that does not match fails
the test that wrote it, or the session.
"""

from __future__ import annotations

import pytest

from tests import report_schema

_CHECKED = set()


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


def pytest_terminal_summary(terminalreporter):
    if _CHECKED:
        terminalreporter.write_line('%d report.json file(s) checked against %s'
                                    % (len(_CHECKED), report_schema.SCHEMA_PATH.replace(report_schema.ROOT + '/', '')))
