# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as Markdown: a summary for tickets and chat.

Controller-only and private to this collection: no compatibility promise. Reads the document
``_report_model.build_report`` made; pure (returns text, touches no file).
"""

from __future__ import annotations

import re

from ansible_collections.cloudos.ops.plugins.plugin_utils._report_history import headline, still_line
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import (
    SYMBOLS, UNREACHABLE, clean, format_ms, format_time, text, value_threshold, verdict)

_MD_SPECIAL = re.compile(r'([\\`*_{}\[\]<>|#!~])')
# An ampersand that would start a character reference (&amp; &#38;): escaped; any other stays as
# it is, so that URLs read the same in the raw text as rendered (?a=1&b=2).
_MD_ENTITY = re.compile(r'&(?=#?[A-Za-z0-9]+;)')


def md(value):
    """Text safe inside a Markdown table cell: specials escaped, one line."""
    out = clean(text(value).replace('\r\n', '\n').replace('\r', '\n'))
    out = _MD_SPECIAL.sub(r'\\\1', out)
    return _MD_ENTITY.sub('&amp;', out).replace('\n', '<br>')


def _md_table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(['---'] * len(header)) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def changes_section(report):
    """Lines of "Changes since the last run" (none when the report has no history data)."""
    changes = report.get('changes')
    if changes is None:
        return []
    out = ['## Changes since the last run', '']
    previous = report.get('previous_run')
    if previous:
        out.append('Compared with run %s (finished %s). %s' % (
            md(previous.get('run_id') or previous.get('path') or '?'),
            md(format_time(previous.get('finished_at')) or 'unknown'), md(headline(changes))))
    else:
        out.append(md(headline(changes)))
    out.append('')
    sections = [
        ('New', [f for f in changes['new'] if f['severity'] in ('critical', 'warning')] if changes['history'] else []),
        ('Resolved', changes['resolved']),
        ('Still failing', changes['still']),
    ]
    for label, findings in sections:
        if not findings:
            continue
        out.append('### %s (%d)' % (label, len(findings)))
        out.append('')
        for f in findings:
            extra = ' (%s)' % md(still_line(f)) if f.get('change') == 'still' else ''
            out.append('- **%s** %s %s: %s%s' % (
                md(f.get('change', '')), md(f['severity']), md('%s/%s' % (f['host'], f['check'])), md(f['message']), extra))
        out.append('')
    for label, key in (('Hosts that appeared', 'hosts_added'), ('Hosts that disappeared', 'hosts_removed')):
        if changes[key]:
            out.append('- **%s:** %s' % (label, md(', '.join(changes[key]))))
            out.append('')
    return out


def render_markdown(report):
    summary = report['summary']
    run = report['run']
    out = ['# %s' % md(report['title']), '']
    out.extend(changes_section(report))
    out.append('- **Overall:** %s %s' % (SYMBOLS.get(summary['status'], ''), md(summary['status'].upper())))
    out.append('- **Verdict:** %s' % md(verdict(summary)))
    out.append('- **Started:** %s' % md(format_time(run['started_at']) or 'unknown'))
    out.append('- **Duration:** %s' % md(format_ms(run['duration_ms']) or 'unknown'))
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
                ['**%s**' % f['severity'], md(f['check']), md(f['message']), md(value_threshold(f)), md(f['action'])]
                for f in entry['findings']]))
            out.append('')
    if not any_finding:
        out.append('No findings.')
        out.append('')
    out.append('## Thresholds')
    out.append('')
    if report['thresholds']:
        out.extend(_md_table(['Threshold', 'Value', 'Different on'], [
            [md(t['name']), md(t['value']), md(', '.join('%s: %s' % (h, text(v)) for h, v in t['overrides'].items()))]
            for t in report['thresholds']]))
    else:
        out.append('No thresholds reported.')
    out.append('')
    return '\n'.join(out)
