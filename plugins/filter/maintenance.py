# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the maintenance role: the health gate and the host's report entry.

``before | cloudos.ops.maintenance_health_gate(after, gate='worse', ignore_checks=[])``
    compares two ``cloudos_health`` records (see ``plugin_utils/_maintenance_report.health_gate``).
``data | cloudos.ops.maintenance_host_report``
    builds one host's entry of the maintenance report from what the role registered.

Their documentation is in ``maintenance_health_gate.yml`` and ``maintenance_host_report.yml``
next to this file (``ansible-doc -t filter cloudos.ops.maintenance_health_gate``).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudos.ops.plugins.plugin_utils import _maintenance_report


def maintenance_health_gate(before, after, gate='worse', ignore_checks=None):
    try:
        return _maintenance_report.health_gate(before, after, gate=gate, ignore_checks=ignore_checks)
    except _maintenance_report.MaintenanceError as exc:
        raise AnsibleFilterError(str(exc))


def maintenance_host_report(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError('maintenance_host_report expects a dict, got %r' % type(data).__name__)
    return _maintenance_report.host_report(data)


class FilterModule:

    def filters(self):
        return {
            'maintenance_health_gate': maintenance_health_gate,
            'maintenance_host_report': maintenance_host_report,
        }
