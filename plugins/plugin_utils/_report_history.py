# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""History of fleet reports: this run compared with the previous complete run.

Controller-only and private to this collection: no compatibility promise for the Python
names; the fields they add to the document (``change``, ``first_seen``, ``streak`` on each
finding, ``previous_run`` and ``changes`` at the top) are part of
``cloudos.ops/fleet-report/v1`` (docs/schemas/fleet-report-v1.schema.json).

Finding identity
  A finding is the same finding in two runs when its host, its check and its *key* are the
  same. The key is the finding's ``metric`` when it has one; else its message with every number
  replaced by ``#`` and runs of white space folded, so ``disk 86% used`` and ``disk 87% used``
  are one finding whose value changed. Two findings of one host and check with the same key are
  told apart by their order (``#2``, ``#3``...).

Change
  ``new``: not in the previous run (every finding is new when there is no previous run);
  ``still``: in the previous run too (``first_seen`` is carried over, ``streak`` counts the
  consecutive runs it was present, this one included); ``resolved``: in the previous run, not in
  this one, on a host whose check ran this time (a host that is unreachable now or whose check
  was skipped resolves nothing). Resolved findings are listed in ``changes.resolved`` only.

Everything here is pure (report dicts in, report dicts out) except :func:`read_report`, which
reads one file. The action plugin chooses the previous run (:func:`previous_run_dir`) and the
runs to prune (:func:`prune_candidates`) from directory names it lists.
"""

from __future__ import annotations

import json
import re

from ansible_collections.cloudos.ops.plugins.module_utils._common import CRITICAL, SKIPPED, WARNING, parse_time, rfc3339
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import SCHEMA

# The name of a run directory: 2025-11-26T065012Z (what the roles name them).
RUN_ID = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z$')
_NUMBER = re.compile(r'[-+]?[0-9]+(?:[.,][0-9]+)*')
_SPACE = re.compile(r'\s+')
NEW, STILL, RESOLVED = 'new', 'still', 'resolved'
ALERTING = (CRITICAL, WARNING)


def is_run_id(name):
    return bool(RUN_ID.match(name or ''))


def finding_key(finding):
    """The stable part of a finding's identity (see the module documentation)."""
    metric = finding.get('metric')
    if metric not in (None, ''):
        return 'metric:%s' % (metric if isinstance(metric, str) else json.dumps(metric, sort_keys=True, default=str))
    message = _NUMBER.sub('#', finding.get('message') or '')
    return 'message:%s' % _SPACE.sub(' ', message).strip().lower()


def identities(findings):
    """``[(identity, finding)]`` for findings that carry their ``host``; duplicates numbered."""
    seen = {}
    out = []
    for finding in findings:
        base = '%s|%s|%s' % (finding.get('host', ''), finding.get('check', ''), finding_key(finding))
        seen[base] = seen.get(base, 0) + 1
        out.append((base if seen[base] == 1 else '%s#%d' % (base, seen[base]), finding))
    return out


def is_complete(data):
    """A report another run can be compared with: a fleet report with its hosts and findings."""
    return (isinstance(data, dict) and data.get('schema') == SCHEMA and isinstance(data.get('hosts'), list)
            and isinstance(data.get('findings'), list) and isinstance(data.get('run'), dict))


def read_report(path):
    """The parsed report at ``path``, or None when it is missing, partial or not a fleet report."""
    try:
        with open(path, 'rb') as handle:
            data = json.loads(handle.read().decode('utf-8'))
    except (OSError, ValueError):
        return None
    return data if is_complete(data) else None


def previous_run_dir(names, current, load):
    """The newest run directory among ``names`` (not ``current``) whose report ``load(name)``
    returns (a complete one); ``(name, report)`` or ``(None, None)``. Only names that are run
    ids count; a run named after ``current`` (a clock set back) is not "previous"."""
    for name in sorted((n for n in names if is_run_id(n) and n != current), reverse=True):
        if is_run_id(current) and name > current:
            continue
        data = load(name)
        if data is not None:
            return name, data
    return None, None


def prune_candidates(names, keep, current, protected=()):
    """Run directories to remove so that ``keep`` runs stay (the newest, ``current`` included).
    Only names that are run ids; never ``current`` nor a name in ``protected`` (what ``latest``
    points at). ``keep`` 0 or less keeps everything."""
    if keep is None or keep <= 0:
        return []
    runs = sorted((n for n in set(names) if is_run_id(n)), reverse=True)
    kept = set([current]) | set(protected)
    budget = keep - len([n for n in runs if n in kept])
    out = []
    for name in runs:
        if name in kept:
            continue
        if budget > 0:
            budget -= 1
            continue
        out.append(name)
    return sorted(out)


def run_time(report):
    """When a report's run happened (RFC 3339), from started_at or finished_at."""
    run = report.get('run') or {}
    for key in ('started_at', 'finished_at'):
        moment = parse_time(run.get(key)) if run.get(key) else None
        if moment is not None:
            return rfc3339(moment)
    return None


def _checked(entry, check, columns):
    """Whether a finding of ``check`` on this host would have shown this time (so that its absence
    means resolved): the host answered, and the check ran (not skipped) or is no check of the
    report at all (synthetic findings such as ``connection``)."""
    if entry.get('status') in ('unreachable', 'error', SKIPPED):
        return False
    found = (entry.get('checks') or {}).get(check)
    if found is None:
        return check not in columns
    return found.get('status') != SKIPPED


def compare(report, previous, previous_id=None, previous_path=None):
    """Annotate ``report`` (changed in place and returned) with the comparison with ``previous``
    (a complete report, or None when there is no history)."""
    now = run_time(report) or (report.get('run') or {}).get('finished_at')
    before = dict(identities(previous['findings'])) if previous else {}
    after = identities(report['findings'])
    current_ids = set(pair[0] for pair in after)
    counts = {NEW: 0, STILL: 0, RESOLVED: 0}
    lists = {NEW: [], STILL: [], RESOLVED: []}
    previous_time = run_time(previous) if previous else None
    for ident, finding in after:
        old = before.get(ident)
        if old is None:
            finding.update(change=NEW, first_seen=now, streak=1)
        else:
            first = old.get('first_seen') if parse_time(old.get('first_seen')) else previous_time
            streak = old.get('streak') if isinstance(old.get('streak'), int) and old.get('streak') > 0 else 1
            finding.update(change=STILL, first_seen=first or now, streak=streak + 1)
        counts[finding['change']] += 1
        lists[finding['change']].append(_brief(finding))
    # The same annotations on each host's own findings (they are the same findings, host-less).
    for entry in report['hosts']:
        host_findings = [dict(f, host=entry['host']) for f in entry['findings']]
        for (ident, dummy), finding in zip(identities(host_findings), entry['findings']):
            match = [f for i, f in after if i == ident]
            if match:
                for key in ('change', 'first_seen', 'streak'):
                    finding[key] = match[0][key]
    hosts_now = dict((e['host'], e) for e in report['hosts'])
    hosts_before = [e.get('host') for e in previous['hosts']] if previous else []
    if previous:
        for ident, finding in identities(previous['findings']):
            if ident in current_ids or finding.get('host') not in hosts_now:
                continue
            if not _checked(hosts_now[finding.get('host')], finding.get('check'), report.get('checks') or []):
                continue
            item = _brief(finding)
            item.update(change=RESOLVED, first_seen=finding.get('first_seen') or previous_time,
                        streak=finding.get('streak') if isinstance(finding.get('streak'), int) else 1)
            counts[RESOLVED] += 1
            lists[RESOLVED].append(item)
    added = sorted(h for h in hosts_now if previous and h not in hosts_before)
    removed = sorted(h for h in hosts_before if h not in hosts_now) if previous else []
    new_alerting = [f for f in lists[NEW] if f['severity'] in ALERTING]
    report['previous_run'] = None if previous is None else {
        'run_id': previous_id, 'path': previous_path,
        'started_at': (previous.get('run') or {}).get('started_at'),
        'finished_at': (previous.get('run') or {}).get('finished_at'),
        'status': (previous.get('summary') or {}).get('status'),
    }
    report['changes'] = {
        'history': previous is not None,
        'changed': bool(new_alerting or lists[RESOLVED] or added or removed),
        'counts': {'new': counts[NEW], 'new_critical': len([f for f in new_alerting if f['severity'] == CRITICAL]),
                   'new_warning': len([f for f in new_alerting if f['severity'] == WARNING]),
                   'still': counts[STILL], 'resolved': counts[RESOLVED],
                   'hosts_added': len(added), 'hosts_removed': len(removed)},
        'new': lists[NEW],
        'still': lists[STILL],
        'resolved': lists[RESOLVED],
        'hosts_added': added,
        'hosts_removed': removed,
    }
    return report


def _brief(finding):
    item = dict((k, finding[k]) for k in ('host', 'check', 'severity', 'message', 'action') if k in finding)
    for key in ('metric', 'value', 'threshold', 'change', 'first_seen', 'streak'):
        if finding.get(key) is not None:
            item[key] = finding[key]
    return item


def headline(changes):
    """One line: ``2 new (1 critical), 1 resolved, 3 still failing; host web-2 appeared``."""
    if changes is None:
        return ''
    counts = changes['counts']
    if not changes['history']:
        return 'No previous run to compare with: every finding is new (%d).' % counts['new']
    parts = ['%d new (%d critical, %d warning)' % (counts['new'], counts['new_critical'], counts['new_warning']),
             '%d resolved' % counts['resolved'], '%d still failing' % counts['still']]
    if changes['hosts_added']:
        parts.append('appeared: %s' % ', '.join(changes['hosts_added']))
    if changes['hosts_removed']:
        parts.append('disappeared: %s' % ', '.join(changes['hosts_removed']))
    return ', '.join(parts) + '.'


def still_line(finding):
    """``since 2025-11-25T06:50:12Z, 3 runs``."""
    return 'since %s, %d run%s' % (finding.get('first_seen') or 'unknown', finding.get('streak') or 1,
                                   '' if finding.get('streak') == 1 else 's')
