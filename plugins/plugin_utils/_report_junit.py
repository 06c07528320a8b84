# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as JUnit XML: one suite per host, one test case per host and check.

Controller-only and private to this collection: no compatibility promise. Reads the document
``_report_model.build_report`` made; pure (returns text, touches no file).
"""

from __future__ import annotations

from xml.etree import ElementTree

from ansible_collections.cloudos.ops.plugins.module_utils._common import STATUS_RANK, status_rank
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import (
    ABSENT, CRITICAL, ERROR, OK, SKIPPED, UNREACHABLE, WARNING, clean, value_threshold)


def xml_text(value):
    return clean(value)


def _findings_text(findings):
    lines = []
    for f in findings:
        line = '%s[%s] %s' % (_change_prefix(f), f['severity'].upper(), f['message'])
        if f.get('value') is not None or f.get('threshold') is not None:
            line += ' (%s)' % value_threshold(f)
        if f['action']:
            line += '\n    action: %s' % f['action']
        lines.append(line)
    return '\n'.join(lines)


def junit_fail_level(fail_on, junit_fail_on=None):
    """Which check status makes a JUnit failure (and a TAP ``not ok``).

    ``junit_fail_on`` (the report's ``summary.junit_fail_on``, the action's option) when set;
    else ``warning`` only when the run fails on warnings (``fail_on``).
    """
    if junit_fail_on in (WARNING, CRITICAL):
        return junit_fail_on
    return WARNING if fail_on == WARNING else CRITICAL


def report_fail_level(report):
    summary = report['summary']
    return junit_fail_level(summary['fail_on'], summary.get('junit_fail_on'))


def resolved_of(report, host, check):
    """Findings of ``host``/``check`` the previous run had and this one has not."""
    return [f for f in (report.get('changes') or {}).get('resolved', []) if f['host'] == host and f['check'] == check]


def _change_prefix(finding):
    change = finding.get('change')
    if change == 'still':
        return '[still failing since %s, %d runs] ' % (finding.get('first_seen'), finding.get('streak') or 1)
    return '[%s] ' % change if change else ''


def render_junit(report):
    """JUnit XML: one suite per host, one test case per host x check.

    The mapping (docs/daily_health.md): ``critical`` is a failure; ``warning`` is a failure when
    the fail level (:func:`report_fail_level`: ``summary.junit_fail_on``, else ``warning`` only
    when ``fail_on`` is ``warning``) is ``warning``, else a passing case with the findings in
    ``system-out``; ``absent`` and ``skipped`` are skipped; an unreachable or errored host gives
    an error per check. Findings carry their change since the last run (``[new]``, ``[still
    failing since ...]``); findings resolved since then are listed in the case's ``system-out``.
    """
    summary = report['summary']
    level = report_fail_level(report)
    cols = report['checks'] or ['health']
    root = ElementTree.Element('testsuites', {'name': xml_text(report['title'])})
    totals = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    timestamp = report['run']['started_at'] or ''
    for entry in report['hosts']:
        suite = ElementTree.SubElement(root, 'testsuite', {'name': xml_text(entry['host'])})
        counts = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
        props = ElementTree.SubElement(suite, 'properties')
        ElementTree.SubElement(props, 'property', {'name': 'status', 'value': entry['status']})
        if entry['checked_at']:
            ElementTree.SubElement(props, 'property', {'name': 'checked_at', 'value': xml_text(entry['checked_at'])})
        names = cols if entry['status'] in (UNREACHABLE, ERROR) and not entry['checks'] else [
            c for c in cols if c in entry['checks']]
        for name in names:
            counts['tests'] += 1
            case = ElementTree.SubElement(suite, 'testcase', {
                'classname': xml_text(entry['host']), 'name': xml_text(name), 'time': '0'})
            check = entry['checks'].get(name)
            if check is None:
                counts['errors'] += 1
                err = ElementTree.SubElement(case, 'error', {
                    'type': entry['status'], 'message': xml_text('%s: %s' % (entry['status'], entry['error'] or ''))})
                err.text = xml_text(_findings_text(entry['findings']) or entry['error'])
                continue
            findings = [f for f in entry['findings'] if f['check'] == name]
            detail = _findings_text(findings)
            resolved = resolved_of(report, entry['host'], name)
            status = check['status']
            if status in (ABSENT, SKIPPED):
                counts['skipped'] += 1
                ElementTree.SubElement(case, 'skipped', {'message': xml_text('%s: %s' % (status, check['summary']))})
            elif status_rank(status) >= STATUS_RANK[level]:
                counts['failures'] += 1
                fail = ElementTree.SubElement(case, 'failure', {
                    'type': status, 'message': xml_text('%s: %s' % (status, check['summary']))})
                fail.text = xml_text(detail or check['summary'])
            elif detail or status != OK:
                out = ElementTree.SubElement(case, 'system-out')
                out.text = xml_text('%s: %s\n%s' % (status, check['summary'], detail)).rstrip()
            if resolved:
                out = case.find('system-out')
                if out is None:
                    out = ElementTree.SubElement(case, 'system-out')
                out.text = xml_text(('%s\n' % out.text if out.text else '') + '\n'.join(
                    '[resolved] [%s] %s' % (f['severity'].upper(), f['message']) for f in resolved))
        if entry['error'] and entry['checks']:
            err = ElementTree.SubElement(suite, 'system-err')
            err.text = xml_text(entry['error'])
        suite.set('tests', str(counts['tests']))
        suite.set('failures', str(counts['failures']))
        suite.set('errors', str(counts['errors']))
        suite.set('skipped', str(counts['skipped']))
        suite.set('time', '%.3f' % ((entry['duration_ms'] or 0) / 1000.0))
        if entry['checked_at'] or timestamp:
            suite.set('timestamp', xml_text(entry['checked_at'] or timestamp))
        suite.set('hostname', xml_text(entry['host']))
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set('time', '%.3f' % ((report['run']['duration_ms'] or 0) / 1000.0))
    if timestamp:
        root.set('timestamp', xml_text(timestamp))
    body = ElementTree.tostring(root, encoding='unicode')
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + '\n'
