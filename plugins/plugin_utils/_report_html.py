# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page (inline CSS, no script, no external asset).

Controller-only and private to this collection: no compatibility promise. Reads the document
``_report_model.build_report`` made; pure (returns text, touches no file).
"""

from __future__ import annotations

import json

from html import escape as _html_escape

from ansible_collections.cloudos.ops.plugins.plugin_utils._report_history import headline, still_line
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import (
    ABSENT, CRITICAL, ERROR, OK, SKIPPED, SYMBOLS, UNREACHABLE, WARNING, clean, format_ms, format_time, text,
    value_threshold, verdict)

_METRICS_MAX = 4000


def h(value):
    """Text escaped for HTML element content and quoted attribute values."""
    return _html_escape(clean(value), quote=True)


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
.grid{font-size:13px}.grid td.cell{min-width:90px;max-width:180px}.grid td.span{max-width:none}
.grid td.span .sum{white-space:normal;max-width:none}
table.findings{width:100%}table.findings td.sev{width:90px}table.findings td.check{width:110px}
table.findings td.value{width:150px}table.findings td.action{width:40%}
.grid td.cell a,.grid td.hs a{color:inherit;text-decoration:none;display:block}
.st{font-weight:700;white-space:nowrap}
.sum{display:block;font-size:12px;white-space:normal;overflow-wrap:anywhere}
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
#changes{background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px 14px 10px;margin:10px 0 18px}
#changes h2{margin-top:8px}#changes ul{margin:4px 0 8px;padding-left:20px}
.chg{font-weight:700;text-transform:uppercase;font-size:11px;padding:1px 6px;border-radius:4px;margin-right:4px}
.chg-new{background:var(--critical-bg);color:var(--critical)}.chg-resolved{background:var(--ok-bg);color:var(--ok)}
.chg-still{background:var(--warning-bg);color:var(--warning)}
@media print{body{background:#fff;font-size:11px}main{max-width:none;padding:0}details{display:none}
.gridwrap{overflow:visible}.grid td.cell{max-width:none}a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}tr,section.host{break-inside:avoid}}
"""


def _badge(status):
    return '<span class="st">%s %s</span>' % (h(SYMBOLS.get(status, '')), h(status))


def changes_section(report):
    """The "Changes since the last run" block ('' when the report has no history data)."""
    changes = report.get('changes')
    if changes is None:
        return ''
    out = ['<section id="changes" data-history="%s"><h2>Changes since the last run</h2>' % (
        'yes' if changes['history'] else 'no')]
    previous = report.get('previous_run')
    if previous:
        out.append('<p class="meta" id="previous-run">Compared with run <b>%s</b> (finished %s). %s</p>' % (
            h(previous.get('run_id') or previous.get('path') or '?'), h(format_time(previous.get('finished_at')) or 'unknown'),
            h(headline(changes))))
    else:
        out.append('<p class="meta" id="previous-run">%s</p>' % h(headline(changes)))
    groups = [
        ('new', 'New', [f for f in changes['new'] if f['severity'] in (CRITICAL, WARNING)] if changes['history'] else []),
        ('resolved', 'Resolved', changes['resolved']),
        ('still', 'Still failing', changes['still']),
    ]
    for key, label, findings in groups:
        if not findings:
            continue
        out.append('<h3>%s (%d)</h3><ul class="changes-%s">' % (label, len(findings), key))
        for f in findings:
            extra = ' <span class="muted">(%s)</span>' % h(still_line(f)) if key == 'still' else ''
            out.append('<li class="change" data-change="%s" data-host="%s" data-check="%s"><span class="chg chg-%s">%s</span>'
                       '<span class="sev sev-%s">%s</span> <b>%s</b> %s: %s%s</li>' % (
                           key, h(f['host']), h(f['check']), key, h(key), h(f['severity']), h(f['severity']),
                           h(f['host']), h(f['check']), h(f['message']), extra))
        out.append('</ul>')
    for key, label in (('hosts_added', 'Hosts that appeared'), ('hosts_removed', 'Hosts that disappeared')):
        if changes[key]:
            out.append('<p id="%s"><b>%s:</b> %s</p>' % (key, label, h(', '.join(changes[key]))))
    out.append('</section>')
    return '\n'.join(out)


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
    changes = changes_section(report)
    if changes:
        add(changes)
    add('<p class="meta"><span>Started <b>%s</b></span><span>Finished <b>%s</b></span><span>Duration <b>%s</b></span>'
        '<span>Hosts <b>%d</b></span><span>Fail on <b>%s</b></span></p>' % (
            h(format_time(run['started_at']) or 'unknown'), h(format_time(run['finished_at']) or 'unknown'),
            h(format_ms(run['duration_ms']) or 'unknown'), summary['hosts'], h(summary['fail_on'])))
    verdict_class = 'never' if summary['fail_on'] == 'never' else ('failed' if summary['fail_on_reached'] else 'passed')
    add('<div class="verdict %s" id="verdict">Overall %s \u2014 %s</div>' % (
        verdict_class, h(summary['status'].upper()), h(verdict(summary))))
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
                change = ''
                if f.get('change') == 'new':
                    change = '<span class="chg chg-new">new</span> '
                elif f.get('change') == 'still':
                    change = '<span class="chg chg-still">%s</span> ' % h(still_line(f))
                add('<tr class="finding f-%s" data-check="%s"%s><td class="sev sev-%s">%s</td><td class="check">%s</td>'
                    '<td class="message">%s%s</td><td class="value">%s</td><td class="action">%s</td></tr>' % (
                        f['severity'], h(f['check']), (' data-change="%s"' % h(f['change'])) if f.get('change') else '',
                        f['severity'], h(f['severity']), h(f['check']),
                        change, h(f['message']), h(value_threshold(f)), h(f['action'])))
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
                h(', '.join('%s: %s' % (host, text(v)) for host, v in t['overrides'].items()))))
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
            h(format_ms(entry['duration_ms']) or 'unknown')))
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
