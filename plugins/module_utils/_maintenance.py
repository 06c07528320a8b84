# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weekly maintenance: the health gate between hosts, capacity trends, and each host's report entry.

Private to this collection: no compatibility promise. Pure functions, used by the
``cloudos.ops.maintenance_*`` filters and the ``cloudos_capacity_info`` module:

* :func:`health_gate` compares a host's ``cloudos_health`` record before and after its
  maintenance and says whether the rollout must stop, and why;
* :func:`capacity` runs ``cloudos_capacity_info``'s range queries through a
  ``_prometheus.PrometheusClient``; :func:`series_summary` turns one series into
  first/last/min/max and a linear trend per day (with days until a percentage reaches 100);
* :func:`host_report` turns the registered results of the role's tasks into a host entry of
  the fleet report (``status``, ``checks``, ``findings``), the shape ``_report`` renders.
"""

from __future__ import annotations

RANK = {'ok': 0, 'absent': 0, 'skipped': 0, 'warning': 1, 'critical': 2}
GATES = ('worse', 'critical', 'never')


class MaintenanceError(ValueError):
    """Bad input; the message names the parameter and the value."""


def _findings(health):
    return [f for f in (health or {}).get('findings') or [] if isinstance(f, dict)]


def _key(finding):
    return (finding.get('check'), finding.get('severity'), finding.get('message'))


def health_gate(before, after, gate='worse', ignore_checks=None):
    """Whether a host ends worse than it started.

    ``gate``: ``worse`` - stop when the host's status is worse after than before (ok ->
    warning, warning -> critical...), or when a new critical finding appeared;
    ``critical`` - stop only when the host is critical after and was not before, or has a
    new critical finding; ``never`` - report, never stop. Sections in ``ignore_checks`` are
    left out of the comparison (e.g. ``resources``, whose CPU sample is noisy).
    Returns ``{stop, before, after, reason, new_findings, resolved_findings}``.
    """
    if gate not in GATES:
        raise MaintenanceError('maintenance_health_gate must be one of %s, got %r' % (', '.join(GATES), gate))
    ignore = set(ignore_checks or [])

    def status(health):
        checks = (health or {}).get('checks') or {}
        if checks:
            ranks = [RANK.get((c or {}).get('status'), 1) for n, c in checks.items() if n not in ignore]
            worst = max(ranks) if ranks else 0
            return [k for k, v in RANK.items() if v == worst and k in ('ok', 'warning', 'critical')][0]
        return (health or {}).get('status') or 'ok'

    if not isinstance(before, dict) or not isinstance(after, dict):
        missing = 'before' if not isinstance(before, dict) else 'after'
        return {'stop': gate != 'never', 'before': status(before) if isinstance(before, dict) else None,
                'after': status(after) if isinstance(after, dict) else None,
                'reason': 'no health record %s the maintenance' % missing, 'new_findings': [], 'resolved_findings': []}
    was, now = status(before), status(after)
    old = set(_key(f) for f in _findings(before) if f.get('check') not in ignore)
    new = [f for f in _findings(after) if f.get('check') not in ignore and _key(f) not in old]
    current = set(_key(f) for f in _findings(after))
    resolved = [f for f in _findings(before) if f.get('check') not in ignore and _key(f) not in current]
    new_critical = [f for f in new if f.get('severity') == 'critical']
    reasons = []
    if gate == 'worse' and RANK[now] > RANK[was]:
        reasons.append('health went from %s to %s' % (was, now))
    if gate == 'critical' and now == 'critical' and was != 'critical':
        reasons.append('health went from %s to critical' % was)
    if gate != 'never' and new_critical and not reasons:
        reasons.append('%d new critical finding(s)' % len(new_critical))
    if reasons and new:
        reasons.append('; '.join('%s: %s' % (f.get('check'), f.get('message')) for f in new[:5]))
    return {'stop': bool(reasons), 'before': was, 'after': now, 'reason': ': '.join(reasons) if reasons else '',
            'new_findings': new, 'resolved_findings': resolved}


# --------------------------------------------------------------------------- capacity

_FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|proc|sysfs|devtmpfs|ramfs|autofs"'
#: What ``cloudos_capacity_info`` watches by default: disk use per mount point and memory use.
CAPACITY_QUERIES = {
    'disk': '100 * (1 - node_filesystem_avail_bytes{%s} / node_filesystem_size_bytes{%s})' % (_FS, _FS),
    'memory': '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)',
}


def capacity(client, params, now):
    """``cloudos_capacity_info``'s ``capacity``: range queries through ``client`` (a
    ``_prometheus.PrometheusClient``) over ``params['days']`` up to ``now`` (Unix time), one
    :func:`series_summary` per series and :func:`capacity_findings`. Raises
    :class:`MaintenanceError` naming the query that failed."""
    from ansible_collections.cloudos.ops.plugins.module_utils._prometheus import PrometheusError, effective_step
    for name in ('days', 'step'):
        if params[name] <= 0:
            raise MaintenanceError('%s must be positive, got %r' % (name, params[name]))
    queries = params.get('queries') or CAPACITY_QUERIES
    end = int(now)
    start = end - params['days'] * 86400
    step = effective_step(start, end, params['step'])
    series = {}
    for name in sorted(queries):
        try:
            items = client.query_range(queries[name], start, end, step)
        except PrometheusError as exc:
            raise MaintenanceError('Prometheus query %s failed: %s' % (name, exc.message))
        for item in items:
            label = (item.get('metric') or {}).get(params['series_label'])
            series['%s:%s' % (name, label) if label else name] = series_summary(item.get('values'))
    findings = capacity_findings(series, params['warn_days'], params['critical_days'], params['min_span_days'])
    return {'days': params['days'], 'step': step, 'series': series, 'findings': findings}


def series_summary(values, full=100.0):
    """``[[t, "v"], ...]`` (a Prometheus matrix series) -> summary with trend per day.

    ``days_to_full`` is when a rising percentage reaches ``full`` by a least-squares line,
    ``None`` when flat or falling or with fewer than two points.
    """
    points = []
    for pair in values or []:
        try:
            points.append((float(pair[0]), float(pair[1])))
        except (TypeError, ValueError, IndexError):
            continue
    if not points:
        return {'points': 0}
    points.sort()
    ys = [p[1] for p in points]
    out = {
        'points': len(points), 'first': round(ys[0], 2), 'last': round(ys[-1], 2),
        'min': round(min(ys), 2), 'max': round(max(ys), 2), 'avg': round(sum(ys) / len(ys), 2),
        'span_days': round((points[-1][0] - points[0][0]) / 86400.0, 2),
        'trend_per_day': None, 'days_to_full': None,
    }
    if len(points) >= 2 and points[-1][0] > points[0][0]:
        n = float(len(points))
        mean_t = sum(p[0] for p in points) / n
        mean_y = sum(ys) / n
        var = sum((p[0] - mean_t) ** 2 for p in points)
        if var > 0:
            slope = sum((p[0] - mean_t) * (p[1] - mean_y) for p in points) / var  # per second
            per_day = slope * 86400.0
            out['trend_per_day'] = round(per_day, 4)
            if per_day > 1e-9 and full is not None and ys[-1] < full:
                out['days_to_full'] = round((full - ys[-1]) / per_day, 1)
    return out


def capacity_findings(summaries, warn_days=30, critical_days=7, min_span_days=7):
    """Findings for series whose ``days_to_full`` is below the thresholds.

    A trend drawn from less than ``min_span_days`` of data is not extrapolated into a finding
    (a few hours of a young Prometheus say nothing about next month).
    """
    findings = []
    for name, summary in sorted((summaries or {}).items()):
        days = summary.get('days_to_full')
        if days is None or (summary.get('span_days') or 0) < min_span_days:
            continue
        if days < critical_days or days < warn_days:
            findings.append({
                'check': 'capacity', 'severity': 'critical' if days < critical_days else 'warning',
                'message': '%s is at %.1f %% and grows %.2f points a day: full in about %.0f days'
                           % (name, summary['last'], summary['trend_per_day'], days),
                'action': 'Plan capacity: free space or grow the volume before it fills (guide: monthly capacity planning)',
                'metric': name, 'value': days, 'threshold': critical_days if days < critical_days else warn_days,
            })
    return findings


# --------------------------------------------------------------------------- the report

def _ran(result):
    return isinstance(result, dict) and result.get('skipped') is not True and result != {}


def _check(status, summary, metrics=None, findings=None):
    return {'status': status, 'summary': summary, 'metrics': metrics or {}, 'findings': findings or []}


def _human(value):
    value = float(value or 0)
    for unit in ('B', 'kB', 'MB', 'GB', 'TB'):
        if abs(value) < 1000 or unit == 'TB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1000.0
    return '%d B' % value  # pragma: no cover


def _failed(name, result):
    msg = result.get('msg') or result.get('stderr') or 'failed'
    return _check('critical', '%s failed: %s' % (name, msg), findings=[
        {'severity': 'critical', 'message': '%s failed: %s' % (name, msg),
         'action': 'Read the task output; fix the cause and re-run the maintenance for this host'}])


def _parse(moment):
    from datetime import datetime, timezone
    if not moment:
        return datetime.now(timezone.utc)
    text = str(moment).replace('Z', '+00:00')
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _age_hours(created_at, now=None):
    """Hours between ``created_at`` and ``now`` (ISO 8601 strings; ``now`` defaults to the clock)."""
    start, end = _parse(created_at), _parse(now)
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600.0


def host_report(data):
    """A fleet-report host entry from what the role registered for one host.

    ``data`` keys (each optional): ``health_before``, ``health_after``, ``gate`` (from
    :func:`health_gate`), ``updates``, ``security_applied``, ``logrotate`` (``{needed, forced,
    configs, result}``), ``docker``, ``images``, ``journal``, ``backup`` (``{verify, created_at,
    age_hours, max_age_hours}``), ``certificates`` (a health record), ``restore_drill``,
    ``capacity``, ``dr_test``, ``error`` (``{task, msg}``), ``check_mode``, ``checked_at``.
    """
    checks = {}
    gate = data.get('gate')
    if isinstance(gate, dict):
        status = 'critical' if gate.get('stop') else ('warning' if RANK.get(gate.get('after'), 0) > 0 else 'ok')
        findings = []
        if gate.get('stop'):
            findings.append({'severity': 'critical', 'message': 'Rollout stopped here: %s' % gate.get('reason'),
                             'action': 'Look at this host before resuming: the maintenance left it worse than it was'})
        for finding in gate.get('new_findings') or []:
            findings.append({'severity': finding.get('severity') if finding.get('severity') in ('warning', 'critical') else 'warning',
                             'message': 'new after maintenance: %s' % finding.get('message'), 'action': finding.get('action') or ''})
        suffix = (' - ' + gate['reason']) if gate.get('reason') else ''
        checks['health'] = _check(status, 'before %s, after %s%s' % (gate.get('before'), gate.get('after'), suffix),
                                  {'before': gate.get('before'), 'after': gate.get('after'),
                                   'new_findings': len(gate.get('new_findings') or []),
                                   'resolved_findings': len(gate.get('resolved_findings') or [])}, findings)

    updates = data.get('updates')
    if _ran(updates):
        if updates.get('failed'):
            checks['updates'] = _failed('update check', updates)
        else:
            info = updates.get('updates') or {}
            applied = data.get('security_applied')
            applied_list = []
            if _ran(applied) and not applied.get('failed'):
                applied_list = applied.get('applied') or []
            sec = info.get('security_count', 0)
            pending_sec = 0 if applied_list else sec
            findings = []
            if pending_sec:
                findings.append({'severity': 'warning', 'message': '%d security update(s) pending: %s'
                                 % (sec, ', '.join(info.get('security') or [])[:300]),
                                 'action': 'Apply them in the monthly window (maintenance_monthly: true) or sooner'})
            if _ran(applied) and applied.get('failed'):
                findings.append({'severity': 'critical', 'message': 'applying security updates failed: %s' % applied.get('msg'),
                                 'action': 'Read the package manager output on the host'})
            checks['updates'] = _check(
                'critical' if any(f['severity'] == 'critical' for f in findings) else ('warning' if findings else 'ok'),
                '%d pending, %d security%s' % (info.get('count', 0), sec,
                                               (', %d applied' % len(applied_list)) if applied_list else ''),
                {'pending': info.get('count', 0), 'security': sec, 'applied': len(applied_list),
                 'manager': info.get('manager')}, findings)

    logrotate = data.get('logrotate')
    if isinstance(logrotate, dict) and logrotate:
        res = logrotate.get('result') or {}
        if res.get('failed'):
            checks['logrotate'] = _failed('logrotate', res)
        else:
            needed = logrotate.get('needed') or 0
            checks['logrotate'] = _check('ok', '%s %d log(s)%s' % (
                'would rotate' if data.get('check_mode') else 'rotated', needed,
                ' (forced)' if logrotate.get('forced') else ''),
                {'rotated': needed, 'forced': bool(logrotate.get('forced')), 'configs': logrotate.get('configs') or []})

    docker = data.get('docker')
    if _ran(docker):
        if docker.get('failed'):
            checks['docker'] = _failed('Docker clean-up', docker)
        else:
            plan = docker.get('plan') or {}
            counts = dict((k, len(plan.get(k) or [])) for k in ('images', 'containers', 'networks', 'volumes', 'build_cache'))
            freed = docker.get('bytes_freed', 0)
            skipped = docker.get('not_removed') or []
            findings = [{'severity': 'info', 'message': 'kept %s %s: %s' % (s.get('kind'), s.get('name') or s.get('id'), s.get('reason')),
                         'action': ''} for s in skipped]
            checks['docker'] = _check('ok', '%s %s (%s)' % (
                'would free' if data.get('check_mode') else 'freed', _human(freed),
                ', '.join('%d %s' % (v, k.replace('_', ' ')) for k, v in counts.items() if v) or 'nothing to remove'),
                dict(counts, bytes_freed=freed, scope=plan.get('scope') or [], skipped=len(skipped)), findings)

    images = data.get('images')
    if _ran(images):
        if images.get('failed'):
            checks['images'] = _failed('image inventory', images)
        else:
            rows = images.get('images') or []
            checks['images'] = _check('ok', '%d image tag(s)' % len(rows), {
                'images': ['%s:%s %s %s' % (r.get('repository'), r.get('tag'), r.get('created'), _human(r.get('size')))
                           for r in rows[:50]]})

    journal = data.get('journal')
    if _ran(journal):
        if journal.get('failed'):
            checks['journal'] = _failed('journal vacuum', journal)
        else:
            checks['journal'] = _check('ok', '%s %d file(s), %s; %s' % (
                'would remove' if data.get('check_mode') else 'removed', len(journal.get('removed') or []),
                _human(journal.get('bytes_freed')), journal.get('disk_usage') or ''),
                {'bytes_freed': journal.get('bytes_freed', 0), 'usage_before': journal.get('usage_before', 0),
                 'usage_after': journal.get('usage_after', 0)})

    backup = data.get('backup')
    if isinstance(backup, dict) and backup:
        verify = backup.get('verify') or {}
        findings = []
        age = backup.get('age_hours')
        if age is None and backup.get('created_at'):
            age = _age_hours(backup['created_at'], data.get('checked_at'))
        limit = backup.get('max_age_hours')
        try:
            limit = float(limit) if limit not in (None, '') else None
        except (TypeError, ValueError):
            limit = None
        if verify.get('failed') or not verify.get('verified'):
            findings.append({'severity': 'critical', 'message': 'no backup set verified: %s' % (verify.get('msg') or 'no set'),
                             'action': 'Run the backup playbook (cloudos.ops.backup) and check its output'})
        else:
            for item in verify.get('verified') or []:
                if not item.get('ok'):
                    findings.append({'severity': 'critical', 'message': 'backup set %s does not verify: %s' % (
                        item.get('backup_id'), ', '.join('%s: %s' % (m.get('file'), m.get('problem')) for m in item.get('mismatches') or [])),
                        'action': 'Take a new backup now; keep the damaged set for analysis'})
            if age is not None and limit is not None and age > limit:
                findings.append({'severity': 'warning', 'message': 'newest backup set is %.1f hours old (limit %s)' % (age, limit),
                                 'action': 'Check that the daily backup runs (cloudos.ops.backup)', 'metric': 'backup_age_hours',
                                 'value': round(age, 1), 'threshold': limit})
        newest = (verify.get('verified') or [{}])[-1]
        checks['backup'] = _check(
            'critical' if any(f['severity'] == 'critical' for f in findings) else ('warning' if findings else 'ok'),
            'newest set %s%s' % (newest.get('backup_id') or 'none', (', %.1f h old' % age) if age is not None else ''),
            {'backup_id': newest.get('backup_id'), 'created_at': backup.get('created_at'),
             'age_hours': round(age, 1) if age is not None else None}, findings)

    certs = data.get('certificates')
    if _ran(certs):
        health = certs.get('health') or {}
        section = (health.get('checks') or {}).get('certificates') or {}
        if certs.get('failed') or not section:
            checks['certificates'] = _failed('certificate check', certs)
        else:
            checks['certificates'] = _check(section.get('status') or 'ok', section.get('summary') or '',
                                            section.get('metrics'), section.get('findings'))

    for name, label in (('restore_drill', 'restore drill'), ('dr_test', 'disaster-recovery test')):
        res = data.get(name)
        if isinstance(res, dict) and res:
            if res.get('failed'):
                checks[name] = _failed(label, res)
            else:
                checks[name] = _check('ok', res.get('summary') or '%s passed' % label, res.get('metrics'))

    capacity = data.get('capacity')
    if _ran(capacity):
        if capacity.get('failed'):
            checks['capacity'] = _failed('capacity summary', capacity)
        else:
            info = capacity.get('capacity') or {}
            findings = info.get('findings') or []
            series = info.get('series') or {}
            checks['capacity'] = _check(
                'critical' if any(f.get('severity') == 'critical' for f in findings) else ('warning' if findings else 'ok'),
                '%d series over %s days' % (len(series), info.get('days')),
                dict((k, '%s%% now, %s/day' % (v.get('last'), v.get('trend_per_day'))) for k, v in series.items()), findings)

    error = data.get('error')
    findings = None
    if isinstance(error, dict) and error:
        checks['run'] = _check('critical', 'failed at "%s": %s' % (error.get('task'), error.get('msg')), findings=[
            {'severity': 'critical', 'message': 'maintenance failed at task "%s": %s' % (error.get('task'), error.get('msg')),
             'action': 'Read the play output for this host; the maintenance window was ended'}])
    statuses = [c['status'] for c in checks.values()]
    worst = max([RANK.get(s, 1) for s in statuses] or [0])
    status = {0: 'ok', 1: 'warning', 2: 'critical'}[worst]
    return {'status': status, 'checked_at': data.get('checked_at'), 'checks': checks, 'findings': findings}
