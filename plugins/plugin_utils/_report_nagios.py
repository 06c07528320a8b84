# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as Nagios plugin output (nagios.txt) and as TAP (report.tap).

Controller-only and private to this collection: no compatibility promise. Reads the document
``_report_model.build_report`` made; pure (returns text, touches no file).

nagios.txt
  One line per host: ``<host><TAB><plugin output>``, the output as a Nagios/Icinga plugin prints
  it: ``STATE: text | perfdata``. The state of a host (and the plugin's exit code,
  :data:`EXIT_CODES`): ``ok``, ``absent`` -> OK (0); ``warning`` -> WARNING (1); ``critical`` ->
  CRITICAL (2); ``unreachable``, ``error``, ``skipped`` -> UNKNOWN (3): nobody knows whether the
  host is healthy. Perfdata: one gauge per check (``'system'=0;1;2;0;2``: 0 ok, absent or
  skipped, 1 warning, 2 critical) and the host's finding counts by severity and by change.

report.tap
  TAP version 14: one test per host x check, ``not ok`` at or above the JUnit fail level
  (``_report_junit.report_fail_level``: warnings fail unless the report says otherwise),
  ``# SKIP`` for absent and skipped checks, ``not ok`` for every check of an unreachable or
  errored host. A YAML block under a test lists its findings with their change since the last
  run, and the findings resolved since then.
"""

from __future__ import annotations

import json

from ansible_collections.cloudos.ops.plugins.module_utils._common import STATUS_RANK, status_rank
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_junit import report_fail_level, resolved_of
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import (
    ABSENT, CRITICAL, ERROR, OK, SKIPPED, UNREACHABLE, WARNING, clean)

STATES = {OK: 'OK', ABSENT: 'OK', WARNING: 'WARNING', CRITICAL: 'CRITICAL',
          UNREACHABLE: 'UNKNOWN', ERROR: 'UNKNOWN', SKIPPED: 'UNKNOWN'}
EXIT_CODES = {'OK': 0, 'WARNING': 1, 'CRITICAL': 2, 'UNKNOWN': 3}
GAUGE = {WARNING: 1, CRITICAL: 2}


def _one_line(value):
    return ' '.join(clean(value).replace('|', '/').split())


def _label(name):
    return "'%s'" % clean(name).replace("'", '').replace('=', '_')


def nagios_line(report, entry):
    """``(state, output)`` of one host, e.g. ``('CRITICAL', 'CRITICAL: ... | 'alerts'=2;1;2;0;2 ...')``."""
    state = STATES.get(entry['status'], 'UNKNOWN')
    counts = {CRITICAL: 0, WARNING: 0, 'info': 0}
    changes = {'new': 0, 'still': 0}
    for f in entry['findings']:
        counts[f['severity']] = counts.get(f['severity'], 0) + 1
        if f.get('change') in changes:
            changes[f['change']] += 1
    resolved = [f for f in (report.get('changes') or {}).get('resolved', []) if f['host'] == entry['host']]
    if entry['status'] in (UNREACHABLE, ERROR, SKIPPED):
        text = '%s %s' % (entry['host'], _one_line(entry['error'] or entry['status']))
    else:
        text = '%s %s: %d critical, %d warning' % (entry['host'], entry['status'], counts[CRITICAL], counts[WARNING])
    if 'changes' in report:
        text += '; %d new, %d resolved since the last run' % (changes['new'], len(resolved))
    worst = [f for f in entry['findings'] if f['severity'] in (CRITICAL, WARNING)]
    if worst:
        text += '; %s: %s' % (worst[0]['check'], _one_line(worst[0]['message']))
        if len(worst) > 1:
            text += ' (+%d more)' % (len(worst) - 1)
    if resolved:
        text += '; resolved: %s' % ', '.join('%s: %s' % (f['check'], _one_line(f['message'])) for f in resolved)
    perf = ['%s=%d;1;2;0;2' % (_label(name), GAUGE.get(check['status'], 0)) for name, check in entry['checks'].items()]
    perf.extend("'findings_%s'=%d;;;0;" % (sev, counts.get(sev, 0)) for sev in (CRITICAL, WARNING, 'info'))
    if 'changes' in report:
        perf.append("'findings_new'=%d;;;0;" % changes['new'])
        perf.append("'findings_resolved'=%d;;;0;" % len(resolved))
    return state, '%s: %s | %s' % (state, text, ' '.join(perf))


def render_nagios(report):
    """nagios.txt: ``<host>\\t<plugin output>`` per host, in the report's order."""
    return ''.join('%s\t%s\n' % (entry['host'], nagios_line(report, entry)[1]) for entry in report['hosts'])


def _tap_text(value):
    """One line of a test description: ``#`` escaped (it would start a directive)."""
    return _one_line(value).replace('\\', '\\\\').replace('#', '\\#')


def _yaml_string(value):
    return json.dumps(clean(value), ensure_ascii=False)


def _yaml_findings(name, findings):
    lines = ['  %s:' % name]
    for f in findings:
        lines.append('    - severity: %s' % f['severity'])
        lines.append('      message: %s' % _yaml_string(f['message']))
        for key in ('change', 'first_seen', 'streak'):
            if f.get(key) is not None:
                lines.append('      %s: %s' % (key, _yaml_string(f[key]) if isinstance(f[key], str) else f[key]))
        if f.get('action'):
            lines.append('      action: %s' % _yaml_string(f['action']))
    return lines


def render_tap(report):
    """report.tap: TAP version 14, one test per host x check."""
    level = report_fail_level(report)
    cols = report['checks'] or ['health']
    tests = []
    for entry in report['hosts']:
        names = cols if entry['status'] in (UNREACHABLE, ERROR) and not entry['checks'] else [
            c for c in cols if c in entry['checks']]
        for name in names:
            check = entry['checks'].get(name)
            title = '%s %s' % (entry['host'], name)
            findings = [f for f in entry['findings'] if f['check'] == name]
            resolved = resolved_of(report, entry['host'], name)
            if check is None:
                line = ('not ok', '%s: %s' % (title, entry['status']), '')
                findings = entry['findings']
            else:
                status = check['status']
                summary = '%s %s' % (status, check['summary']) if check['summary'] else status
                if status in (ABSENT, SKIPPED):
                    line = ('ok', title, ' # SKIP %s' % _tap_text(summary))
                elif status_rank(status) >= STATUS_RANK[level]:
                    line = ('not ok', '%s: %s' % (title, summary), '')
                else:
                    line = ('ok', '%s: %s' % (title, summary), '')
            block = []
            if findings or resolved:
                block = ['  ---']
                if findings:
                    block.extend(_yaml_findings('findings', findings))
                if resolved:
                    block.extend(_yaml_findings('resolved', resolved))
                block.append('  ...')
            tests.append((line, block))
    out = ['TAP version 14', '1..%d' % len(tests)]
    for number, ((result, description, directive), block) in enumerate(tests, 1):
        out.append('%s %d - %s%s' % (result, number, _tap_text(description), directive))
        out.extend(block)
    return '\n'.join(out) + '\n'
