# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet reports: one run over many hosts, rendered as JSON, Markdown, HTML and JUnit XML.

Private to this collection (the leading underscore): no compatibility promise.

The renderers are generic. A report is run metadata plus a list of hosts; each host has
a status, a set of named checks (``status``, ``summary``, ``metrics``, ``findings``), a
list of findings (``check``, ``severity``, ``message``, ``action`` and optionally
``metric``/``value``/``threshold``) and the thresholds it was judged against. The daily
health check, the weekly maintenance and the security check all produce that shape.

Everything here is pure: :func:`normalize_result` turns one host's registered task result
into a host entry, :func:`build_report` turns host entries into the JSON document, and
``render_*`` turn that document into text. Nothing touches the file system.

Statuses
  Check statuses are ``ok``, ``warning``, ``critical``, ``absent`` (component not on the
  host and not required) and ``skipped`` (not checked). Host statuses add ``unreachable``
  (Ansible could not connect, or the host has no result at all) and ``error`` (the check
  itself failed, e.g. no Python on the host). For ``fail_on`` an unreachable or errored
  host counts as critical: nobody knows it is healthy.
"""

from __future__ import annotations

import json
import re

from datetime import datetime, timezone
from html import escape as _html_escape
from xml.etree import ElementTree

SCHEMA = 'cloudos.ops/fleet-report/v1'

OK, WARNING, CRITICAL = 'ok', 'warning', 'critical'
ABSENT, SKIPPED = 'absent', 'skipped'
UNREACHABLE, ERROR = 'unreachable', 'error'

CHECK_STATUSES = (OK, WARNING, CRITICAL, ABSENT, SKIPPED)
HOST_STATUSES = (OK, WARNING, CRITICAL, ERROR, UNREACHABLE, SKIPPED)
FAIL_ON = (WARNING, CRITICAL, 'never')

# How bad a status is. Equal ranks are equally bad for ``fail_on``.
RANK = {OK: 0, ABSENT: 0, SKIPPED: 0, WARNING: 1, CRITICAL: 2, ERROR: 2, UNREACHABLE: 2}
# Display order, worst first (hosts in the grid, counts in the summary).
ORDER = (UNREACHABLE, ERROR, CRITICAL, WARNING, OK, ABSENT, SKIPPED)
SEVERITIES = (CRITICAL, WARNING, 'info')

LABELS = {
    OK: 'ok', WARNING: 'warning', CRITICAL: 'critical', ABSENT: 'absent', SKIPPED: 'skipped',
    UNREACHABLE: 'unreachable', ERROR: 'error',
}
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
_MD_SPECIAL = re.compile(r'([\\`*_{}\[\]<>|#!~])')
_METRICS_MAX = 4000


class ReportError(ValueError):
    """Bad input to the report builder; the message names the field and the value."""


# --------------------------------------------------------------------------- helpers

def rank(status):
    return RANK.get(status, 1)


def worst_status(statuses, default=OK):
    """The worst of ``statuses`` (``unreachable`` before ``error`` before ``critical`` ...)."""
    best = None
    for status in statuses:
        if best is None or rank(status) > rank(best) or (
                rank(status) == rank(best) and _order(status) < _order(best)):
            best = status
    return default if best is None else best


def _order(status):
    return ORDER.index(status) if status in ORDER else len(ORDER)


def reaches(status, fail_on):
    """True when ``status`` is at or above ``fail_on`` (``never`` is never reached)."""
    if fail_on == 'never':
        return False
    return rank(status) >= RANK[fail_on]


def _text(value):
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def parse_time(value):
    """A timezone-aware datetime from an ISO 8601 string (``Z`` accepted), or ``None``."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(('Z', 'z')):
        text = text[:-1] + '+00:00'
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def format_time(value):
    """``2025-11-26 06:50:12 UTC`` from an ISO string; the input unchanged if unparsable."""
    parsed = parse_time(value)
    if parsed is None:
        return _text(value)
    return parsed.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')


def format_duration(ms):
    """``850 ms``, ``12.3 s``, ``4 min 05 s``."""
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


# --------------------------------------------------------------------------- normalisation

def _finding(raw, check=None):
    if not isinstance(raw, dict):
        raw = {'message': _text(raw)}
    severity = raw.get('severity') if raw.get('severity') in SEVERITIES else (
        WARNING if raw.get('severity') is None else 'info')
    finding = {
        'check': _text(raw.get('check') or check or ''),
        'severity': severity,
        'message': _text(raw.get('message')),
        'action': _text(raw.get('action')),
    }
    for key in ('metric', 'value', 'threshold'):
        if raw.get(key) is not None:
            finding[key] = raw[key]
    return finding


def _check(name, raw):
    if not isinstance(raw, dict):
        raw = {'status': raw}
    status = raw.get('status')
    summary = _text(raw.get('summary'))
    if status not in CHECK_STATUSES:
        summary = ('unrecognised status %r; %s' % (status, summary)).rstrip('; ')
        status = WARNING
    findings = [_finding(f, name) for f in (raw.get('findings') or [])]
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
            checks[_text(name)] = _check(name, value)
    elif isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, dict) and item.get('name') is not None:
                checks[_text(item['name'])] = _check(item['name'], item)
    return checks


def host_entry(host, status=None, checks=None, findings=None, thresholds=None, checked_at=None,
               duration_ms=None, error=None):
    """A normalised host entry. ``status`` is raised to the worst of its checks."""
    checks = _checks(checks)
    if findings is None:
        flat = []
        for name, check in checks.items():
            flat.extend(check['findings'])
        findings = flat
    else:
        findings = [_finding(f) for f in findings]
    if status not in HOST_STATUSES:
        status = None
    computed = worst_status([c['status'] for c in checks.values()], default=OK)
    if status is None:
        status = computed
    elif status in (OK, WARNING, CRITICAL):
        status = worst_status([status, computed])
    findings.sort(key=lambda f: SEVERITIES.index(f['severity']))
    return {
        'host': _text(host),
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
            text = '\n'.join(line for line in _text(value).splitlines()
                             if line.strip() != '(traceback unavailable)').strip()
            if text and text not in parts:
                parts.append(text)
    text = '\n'.join(parts)
    return text[:2000] if text else ''


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
        reason = _text(result.get('skip_reason')) or 'skipped'
        return host_entry(host, SKIPPED, error=reason)
    data = result.get(key) if key in result else (result if 'checks' in result else None)
    if not isinstance(data, dict):
        msg = _error_text(result) or 'the check returned no %r result' % key
        return host_entry(host, ERROR, error=msg,
                          findings=[{'check': key, 'severity': CRITICAL,
                                     'message': 'The check failed: %s' % msg, 'action': ACTION_ERROR}])
    status = data.get('status')
    entry = host_entry(host, status if status in (OK, WARNING, CRITICAL) else None,
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
            seen.append(_text(name))
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
    hosts = sorted(hosts, key=lambda e: (_order(e['status']), e['host']))
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
        'kind': _text(kind),
        'title': _text(title),
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


# --------------------------------------------------------------------------- Markdown

def md(value):
    """Text safe inside a Markdown table cell: specials escaped, one line."""
    text = _XML_INVALID.sub('\ufffd', _text(value).replace('\r\n', '\n').replace('\r', '\n'))
    text = _MD_SPECIAL.sub(r'\\\1', text)
    return text.replace('&', '&amp;').replace('\n', '<br>')


def _md_table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(['---'] * len(header)) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def _value_threshold(finding):
    parts = []
    if finding.get('value') is not None:
        parts.append(_text(finding['value']))
    if finding.get('threshold') is not None:
        parts.append('threshold %s' % _text(finding['threshold']))
    return ' / '.join(parts)


def _verdict(summary):
    if summary['fail_on'] == 'never':
        return 'not enforced (fail_on: never)'
    if summary['fail_on_reached']:
        return 'FAILED: %d host(s) at or above %s' % (len(summary['failing_hosts']), summary['fail_on'])
    return 'passed: no host at or above %s' % summary['fail_on']


def render_markdown(report):
    summary = report['summary']
    run = report['run']
    out = ['# %s' % md(report['title']), '']
    out.append('- **Overall:** %s %s' % (SYMBOLS.get(summary['status'], ''), md(summary['status'].upper())))
    out.append('- **Verdict:** %s' % md(_verdict(summary)))
    out.append('- **Started:** %s' % md(format_time(run['started_at']) or 'unknown'))
    out.append('- **Duration:** %s' % md(format_duration(run['duration_ms']) or 'unknown'))
    out.append('- **Hosts:** %d (%s)' % (summary['hosts'], ', '.join(
        '%d %s' % (n, s) for s, n in summary['status_counts'].items() if n)))
    out.append('- **Checks:** %s' % (', '.join(
        '%d %s' % (n, s) for s, n in summary['check_counts'].items() if n) or 'none'))
    for key, value in run['metadata'].items():
        out.append('- **%s:** %s' % (md(key), md(value)))
    out.append('')
    out.append('## Hosts')
    out.append('')
    cols = report['checks']
    rows = []
    for entry in report['hosts']:
        row = [md(entry['host']), '**%s %s**' % (SYMBOLS[entry['status']], entry['status'])]
        for name in cols:
            check = entry['checks'].get(name)
            if check is None:
                row.append(UNREACHABLE if entry['status'] == UNREACHABLE else '')
            else:
                row.append('%s %s' % (SYMBOLS[check['status']], check['status']))
        rows.append(row)
    out.extend(_md_table(['Host', 'Status'] + [md(c) for c in cols], rows))
    out.append('')
    out.append('## Findings')
    out.append('')
    any_finding = False
    for entry in report['hosts']:
        if not entry['findings'] and not entry['error']:
            continue
        any_finding = True
        out.append('### %s (%s)' % (md(entry['host']), entry['status']))
        out.append('')
        if entry['error']:
            out.append('> %s' % md(entry['error']))
            out.append('')
        if entry['findings']:
            out.extend(_md_table(['Severity', 'Check', 'Finding', 'Value', 'Action'], [
                ['**%s**' % f['severity'], md(f['check']), md(f['message']), md(_value_threshold(f)), md(f['action'])]
                for f in entry['findings']]))
            out.append('')
    if not any_finding:
        out.append('No findings.')
        out.append('')
    out.append('## Thresholds')
    out.append('')
    if report['thresholds']:
        out.extend(_md_table(['Threshold', 'Value', 'Different on'], [
            [md(t['name']), md(t['value']), md(', '.join('%s: %s' % (h, _text(v)) for h, v in t['overrides'].items()))]
            for t in report['thresholds']]))
    else:
        out.append('No thresholds reported.')
    out.append('')
    return '\n'.join(out)


# --------------------------------------------------------------------------- HTML

def h(value):
    """Text escaped for HTML element content and quoted attribute values."""
    return _html_escape(_XML_INVALID.sub('\ufffd', _text(value)), quote=True)


_CSS = """
:root{--ok:#1b7f3b;--ok-bg:#d8f3e0;--warning:#8a5a00;--warning-bg:#ffe9a8;--critical:#9b1c1c;
--critical-bg:#fbc4c4;--absent:#4b5563;--absent-bg:#e5e7eb;--skipped:#6b7280;--skipped-bg:#f3f4f6;
--unreachable:#4c1d95;--unreachable-bg:#ddd0fb;--error:#7f1d1d;--error-bg:#f4a3a3;--line:#d0d5dd;--muted:#5b6472}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2433;margin:0;background:#f7f8fa}
main{max-width:1500px;margin:0 auto;padding:20px 28px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 14px}.meta span{margin-right:18px;white-space:nowrap}
.verdict{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600;margin:6px 0 10px}
.verdict.failed{background:var(--critical-bg);color:var(--critical)}.verdict.passed{background:var(--ok-bg);color:var(--ok)}
.verdict.never{background:var(--absent-bg);color:var(--absent)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border-radius:8px;padding:8px 14px;min-width:110px;border:1px solid var(--line);background:#fff}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.grid th.check{writing-mode:horizontal-tb;white-space:nowrap}
.gridwrap{overflow-x:auto;max-width:100%}
.grid th[scope=row]{white-space:nowrap}
.grid{font-size:13px}.grid td.cell{min-width:80px;max-width:112px}.grid td.span{max-width:none}
.grid td.span .sum{white-space:normal;max-width:none}
table.findings{width:100%}table.findings td.sev{width:90px}table.findings td.check{width:110px}
table.findings td.value{width:150px}table.findings td.action{width:40%}
.grid td.cell a,.grid td.hs a{color:inherit;text-decoration:none;display:block}
.st{font-weight:700;white-space:nowrap}
.sum{display:block;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:104px}
.card.zero{opacity:.55}
.st-ok{background:var(--ok-bg);color:var(--ok)}.st-warning{background:var(--warning-bg);color:var(--warning)}
.st-critical{background:var(--critical-bg);color:var(--critical)}.st-absent{background:var(--absent-bg);color:var(--absent)}
.st-skipped{background:var(--skipped-bg);color:var(--skipped);font-style:italic}
.st-unreachable{background:var(--unreachable-bg);color:var(--unreachable)}.st-error{background:var(--error-bg);color:var(--error)}
.st-none{background:#fff;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 14px;padding:0;list-style:none}
.legend li{padding:3px 10px;border-radius:12px;font-size:12px}
.findings td.action{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;white-space:pre-wrap}
.sev{font-weight:700;text-transform:uppercase;font-size:12px}
.sev-critical{color:var(--critical)}.sev-warning{color:var(--warning)}.sev-info{color:var(--muted)}
tr.f-critical td:first-child{border-left:4px solid var(--critical)}tr.f-warning td:first-child{border-left:4px solid #d99a00}
.hosterr{background:var(--error-bg);color:var(--error);padding:6px 10px;border-radius:6px;white-space:pre-wrap;
font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}
pre{background:#f1f3f6;padding:8px;overflow:auto;max-height:320px;font-size:12px}
.muted{color:var(--muted)}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}main{max-width:none;padding:0}details{display:none}}
"""


def _badge(status):
    return '<span class="st">%s %s</span>' % (h(SYMBOLS.get(status, '')), h(LABELS.get(status, status)))


def render_html(report, generator='cloudos.ops'):
    """A self-contained page (inline CSS, no script, no external asset)."""
    summary = report['summary']
    run = report['run']
    cols = report['checks']
    anchors = dict((e['host'], 'host-%d' % i) for i, e in enumerate(report['hosts']))
    out = []
    add = out.append
    add('<!DOCTYPE html>')
    add('<html lang="en"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add('<meta name="generator" content="%s">' % h(generator))
    add("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
    add('<title>%s \u2013 %s</title>' % (h(report['title']), h(summary['status'])))
    add('<style>%s</style></head><body><main>' % _CSS)
    add('<h1 id="title">%s</h1>' % h(report['title']))
    add('<p class="meta"><span>Started <b>%s</b></span><span>Finished <b>%s</b></span><span>Duration <b>%s</b></span>'
        '<span>Hosts <b>%d</b></span><span>Fail on <b>%s</b></span></p>' % (
            h(format_time(run['started_at']) or 'unknown'), h(format_time(run['finished_at']) or 'unknown'),
            h(format_duration(run['duration_ms']) or 'unknown'), summary['hosts'], h(summary['fail_on'])))
    verdict_class = 'never' if summary['fail_on'] == 'never' else ('failed' if summary['fail_on_reached'] else 'passed')
    add('<div class="verdict %s" id="verdict">Overall %s \u2014 %s</div>' % (
        verdict_class, h(summary['status'].upper()), h(_verdict(summary))))
    if run['metadata']:
        add('<p class="meta">%s</p>' % ''.join('<span>%s: <b>%s</b></span>' % (h(k), h(v)) for k, v in run['metadata'].items()))
    # Counts.
    add('<div class="cards" id="counts">')
    for status, count in summary['status_counts'].items():
        if count or status in (OK, WARNING, CRITICAL):
            add('<div class="card st-%s%s" data-status="%s"><b>%d</b>host%s %s</div>' % (
                status, '' if count else ' zero', status, count, '' if count == 1 else 's', h(status)))
    add('<div class="card"><b>%d</b>critical finding%s</div>' % (
        summary['finding_counts'][CRITICAL], '' if summary['finding_counts'][CRITICAL] == 1 else 's'))
    add('<div class="card"><b>%d</b>warning%s</div>' % (
        summary['finding_counts'][WARNING], '' if summary['finding_counts'][WARNING] == 1 else 's'))
    add('</div>')
    # Grid.
    add('<h2>Hosts \u00d7 checks</h2>')
    add('<ul class="legend" aria-label="legend">%s</ul>' % ''.join(
        '<li class="st-%s">%s %s</li>' % (s, h(SYMBOLS[s]), s) for s in (OK, WARNING, CRITICAL, ABSENT, SKIPPED, UNREACHABLE, ERROR)))
    add('<div class="gridwrap"><table class="grid" id="grid"><thead><tr><th>Host</th><th>Status</th>%s</tr></thead><tbody>' % ''.join(
        '<th class="check" scope="col" data-check="%s">%s</th>' % (h(c), h(c)) for c in cols))
    for entry in report['hosts']:
        anchor = anchors[entry['host']]
        cells = ['<tr class="host-row" data-host="%s" data-status="%s">' % (h(entry['host']), entry['status']),
                 '<th scope="row"><a href="#%s">%s</a></th>' % (anchor, h(entry['host'])),
                 '<td class="hs st-%s"><a href="#%s">%s</a></td>' % (entry['status'], anchor, _badge(entry['status']))]
        if entry['status'] in (UNREACHABLE, ERROR, SKIPPED) and not entry['checks']:
            cells.append('<td class="cell span st-%s" colspan="%d" data-check="*" title="%s">%s<span class="sum">%s</span></td>' % (
                entry['status'], max(1, len(cols)), h(entry['error']), _badge(entry['status']), h(entry['error'])))
        else:
            for name in cols:
                check = entry['checks'].get(name)
                if check is None:
                    cells.append('<td class="cell st-none" data-check="%s" data-status="none">'
                                 '<span class="muted">not run</span></td>' % h(name))
                    continue
                inner = '%s<span class="sum">%s</span>' % (_badge(check['status']), h(check['summary']))
                if check['findings']:
                    inner = '<a href="#%s">%s</a>' % (anchor, inner)
                cells.append('<td class="cell st-%s" data-check="%s" data-status="%s" title="%s">%s</td>' % (
                    check['status'], h(name), check['status'], h(check['summary']), inner))
        cells.append('</tr>')
        add(''.join(cells))
    add('</tbody></table></div>')
    # Findings.
    add('<h2>Findings</h2>')
    shown = 0
    for entry in report['hosts']:
        anchor = anchors[entry['host']]
        if not entry['findings'] and not entry['error']:
            continue
        shown += 1
        add('<section class="host" id="%s" data-host="%s">' % (anchor, h(entry['host'])))
        add('<h3><span class="st-%s" style="padding:2px 8px;border-radius:4px">%s</span> %s</h3>' % (
            entry['status'], _badge(entry['status']), h(entry['host'])))
        if entry['error'] and entry['status'] != UNREACHABLE:
            add('<div class="hosterr">%s</div>' % h(entry['error']))
        if entry['findings']:
            add('<table class="findings"><thead><tr><th>Severity</th><th>Check</th><th>Finding</th>'
                '<th>Value</th><th>Action</th></tr></thead><tbody>')
            for f in entry['findings']:
                add('<tr class="finding f-%s" data-check="%s"><td class="sev sev-%s">%s</td><td class="check">%s</td>'
                    '<td class="message">%s</td><td class="value">%s</td><td class="action">%s</td></tr>' % (
                        f['severity'], h(f['check']), f['severity'], h(f['severity']), h(f['check']),
                        h(f['message']), h(_value_threshold(f)), h(f['action'])))
            add('</tbody></table>')
        add('</section>')
    if not shown:
        add('<p class="muted" id="no-findings">No findings: every check is within its thresholds.</p>')
    # Thresholds.
    add('<h2>Thresholds</h2>')
    if report['thresholds']:
        add('<table class="thresholds" id="thresholds"><thead><tr><th>Threshold</th><th>Value</th>'
            '<th>Different on</th></tr></thead><tbody>')
        for t in report['thresholds']:
            add('<tr data-threshold="%s"><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                h(t['name']), h(t['name']), h(t['value']),
                h(', '.join('%s: %s' % (host, _text(v)) for host, v in t['overrides'].items()))))
        add('</tbody></table>')
    else:
        add('<p class="muted">No thresholds reported.</p>')
    # Per-host details: every check's summary and metrics, folded.
    add('<h2>Details</h2>')
    for entry in report['hosts']:
        if not entry['checks']:
            continue
        add('<details><summary>%s \u2014 %s, checked %s in %s</summary>' % (
            h(entry['host']), h(entry['status']), h(format_time(entry['checked_at']) or 'unknown'),
            h(format_duration(entry['duration_ms']) or 'unknown')))
        add('<table><thead><tr><th>Check</th><th>Status</th><th>Summary</th><th>Metrics</th></tr></thead><tbody>')
        for name, check in entry['checks'].items():
            metrics = json.dumps(check['metrics'], indent=1, sort_keys=True, default=str)
            if len(metrics) > _METRICS_MAX:
                metrics = metrics[:_METRICS_MAX] + '\n... (truncated; see report.json)'
            add('<tr><td>%s</td><td class="st-%s">%s</td><td>%s</td><td><pre>%s</pre></td></tr>' % (
                h(name), check['status'], _badge(check['status']), h(check['summary']), h(metrics)))
        add('</tbody></table></details>')
    add('<footer>Generated by %s \u00b7 %s \u00b7 report.json holds every value shown here.</footer>' % (
        h(generator), h(report['schema'])))
    add('</main></body></html>')
    return '\n'.join(out) + '\n'


# --------------------------------------------------------------------------- JUnit XML

def xml_text(value):
    return _XML_INVALID.sub('\ufffd', _text(value))


def _findings_text(findings):
    lines = []
    for f in findings:
        line = '[%s] %s' % (f['severity'].upper(), f['message'])
        if f.get('value') is not None or f.get('threshold') is not None:
            line += ' (%s)' % _value_threshold(f)
        if f['action']:
            line += '\n    action: %s' % f['action']
        lines.append(line)
    return '\n'.join(lines)


def junit_fail_level(fail_on):
    """Which check status makes a JUnit failure: ``warning`` only when the run fails on warnings."""
    return WARNING if fail_on == WARNING else CRITICAL


def render_junit(report):
    """JUnit XML: one suite per host, one test case per host x check.

    ``critical`` is a failure; ``warning`` is a failure only when ``fail_on`` is ``warning``
    (else a passing case with the findings in ``system-out``, so that CI does not go red on
    warnings by default); ``absent`` and ``skipped`` are skipped; an unreachable or errored
    host gives an error per check.
    """
    summary = report['summary']
    level = junit_fail_level(summary['fail_on'])
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
            status = check['status']
            if status in (ABSENT, SKIPPED):
                counts['skipped'] += 1
                ElementTree.SubElement(case, 'skipped', {'message': xml_text('%s: %s' % (status, check['summary']))})
            elif rank(status) >= RANK[level]:
                counts['failures'] += 1
                fail = ElementTree.SubElement(case, 'failure', {
                    'type': status, 'message': xml_text('%s: %s' % (status, check['summary']))})
                fail.text = xml_text(detail or check['summary'])
            elif detail or status != OK:
                out = ElementTree.SubElement(case, 'system-out')
                out.text = xml_text('%s: %s\n%s' % (status, check['summary'], detail)).rstrip()
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


RENDERERS = {
    'json': ('report.json', render_json),
    'markdown': ('report.md', render_markdown),
    'html': ('report.html', render_html),
    'junit': ('junit.xml', render_junit),
}


def render_all(report, formats=None):
    """``{format: (file name, text)}`` for each requested format."""
    formats = list(RENDERERS) if formats is None else formats
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ReportError('formats: unknown format(s) %s; known: %s' % (', '.join(map(repr, unknown)), ', '.join(RENDERERS)))
    return dict((f, (RENDERERS[f][0], RENDERERS[f][1](report))) for f in formats)
