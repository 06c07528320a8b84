# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weekly maintenance: the capacity trends of the ``cloudos_capacity_info`` module.

Private to this collection: no compatibility promise. Pure functions:

* :func:`capacity` runs ``cloudos_capacity_info``'s range queries through a
  ``_prometheus.PrometheusClient``; :func:`series_summary` turns one series into
  first/last/min/max and a linear trend per day (with days until a percentage reaches 100);
* :func:`capacity_findings` turns those summaries into report findings.

The health gate and the report entry of the ``maintenance`` role run on the controller: they
are in ``plugins/plugin_utils/_maintenance_report.py``.
"""

from __future__ import annotations


class MaintenanceError(ValueError):
    """Bad input or a failed query; the message names the parameter or the query."""


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
