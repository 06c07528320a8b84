# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weekly maintenance: the capacity trends of the ``cloudos_capacity_info`` module.

Private to this collection: no compatibility promise. Pure functions:

* :func:`series_summary` turns a Prometheus range-query series into first/last/min/max and a
  linear trend per day (with days until a percentage reaches 100);
* :func:`capacity_findings` turns those summaries into report findings.

The health gate and the report entry of the ``maintenance`` role run on the controller: they
are in ``plugins/plugin_utils/_maintenance_report.py``.
"""

from __future__ import annotations


# --------------------------------------------------------------------------- capacity

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
