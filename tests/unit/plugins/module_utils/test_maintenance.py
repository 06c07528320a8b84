# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity trend of the cloudos_capacity_info module (pure functions of module_utils/_maintenance.py).

The health gate and the report entry of the maintenance role are controller code: their tests
are in tests/unit/plugins/plugin_utils/test_maintenance_report.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance as m


def test_series_summary_trend_and_days_to_full():
    day = 86400
    values = [[i * day, str(50 + i)] for i in range(11)]  # +1 point a day, from 50 to 60
    summary = m.series_summary(values)
    assert summary['points'] == 11 and summary['first'] == 50 and summary['last'] == 60
    assert summary['trend_per_day'] == pytest.approx(1.0)
    assert summary['days_to_full'] == pytest.approx(40.0)
    assert m.series_summary([[0, '30'], [day, '30']])['days_to_full'] is None
    assert m.series_summary([]) == {'points': 0}
    findings = m.capacity_findings({'disk:/': summary, 'short': dict(summary, span_days=1)}, warn_days=45, critical_days=7)
    assert [f['metric'] for f in findings] == ['disk:/'] and findings[0]['severity'] == 'warning'
