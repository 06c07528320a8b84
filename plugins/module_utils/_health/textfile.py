# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's ``cloudos_health`` result as a node-exporter textfile (Prometheus text format 0.0.4).

Private to this collection: no compatibility promise for the Python names; the metric names are
public (docs/daily_health.md). ``cloudos_health`` writes it on the host (``textfile_dir``, see
:func:`export`); the ``cloudos.ops.health_textfile`` filter renders it on the controller:

``cloudos_health_check_status{check}``
    0 ok, absent or skipped; 1 warning; 2 critical (one series per check the host ran).
``cloudos_health_status``
    the host's status the same way (3 when the check itself failed: no result).
``cloudos_health_findings{severity}``
    findings of the host by severity (critical, warning, info).
``cloudos_health_last_run_timestamp_seconds``
    when the host was checked (unix time): alert on ``time() - ... > 26 * 3600`` for staleness.
``cloudos_health_duration_seconds``
    how long the check took.

:func:`textfile` is pure: a dict in, text out.
"""

from __future__ import annotations

import os
import time

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    CRITICAL, WARNING, FileCheckError, parse_time, read_checked, write_atomic)

FILE_NAME = 'cloudos_health.prom'
MAX_BYTES = 1024 * 1024

GAUGE = {WARNING: 1, CRITICAL: 2}
SEVERITIES = (CRITICAL, WARNING, 'info')


def _label(value):
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def textfile(health, now=None):
    """The textfile of one host. ``health`` is the ``health`` key of a ``cloudos_health`` result
    (or the registered result itself); anything else gives ``cloudos_health_status 3``.
    ``now`` (unix seconds) stands in for a missing ``checked_at``."""
    if isinstance(health, dict) and 'health' in health and 'checks' not in health:
        health = health['health']
    lines = []

    def metric(name, kind, text, samples):
        lines.append('# HELP %s %s' % (name, text))
        lines.append('# TYPE %s %s' % (name, kind))
        for labels, value in samples:
            lines.append('%s%s %s' % (name, ('{%s}' % ','.join('%s="%s"' % (k, _label(v)) for k, v in labels))
                                      if labels else '', _format(value)))

    if not isinstance(health, dict) or not isinstance(health.get('checks'), dict):
        metric('cloudos_health_status', 'gauge', 'The host: 0 ok, 1 warning, 2 critical, 3 no result.', [((), 3)])
        if now is not None:
            metric('cloudos_health_last_run_timestamp_seconds', 'gauge', 'When the host was last checked (unix time).',
                   [((), now)])
        return '\n'.join(lines) + '\n'
    checks = health['checks']
    statuses = [(name, (c.get('status') if isinstance(c, dict) else c)) for name, c in checks.items()]
    worst = max([GAUGE.get(s, 0) for dummy, s in statuses] + [GAUGE.get(health.get('status'), 0)])
    metric('cloudos_health_check_status', 'gauge', 'Each check: 0 ok, absent or skipped, 1 warning, 2 critical.',
           [((('check', name),), GAUGE.get(status, 0)) for name, status in statuses])
    metric('cloudos_health_status', 'gauge', 'The host: 0 ok, 1 warning, 2 critical, 3 no result.', [((), worst)])
    counts = dict((s, 0) for s in SEVERITIES)
    for finding in health.get('findings') or []:
        severity = finding.get('severity') if isinstance(finding, dict) else None
        counts[severity if severity in counts else 'info'] += 1
    metric('cloudos_health_findings', 'gauge', 'Findings of the last check by severity.',
           [((('severity', s),), counts[s]) for s in SEVERITIES])
    checked = parse_time(health.get('checked_at')) if health.get('checked_at') else None
    stamp = checked.timestamp() if checked else now
    if stamp is not None:
        metric('cloudos_health_last_run_timestamp_seconds', 'gauge', 'When the host was last checked (unix time).',
               [((), stamp)])
    duration = _number(health.get('duration_ms'))
    if duration is not None:
        metric('cloudos_health_duration_seconds', 'gauge', 'How long the last check took.', [((), duration / 1000.0)])
    return '\n'.join(lines) + '\n'


def _format(value):
    if isinstance(value, float):
        return repr(round(value, 3)) if value != int(value) else '%d' % value
    return str(value)


def export(module, report, now=None):
    """Write ``report`` as ``<textfile_dir>/cloudos_health.prom`` when the option is set.

    The result keys to add to the module's: ``textfile`` (``path``, ``changed``), ``changed``
    and, under ``--diff``, ``diff``. The file is replaced atomically (the collector never reads
    half a file) with mode 0644, and only when its text changes; in check mode nothing is
    written. A ``textfile_dir`` that is not a directory, or a ``cloudos_health.prom`` that is
    not a regular file, fails the module naming the option and the path.
    """
    directory = module.params.get('textfile_dir')
    if not directory:
        return {}
    path = os.path.join(directory, FILE_NAME)
    if not os.path.isdir(directory):
        module.fail_json(msg='textfile_dir %s is not a directory' % directory, health=report)
    try:
        before = read_checked(path, max_bytes=MAX_BYTES, name='textfile_dir')
    except FileCheckError as exc:
        module.fail_json(msg=str(exc), health=report)
    after = textfile(report, now=time.time() if now is None else now)
    changed = before != after
    result = {'changed': changed, 'textfile': {'path': path, 'changed': changed}}
    if module._diff and changed:
        result['diff'] = {'before_header': path, 'after_header': path, 'before': before or '', 'after': after}
    if changed and not module.check_mode:
        try:
            write_atomic(path, after, mode=0o644, move=module.atomic_move)
        except OSError as exc:
            module.fail_json(msg='textfile_dir: cannot write %s: %s' % (path, exc.strerror or exc), health=report)
    return result
