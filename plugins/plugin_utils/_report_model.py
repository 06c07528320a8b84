# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report document: host entries from registered results, and the JSON every renderer reads.

Controller-only and private to this collection (the leading underscore): no compatibility
promise for the Python names. The JSON document it builds (``cloudos.ops/fleet-report/v1``)
is public: ``docs/schemas/fleet-report-v1.schema.json`` describes it and
``docs/architecture.md`` says how it is versioned.

A report is run metadata plus a list of hosts; each host has a status, a set of named checks
(``status``, ``summary``, ``metrics``, ``findings``), a list of findings (``check``,
``severity``, ``message``, ``action`` and optionally ``metric``/``value``/``threshold``) and
the thresholds it was judged against. The daily health check, the weekly maintenance and the
security check all produce that shape.

Everything here is pure: :func:`normalize_result` turns one host's registered task result into
a host entry, :func:`build_report` turns host entries into the JSON document. The renderers
(``_report_markdown``, ``_report_html``, ``_report_junit``) turn that document into text;
``_report`` is the one entry point of the action plugin. Nothing touches the file system.

Statuses
  Check statuses are ``ok``, ``warning``, ``critical``, ``absent`` (component not on the
  host and not required) and ``skipped`` (not checked). Host statuses add ``unreachable``
  (Ansible could not connect, or the host has no result at all) and ``error`` (the check
  itself failed, e.g. no Python on the host). For ``fail_on`` an unreachable or errored
  host counts as critical (:data:`_common.STATUS_RANK`): nobody knows it is healthy.
"""

from __future__ import annotations

import json
import re

from datetime import timezone

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    ABSENT, CRITICAL, ERROR, OK, SKIPPED, STATUS_RANK, UNREACHABLE, WARNING, parse_time, status_rank)

SCHEMA = 'cloudos.ops/fleet-report/v1'

CHECK_STATUSES = (OK, WARNING, CRITICAL, ABSENT, SKIPPED)
HOST_STATUSES = (OK, WARNING, CRITICAL, ERROR, UNREACHABLE, SKIPPED)
FAIL_ON = (WARNING, CRITICAL, 'never')

# Display order, worst first (hosts in the grid, counts in the summary); among statuses of the
# same rank (``_common.STATUS_RANK``) the one listed first is the worse.
ORDER = (UNREACHABLE, ERROR, CRITICAL, WARNING, OK, ABSENT, SKIPPED)
SEVERITIES = (CRITICAL, WARNING, 'info')

# A symbol next to each word, so the grid also reads without colour.
SYMBOLS = {
    OK: '\u2714', WARNING: '\u25b2', CRITICAL: '\u2716', ABSENT: '\u2013', SKIPPED: '\u00b7',
    UNREACHABLE: '\u26a0', ERROR: '\u26a0',
}

ACTION_UNREACHABLE = ('Check that the host is up and that Ansible can log in: '
                      'ansible <host> -m ansible.builtin.ping -vvv')
ACTION_ERROR = ('Read the error above; the check could not run on this host '
                '(Python missing, permissions, or a bug: please report it).')

# Characters XML 1.0 does not allow, even escaped (terminal colours, NULs from command output).
_XML_INVALID = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


class ReportError(ValueError):
    """Bad input to the report builder; the message names the field and the value."""


# --------------------------------------------------------------------------- helpers

def order(status):
    """Position of ``status`` in :data:`ORDER` (unknown statuses last)."""
    return ORDER.index(status) if status in ORDER else len(ORDER)


def worst_status(statuses, default=OK):
    """The worst of ``statuses`` by rank; among equal ranks the first in :data:`ORDER`.

    Unlike ``_common.worst_status`` a tie is decided by the display order (``unreachable``
    before ``error`` before ``critical``), and a list of ``absent``/``skipped`` gives the
    first of them rather than ``ok``. ``default`` for no status at all.
    """
    ordered = sorted(statuses, key=order)
    if not ordered:
        return default
    return max(ordered, key=status_rank)


def reaches(status, fail_on):
    """True when ``status`` is at or above ``fail_on`` (``never`` is never reached)."""
    if fail_on == 'never':
        return False
    return status_rank(status) >= STATUS_RANK[fail_on]


def text(value):
    """A value as one string: ``''`` for ``None``, ``yes``/``no`` for booleans, JSON for dicts and lists."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def clean(value):
    """:func:`text` without the characters XML 1.0 cannot carry (each becomes U+FFFD)."""
    return _XML_INVALID.sub('\ufffd', text(value))


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def format_time(value):
    """``2025-11-26 06:50:12 UTC`` from an ISO string; the input unchanged if unparsable."""
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        return text(value)
    return parsed.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')


def format_ms(ms):
    """``850 ms``, ``12.3 s``, ``4 min 05 s`` for a number of milliseconds (``''`` for none)."""
    ms = _number(ms)
    if ms is None:
        return ''
    if ms < 1000:
        return '%d ms' % ms
    seconds = ms / 1000.0
    if seconds < 60:
        return '%.1f s' % seconds
    minutes, secs = divmod(int(round(seconds)), 60)
    return '%d min %02d s' % (minutes, secs)


def flatten(mapping, prefix=''):
    """``{'a': {'b': 1}}`` -> ``[('a.b', 1)]``, keys in the mapping's own order."""
    items = []
    for key, value in (mapping or {}).items():
        name = '%s.%s' % (prefix, key) if prefix else str(key)
        if isinstance(value, dict) and value:
            items.extend(flatten(value, name))
        else:
            items.append((name, value))
    return items


def value_threshold(finding):
    """``86.0 / threshold 80.0`` for a finding (``''`` when it has neither)."""
    parts = []
    if finding.get('value') is not None:
        parts.append(text(finding['value']))
    if finding.get('threshold') is not None:
        parts.append('threshold %s' % text(finding['threshold']))
    return ' / '.join(parts)


def verdict(summary):
    """One line saying whether the run reached its ``fail_on`` level."""
    if summary['fail_on'] == 'never':
        return 'not enforced (fail_on: never)'
    if summary['fail_on_reached']:
        return 'FAILED: %d host(s) at or above %s' % (len(summary['failing_hosts']), summary['fail_on'])
    return 'passed: no host at or above %s' % summary['fail_on']


# --------------------------------------------------------------------------- normalisation

def _word(value, allowed):
    """``value`` as one of ``allowed`` when its meaning is clear (``CRITICAL`` -> ``critical``), else None."""
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    return None


def _not_understood(check, value):
    """The finding that says a status was not understood (and is counted as critical)."""
    return {'check': text(check), 'severity': CRITICAL,
            'message': 'The status %s was not understood; it is counted as critical.' % json.dumps(value, default=str)[:80],
            'action': 'Look at this check on the host: the module answered a status the report does not know.'}


def _finding(raw, check=None):
    if not isinstance(raw, dict):
        raw = {'message': text(raw)}
    # No severity is a warning; an unknown one (``Critical``, ``fatal``) is never shown lower than critical.
    severity = WARNING if raw.get('severity') is None else (_word(raw.get('severity'), SEVERITIES) or CRITICAL)
    finding = {
        'check': text(raw.get('check') or check or ''),
        'severity': severity,
        'message': text(raw.get('message')),
        'action': text(raw.get('action')),
    }
    for key in ('metric', 'value', 'threshold'):
        if raw.get(key) is not None:
            finding[key] = raw[key]
    return finding


def _check(name, raw):
    if not isinstance(raw, dict):
        raw = {'status': raw}
    status = _word(raw.get('status'), CHECK_STATUSES)
    summary = text(raw.get('summary'))
    findings = [_finding(f, name) for f in (raw.get('findings') if isinstance(raw.get('findings'), list) else [])]
    if status is None:
        # Changed deliberately (issue 13, rule 5): an unknown status is critical, not a warning.
        summary = ('status %s not understood; %s' % (json.dumps(raw.get('status'), default=str)[:80], summary)).rstrip('; ')
        status = CRITICAL
        findings.insert(0, _not_understood(name, raw.get('status')))
    metrics = raw.get('metrics')
    return {
        'status': status,
        'summary': summary,
        'metrics': metrics if isinstance(metrics, dict) else ({} if metrics is None else {'value': metrics}),
        'findings': findings,
    }


def _checks(raw):
    """Checks as an ordered dict name -> check, from a dict or a list of ``{name: ...}``."""
    checks = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            checks[text(name)] = _check(name, value)
    elif isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, dict) and item.get('name') is not None:
                checks[text(item['name'])] = _check(item['name'], item)
    return checks


def host_entry(host, status=None, checks=None, findings=None, thresholds=None, checked_at=None,
               duration_ms=None, error=None):
    """A normalised host entry. ``status`` is raised to the worst of its checks; an unknown one is critical."""
    raw_status = status
    checks = _checks(checks)
    if findings is None:
        flat = []
        for name, check in checks.items():
            flat.extend(check['findings'])
        findings = flat
    else:
        findings = [_finding(f) for f in findings]
    unknown = status is not None and _word(status, HOST_STATUSES) is None
    status = CRITICAL if unknown else _word(status, HOST_STATUSES)
    if unknown:
        findings.insert(0, _not_understood('status', raw_status))
    computed = worst_status([c['status'] for c in checks.values()], default=OK)
    if status is None:
        status = computed
    elif status in (OK, WARNING, CRITICAL):
        status = worst_status([status, computed])
    findings.sort(key=lambda f: SEVERITIES.index(f['severity']))
    return {
        'host': text(host),
        'status': status,
        'checked_at': checked_at,
        'duration_ms': _number(duration_ms),
        'error': error,
        'checks': checks,
        'findings': findings,
        'thresholds': thresholds if isinstance(thresholds, dict) else {},
    }


def _error_text(result):
    parts = []
    for key in ('msg', 'module_stderr', 'stderr', 'exception'):
        value = result.get(key)
        if value:
            lines = '\n'.join(line for line in text(value).splitlines()
                              if line.strip() != '(traceback unavailable)').strip()
            if lines and lines not in parts:
                parts.append(lines)
    joined = '\n'.join(parts)
    return joined[:2000] if joined else ''


def normalize_result(host, result, key='health'):
    """Turn one host's registered task result into a host entry.

    ``result`` is what ``register`` stored (``{'health': {...}, 'changed': false}``), the
    report dict itself (it has ``checks``), or ``None`` when the host has no result (it was
    unreachable, or failed before the check ran). Failures become ``error``; connection
    failures and missing results become ``unreachable``. A synthetic critical finding tells
    the reader what to do.
    """
    if result is None or (isinstance(result, dict) and not result):
        return host_entry(host, UNREACHABLE, error='no result: the host was unreachable or failed before the check ran',
                          findings=[{'check': 'connection', 'severity': CRITICAL,
                                     'message': 'No result from this host: it was unreachable or failed before the check ran.',
                                     'action': ACTION_UNREACHABLE}])
    if not isinstance(result, dict):
        raise ReportError('results.%s must be a dict (a registered task result), got %r' % (host, result))
    if result.get('unreachable'):
        msg = _error_text(result) or 'host unreachable'
        return host_entry(host, UNREACHABLE, error=msg,
                          findings=[{'check': 'connection', 'severity': CRITICAL,
                                     'message': 'Unreachable: %s' % msg, 'action': ACTION_UNREACHABLE}])
    if result.get('skipped') and key not in result:
        reason = text(result.get('skip_reason')) or 'skipped'
        return host_entry(host, SKIPPED, error=reason)
    data = result.get(key) if key in result else (result if 'checks' in result else None)
    if not isinstance(data, dict):
        msg = _error_text(result) or 'the check returned no %r result' % key
        return host_entry(host, ERROR, error=msg,
                          findings=[{'check': key, 'severity': CRITICAL,
                                     'message': 'The check failed: %s' % msg, 'action': ACTION_ERROR}])
    status = data.get('status')
    if not data or (status is None and not data.get('checks') and not data.get('findings')):
        return host_entry(host, ERROR, error='the check returned an empty %r result' % key,
                          findings=[{'check': key, 'severity': CRITICAL,
                                     'message': 'The check returned an empty result: nothing says this host is fine.',
                                     'action': ACTION_ERROR}])
    if _word(status, (SKIPPED, ABSENT)):
        status = None
    entry = host_entry(host, status,
                       checks=data.get('checks'), findings=data.get('findings'),
                       thresholds=data.get('thresholds'), checked_at=data.get('checked_at'),
                       duration_ms=data.get('duration_ms'))
    if result.get('failed'):
        # The module returned a report and still failed: keep the report, flag the failure.
        entry['status'] = worst_status([entry['status'], ERROR])
        entry['error'] = _error_text(result) or 'the task failed'
    return entry


# --------------------------------------------------------------------------- the document

def columns_of(hosts, columns=None):
    """Check names for the grid: ``columns`` first (in order), then any others as first seen."""
    seen = []
    for name in columns or []:
        if name not in seen:
            seen.append(text(name))
    for entry in hosts:
        for name in entry['checks']:
            if name not in seen:
                seen.append(name)
    return seen


def _common_thresholds(hosts, thresholds):
    """Rows ``{name, value, overrides: {host: value}}``: the most common value and the exceptions."""
    per_host = {}
    names = []
    for name, value in flatten(thresholds or {}):
        names.append(name)
    for entry in hosts:
        flat = dict(flatten(entry['thresholds']))
        if flat:
            per_host[entry['host']] = flat
            for name in flat:
                if name not in names:
                    names.append(name)
    base = dict(flatten(thresholds or {}))
    rows = []
    for name in names:
        values = {}
        for host, flat in per_host.items():
            if name in flat:
                values[host] = flat[name]
        if name in base:
            common = base[name]
        else:
            tally = {}
            for value in values.values():
                tally.setdefault(json.dumps(value, sort_keys=True, default=str), [value, 0])[1] += 1
            common = max(tally.values(), key=lambda pair: pair[1])[0] if tally else None
        overrides = dict((h, v) for h, v in values.items() if v != common)
        rows.append({'name': name, 'value': common, 'overrides': overrides})
    return rows


def build_report(hosts, title='Fleet report', kind='report', started_at=None, finished_at=None,
                 fail_on=CRITICAL, thresholds=None, metadata=None, columns=None):
    """The JSON document every renderer works from.

    ``hosts`` is a list of host entries (see :func:`host_entry`, :func:`normalize_result`).
    ``thresholds`` are the run's configured thresholds (per-host ones come with the hosts).
    """
    if fail_on not in FAIL_ON:
        raise ReportError('fail_on must be one of %s, got %r' % (', '.join(FAIL_ON), fail_on))
    hosts = sorted(hosts, key=lambda e: (order(e['status']), e['host']))
    names = [e['host'] for e in hosts]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise ReportError('hosts: duplicate host names %s' % ', '.join(duplicates))
    cols = columns_of(hosts, columns)
    status_counts = dict((s, 0) for s in ORDER if s in HOST_STATUSES)
    check_counts = dict((s, 0) for s in CHECK_STATUSES)
    severity_counts = dict((s, 0) for s in SEVERITIES)
    findings = []
    for entry in hosts:
        status_counts[entry['status']] = status_counts.get(entry['status'], 0) + 1
        for check in entry['checks'].values():
            check_counts[check['status']] += 1
        for finding in entry['findings']:
            severity_counts[finding['severity']] += 1
            item = {'host': entry['host']}
            item.update(finding)
            findings.append(item)
    findings.sort(key=lambda f: (SEVERITIES.index(f['severity']), names.index(f['host'])))
    failing = [e['host'] for e in hosts if reaches(e['status'], fail_on)]
    started = parse_time(started_at)
    finished = parse_time(finished_at)
    duration = None
    if started and finished:
        duration = max(0, int((finished - started).total_seconds() * 1000))
    elif hosts:
        durations = [e['duration_ms'] for e in hosts if e['duration_ms'] is not None]
        duration = max(durations) if durations else None
    return {
        'schema': SCHEMA,
        'kind': text(kind),
        'title': text(title),
        'run': {
            'started_at': started_at,
            'finished_at': finished_at,
            'duration_ms': duration,
            'metadata': dict(metadata or {}),
        },
        'summary': {
            'hosts': len(hosts),
            'status': worst_status([e['status'] for e in hosts], default=OK),
            'status_counts': status_counts,
            'check_counts': check_counts,
            'finding_counts': severity_counts,
            'fail_on': fail_on,
            'fail_on_reached': bool(failing),
            'failing_hosts': failing,
        },
        'checks': cols,
        'thresholds': _common_thresholds(hosts, thresholds),
        'hosts': hosts,
        'findings': findings,
    }


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=False, default=str, ensure_ascii=False) + '\n'
