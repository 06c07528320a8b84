# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the maintenance role: the health gate and the host's report entry.

``before | cloudos.ops.maintenance_health_gate(after, gate='worse', ignore_checks=[])``
    compares two ``cloudos_health`` records (see ``module_utils/_maintenance.health_gate``).
``data | cloudos.ops.maintenance_host_report``
    builds one host's entry of the maintenance report from what the role registered.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance


def maintenance_health_gate(before, after, gate='worse', ignore_checks=None):
    try:
        return _maintenance.health_gate(before, after, gate=gate, ignore_checks=ignore_checks)
    except _maintenance.MaintenanceError as exc:
        raise AnsibleFilterError(str(exc))


def maintenance_host_report(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError('maintenance_host_report expects a dict, got %r' % type(data).__name__)
    return _maintenance.host_report(data)


class FilterModule:

    def filters(self):
        return {
            'maintenance_health_gate': maintenance_health_gate,
            'maintenance_host_report': maintenance_host_report,
        }
