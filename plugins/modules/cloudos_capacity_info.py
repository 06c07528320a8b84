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
options:
  prometheus_url:
    description: Base URL of Prometheus.
    type: str
    default: http://localhost:9090
  days:
    description: How many days back to look.
    type: int
    default: 30
  step:
    description: Resolution of the range queries, in seconds.
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
    description: A series full within this many days is a warning.
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
  timeout:
    description: Seconds per request.
    type: float
    default: 30
  validate_certs:
    description: Verify the TLS certificate of an C(https://) URL.
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make.
    support: full
    details: Read-only; the same result in check mode.
  diff_mode:
    description: Returns details on what changed (or would change) in C(diff).
    support: none
'''

EXAMPLES = r'''
- name: Capacity trends over 30 days
  cloudos.ops.cloudos_capacity_info:
    days: 30
  register: capacity
'''

RETURN = r'''
capacity:
  description: Summary per series and findings.
  returned: always
  type: dict
  sample: {"days": 30, "series": {"disk:/": {"points": 720, "first": 41.2, "last": 47.9, "min": 41.0, "max": 48.3,
           "avg": 44.5, "span_days": 30.0, "trend_per_day": 0.22, "days_to_full": 236.8}},
           "findings": []}
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _maintenance
from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, join_url, request, validate_url

FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|proc|sysfs|devtmpfs|ramfs|autofs"'
DEFAULT_QUERIES = {
    'disk': '100 * (1 - node_filesystem_avail_bytes{%s} / node_filesystem_size_bytes{%s})' % (FS, FS),
    'memory': '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)',
}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            prometheus_url=dict(type='str', default='http://localhost:9090'),
            days=dict(type='int', default=30),
            step=dict(type='int', default=3600),
            queries=dict(type='dict'),
            series_label=dict(type='str', default='mountpoint'),
            warn_days=dict(type='int', default=30),
            critical_days=dict(type='int', default=7),
            min_span_days=dict(type='int', default=7),
            timeout=dict(type='float', default=30),
            validate_certs=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for name in ('days', 'step'):
        if p[name] <= 0:
            module.fail_json(msg='%s must be positive, got %r' % (name, p[name]))
    try:
        validate_url(p['prometheus_url'], 'prometheus_url')
    except HttpError as exc:
        module.fail_json(msg=exc.message)
    queries = p['queries'] or DEFAULT_QUERIES
    end = int(time.time())
    start = end - p['days'] * 86400
    step = max(p['step'], (end - start) // 10000 + 1)  # Prometheus refuses more than 11000 points
    series = {}
    url = join_url(p['prometheus_url'], '/api/v1/query_range')
    for name in sorted(queries):
        try:
            answer = request(url, method='POST', timeout=p['timeout'], validate_certs=p['validate_certs'],
                             headers={'Content-Type': 'application/x-www-form-urlencoded'},
                             **_form({'query': queries[name], 'start': start, 'end': end, 'step': step})).json()
        except HttpError as exc:
            module.fail_json(msg='Prometheus query %s failed: %s' % (name, exc.message))
        if answer.get('status') != 'success':
            module.fail_json(msg='Prometheus query %s: %s' % (name, answer.get('error') or answer))
        for item in (answer.get('data') or {}).get('result') or []:
            label = (item.get('metric') or {}).get(p['series_label'])
            key = '%s:%s' % (name, label) if label else name
            series[key] = _maintenance.series_summary(item.get('values'))
    findings = _maintenance.capacity_findings(series, p['warn_days'], p['critical_days'], p['min_span_days'])
    module.exit_json(changed=False, capacity={'days': p['days'], 'step': step, 'series': series, 'findings': findings})


def _form(fields):
    from urllib.parse import urlencode
    return {'data': urlencode(fields).encode('ascii')}


if __name__ == '__main__':
    main()
