# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the emergency roles: the repair role's memory across runs (restart budgets,
escalations) and report entries, and the data-corruption report entry.

See plugins/plugin_utils/_repair_state.py for the state file and the rules; each filter has its
documentation in the .yml file of the same name beside this one.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudos.ops.plugins.module_utils._common import DurationError, parse_duration, parse_time
from ansible_collections.cloudos.ops.plugins.plugin_utils import _data_corruption as dc
from ansible_collections.cloudos.ops.plugins.plugin_utils import _repair_state as rs


def _now(value):
    moment = parse_time(value)
    if moment is None:
        raise AnsibleFilterError('now must be a time (now(utc=true)), got %r' % (value,))
    return moment


def _seconds(value, name):
    try:
        return parse_duration(value, name, allow_zero=True)
    except DurationError as exc:
        raise AnsibleFilterError(str(exc))


def _state(value):
    if not isinstance(value, dict) or value.get('schema') != rs.SCHEMA:
        raise AnsibleFilterError('expected a repair state (repair_state_load), got %r' % (type(value).__name__,))
    return value


def repair_state_load(text, path='repair state'):
    try:
        return rs.load(text, path)
    except rs.StateError as exc:
        raise AnsibleFilterError(str(exc))


def repair_budget(state, host, max_restarts, window, now):
    return rs.budget(_state(state), host, max_restarts, _seconds(window, 'repair_budget_window'), _now(now))


def repair_state_update(state, results, now, window):
    return rs.update(_state(state), dict(results or {}), _now(now), _seconds(window, 'repair_budget_window'))


def repair_escalations(state, results, now, escalate_after):
    alerts, fired, resolved = rs.escalations(_state(state), dict(results or {}), _now(now),
                                             _seconds(escalate_after, 'repair_escalate_after'))
    return {'alerts': alerts, 'fired': fired, 'resolved': resolved}


def repair_state_mark(state, fired, resolved, now):
    return rs.mark(_state(state), fired or [], resolved or [], _now(now))


def repair_report_record(after, result, check_mode=False):
    return rs.report_record(after, result, bool(check_mode))


def data_corruption_record(steps, failed_step='', check_mode=False):
    if not isinstance(steps, dict):
        raise AnsibleFilterError('data_corruption_record expects a dict of step results, got %r' % type(steps).__name__)
    return dc.record(steps, failed_step or '', bool(check_mode))


class FilterModule:

    def filters(self):
        return {
            'repair_state_load': repair_state_load,
            'repair_budget': repair_budget,
            'repair_state_update': repair_state_update,
            'repair_escalations': repair_escalations,
            'repair_state_mark': repair_state_mark,
            'repair_report_record': repair_report_record,
            'data_corruption_record': data_corruption_record,
        }
