#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_capacity_info
short_description: Disk and memory trends over the last days from Prometheus, with days until full
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - The guide's monthly "Capacity Planning - review resource usage trends". Runs Prometheus range queries
    (C(/api/v1/query_range)) over the last O(days) days and returns, per series, first, last, minimum, maximum and
    average, the linear trend in percentage points per day and, for a rising series, the days until it reaches 100 %.
  - Series that fill up within O(warn_days) (O(critical_days)) become warning (critical) findings.
  - Few data points (a young Prometheus) give a summary over what exists; no data is not an error.
  - Read-only; C(changed) is always false.
extends_documentation_fragment:
  - cloudos.ops.prometheus
  - cloudos.ops.attributes.read_only
options:
  days:
    description: How many days back to look, from 1 to 3650.
    type: int
    default: 30
  step:
    description:
      - Resolution of the range queries, in seconds, from 1 to 86400 (a day).
      - Raised where needed so that no series has more than 10000 points (Prometheus refuses more than 11000).
    type: int
    default: 3600
  queries:
    description:
      - Name to PromQL expression returning percentages (0 to 100). Each series of a result is named
        C(<name>:<value of the label in O(series_label)>) when that label is present.
      - The default watches disk use per mount point and memory use, from node exporter.
    type: dict
  series_label:
    description: Label that tells series of one query apart.
    type: str
    default: mountpoint
  warn_days:
    description: A series full within this many days is a warning (0 to 36500, as O(critical_days) and O(min_span_days)).
    type: int
    default: 30
  critical_days:
    description: A series full within this many days is critical.
    type: int
    default: 7
  min_span_days:
    description: Series covering fewer days than this are summarised but never turned into findings.
    type: int
    default: 7
'''

EXAMPLES = r'''
- name: Capacity trends over 30 days
  cloudos.ops.cloudos_capacity_info:
    days: 30
  register: capacity

- name: Inodes too, from a Prometheus behind a proxy, warning two months ahead
  cloudos.ops.cloudos_capacity_info:
    prometheus_url: https://metrics.example.com/prometheus
    warn_days: 60
    queries:
      inodes: 100 * (1 - node_filesystem_files_free{fstype="ext4"} / node_filesystem_files{fstype="ext4"})
  register: inodes

- name: Fail when something fills up within the warning window
  ansible.builtin.assert:
    that: (capacity.capacity.findings + inodes.capacity.findings) | length == 0
    fail_msg: "{{ (capacity.capacity.findings + inodes.capacity.findings) | map(attribute='message') | list }}"
'''

RETURN = r'''
capacity:
  description: Summary per series and findings.
  returned: always
  type: dict
  contains:
    days:
      description: The O(days) looked back.
      type: int
      sample: 30
    step:
      description: The resolution used, in seconds (O(step), raised to stay under 10000 points a series).
      type: int
      sample: 3600
    series:
      description:
        - Per series (C(<query name>) or C(<query name>:<label value>)) the number of points, first, last, minimum,
          maximum and average value, the days covered, the linear trend in points a day and, for a rising series,
          the days until it reaches 100 (V(null) otherwise).
      type: dict
      sample: {"disk:/": {"points": 720, "first": 41.2, "last": 47.9, "min": 41.0, "max": 48.3, "avg": 44.5,
               "span_days": 30.0, "trend_per_day": 0.22, "days_to_full": 236.8}}
    findings:
      description: One C({check, severity, message, action, metric, value, threshold}) per series full within
        O(warn_days) (V(warning)) or O(critical_days) (V(critical)).
      type: list
      elements: dict
      sample: []
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance
from ansible_collections.cloudos.ops.plugins.module_utils._prometheus import (
    PrometheusClient, PrometheusError, prometheus_argument_spec)


def main():
    module = AnsibleModule(
        argument_spec=prometheus_argument_spec(
            days=dict(type='int', default=30),
            step=dict(type='int', default=3600),
            queries=dict(type='dict'),
            series_label=dict(type='str', default='mountpoint'),
            warn_days=dict(type='int', default=30),
            critical_days=dict(type='int', default=7),
            min_span_days=dict(type='int', default=7),
        ),
        supports_check_mode=True,
    )
    error = check_limits(module.params)
    if error:
        module.fail_json(msg=error)
    try:
        client = PrometheusClient.from_params(module.params)
        capacity = _maintenance.capacity(client, module.params, time.time())
    except (PrometheusError, _maintenance.MaintenanceError) as exc:
        module.fail_json(msg=getattr(exc, 'message', None) or str(exc))
    module.exit_json(changed=False, capacity=capacity)


#: Bounds of the numeric options, checked before Prometheus sees them (a huge ``days`` would ask
#: for a range starting before year 1; a huge ``step`` for one point in a thousand years).
LIMITS = (('days', 1, 3650), ('step', 1, 86400), ('warn_days', 0, 36500), ('critical_days', 0, 36500),
          ('min_span_days', 0, 36500))


def check_limits(params):
    """The error message for the first numeric option out of its bounds, else ``None``."""
    for name, low, high in LIMITS:
        value = params.get(name)
        if value is not None and not low <= value <= high:
            return '%s must be from %d to %d, got %s' % (name, low, high, _short(value))
    return None


def _short(value):
    text = str(value)
    return text if len(text) <= 24 else '%s... (%d digits)' % (text[:12], len(text.lstrip('-')))


if __name__ == '__main__':
    main()
