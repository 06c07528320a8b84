#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the action plugin plugins/action/fleet_report.py, which does
# all the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Write a fleet report (JSON, Markdown, HTML, JUnit XML, Nagios, TAP) on the controller
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Gathers one result per host (for example what M(cloudos.ops.cloudos_health) returned and was
    registered) and writes one report for the whole run into O(dest) on the controller.
  - C(report.json) holds every host, check, finding and threshold; C(report.md) is a summary for
    tickets and chat; C(report.html) is a self-contained page (inline CSS, no script, no external
    asset) with a host by check grid coloured by status, every finding with its recommended action,
    the thresholds used and the run time; C(junit.xml) has one test case per host and check for CI
    and AWX; C(nagios.txt) has one Nagios plugin line per host (the host name, a tab, then
    C(STATE - text | perfdata) as a plugin prints it, with C(:) after the state); C(report.tap) is TAP
    version 14, one test per host and check.
  - "JUnit and TAP mapping: C(critical) fails; C(warning) fails when O(junit_fail_on=warning) (by default,
    when O(fail_on=warning)), else passes with its findings in C(system-out); C(absent) and C(skipped) are
    skipped; an unreachable or errored host gives an error (TAP: C(not ok)) for each check."
  - With O(history), the run is compared with the previous complete run in the parent directory of
    O(dest) (the newest directory named like a run id, C(2025-11-26T065012Z), with a C(report.json)
    that parses, never O(dest) itself). Every finding gets C(change) (C(new) or C(still)),
    C(first_seen) and C(streak), and the report lists resolved findings and hosts that appeared or
    disappeared; the HTML and Markdown reports open with "Changes since the last run".
  - A host listed in O(hosts) without a result, or whose result says it was unreachable, is reported
    as C(unreachable); a host whose check task failed is reported as C(error). Both count as
    C(critical) for O(fail_on).
  - Each file is written to a temporary file in O(dest) and renamed into place, so a reader never
    sees a half-written report. The managed hosts are not contacted.
  - "The report machinery is generic: under O(result_key), the result of each host has the keys C(status),
    C(checked_at), C(duration_ms), C(checks) (a dict of check name to C(status), C(summary), C(metrics),
    C(findings)), C(findings) (a list of C(check), C(severity), C(message), C(action)) and C(thresholds)."

options:
  dest:
    description:
      - Directory that receives the report files. Created (with parents) when missing.
      - Existing report files in it are replaced.
    type: path
    required: true
  hosts:
    description:
      - Every host the report covers, usually C(ansible_play_hosts_all).
      - A host in this list that has no result in O(results) or O(result_var) is reported as
        C(unreachable).
      - When omitted, the hosts are the keys of O(results).
    type: list
    elements: str
  results:
    description:
      - Results keyed by host name, as registered by the task that checked each host.
      - Takes precedence over O(result_var) for the hosts it names.
    type: dict
  result_var:
    description:
      - Name of the registered variable that holds each host's result; it is read from
        C(hostvars) of every host in O(hosts).
    type: str
  result_key:
    description:
      - Key of a registered result that holds the report data for the host.
      - A result that has C(checks) at its top level is used as it is.
    type: str
    default: health
  formats:
    description:
      - Which files to write.
    type: list
    elements: str
    choices: [json, markdown, html, junit, nagios, tap]
    default: [json, markdown, html, junit]
  title:
    description: Title of the report.
    type: str
    default: Fleet report
  kind:
    description: What produced the report (for example C(daily_health)); recorded in C(report.json).
    type: str
    default: report
  fail_on:
    description:
      - The status at or above which a host counts as failing, returned as RV(summary.fail_on_reached)
        and RV(summary.failing_hosts). The action itself never fails because of it; the role or play
        decides (for example with M(ansible.builtin.fail)).
      - In C(junit.xml) a C(critical) check is a failure; a C(warning) check is a failure only when
        O(fail_on=warning) (unless O(junit_fail_on) says otherwise), otherwise a passing test case
        whose findings are in C(system-out).
    type: str
    choices: [critical, warning, never]
    default: critical
  thresholds:
    description:
      - The thresholds configured for the run, shown in the report. Per-host thresholds returned by the
        hosts are shown too; a host whose value differs is listed next to the threshold.
    type: dict
  columns:
    description:
      - Order of the check columns in the grid. Checks not listed follow in the order first seen.
    type: list
    elements: str
  started_at:
    description:
      - When the run started (ISO 8601). Defaults to the earliest C(checked_at) of the hosts.
    type: str
  metadata:
    description:
      - Extra facts about the run shown in the report header and recorded in C(report.json),
        for example the inventory or the limit used.
    type: dict
  reports:
    description:
      - C(report.json) files written before by this action (for example one per slice of an AWX sliced job);
        their host entries are taken as they are (status, checks, findings, errors, unreachable hosts).
      - Each item is a file, a directory (its C(report.json), or C(latest/report.json) of a report root) or a
        glob pattern of either; a pattern that matches nothing, or a file that is not a fleet report, is an error.
      - A host in O(results) wins over the same host in a report; a report wins over O(result_var). A host
        in several reports is taken from the report with its newest C(checked_at); a file named twice (or
        through a C(latest) link) is read once.
      - With O(hosts) omitted, the hosts are those of O(results) and of the reports.
    type: list
    elements: path
    version_added: 0.1.0
  history:
    description:
      - Compare the run with the previous complete run next to O(dest) (see the description) and
        record the comparison in C(report.json) (C(previous_run), C(changes)). Without a previous
        run every finding is C(new) and the report says so.
    type: bool
    default: false
    version_added: 0.1.0
  keep:
    description:
      - With O(history), after the report is written, remove run directories next to O(dest) beyond
        the newest O(keep) (O(dest) included). Only directories named like run ids; never O(dest) nor
        the directory O(latest_link) points at. V(0) keeps all.
    type: int
    default: 0
    version_added: 0.1.0
  junit_fail_on:
    description:
      - The check status at or above which a check is a failure in C(junit.xml) and C(not ok) in
        C(report.tap). Default V(warning) when O(fail_on=warning), else V(critical).
    type: str
    choices: [warning, critical]
    version_added: 0.1.0
  latest_link:
    description:
      - Name of a symbolic link created (or atomically replaced) next to O(dest), in its parent
        directory, pointing at O(dest); for example C(latest). Not created when empty.
      - An existing file or directory of that name that is not a symbolic link is left alone, with a warning.
    type: str
notes:
  - Report files are controller-side artefacts. In check mode this action writes nothing and returns
    the paths it would write; the M(cloudos.ops.daily_health) role runs it with C(check_mode=false) so
    that a C(--check) run before a maintenance window still produces its report (the managed hosts are
    never changed by a report).
  - Run it once per play, for example with C(run_once=true) and C(delegate_to=localhost).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - cloudos.ops.attributes.controller
attributes:
  check_mode:
    support: full
    details: Nothing is written in check mode; the would-be paths and the summary are returned.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: cloudos.ops.cloudos_health
  - name: The cloudos.ops.daily_health role
    description: Runs M(cloudos.ops.cloudos_health) on every host and this action once for the fleet.
    link: https://github.com/cloudos/cloudos.ops/blob/main/roles/daily_health/README.md
"""

EXAMPLES = r"""
- name: Check every host
  cloudos.ops.cloudos_health:
  register: health_result

- name: Write the fleet report
  cloudos.ops.fleet_report:
    dest: "{{ playbook_dir }}/reports/health/{{ now(utc=true).strftime('%Y-%m-%dT%H%M%SZ') }}"
    hosts: "{{ ansible_play_hosts_all }}"
    result_var: health_result
    title: CloudOS daily health
    kind: daily_health
    latest_link: latest
  run_once: true
  delegate_to: localhost
  check_mode: false
  register: report

- name: Show where the report is
  ansible.builtin.debug:
    msg: "{{ report.files.html }} ({{ report.summary.status }})"
  run_once: true

- name: Report a result built in the play, without the health module
  cloudos.ops.fleet_report:
    dest: /tmp/report
    formats: [json, junit]
    kind: backup_age
    # A result with `checks` at its top level is used as it is (no result_key).
    results:
      db1:
        checks:
          backup:
            status: critical
            summary: newest set 58 h old
            findings:
              - check: backup
                severity: critical
                message: The newest backup set is 58 hours old
                action: Run the backup playbook
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The report directory.
  returned: always
  type: str
  sample: /srv/ops/reports/daily_health/2025-11-26T065012Z
files:
  description: Path of each written file by format (the paths that would be written in check mode).
  returned: always
  type: dict
  sample:
    json: /srv/ops/reports/daily_health/2025-11-26T065012Z/report.json
    markdown: /srv/ops/reports/daily_health/2025-11-26T065012Z/report.md
    html: /srv/ops/reports/daily_health/2025-11-26T065012Z/report.html
    junit: /srv/ops/reports/daily_health/2025-11-26T065012Z/junit.xml
latest:
  description: Path of the O(latest_link) symbolic link, when one was created.
  returned: when O(latest_link) is set and the link could be made
  type: str
  sample: /srv/ops/reports/daily_health/latest
changes:
  description: What changed since the previous run, the same as C(changes) in C(report.json).
  returned: when O(history) is set
  type: dict
  contains:
    history:
      description: Whether a previous complete run was found.
      type: bool
    changed:
      description: A new critical or warning finding, a resolved finding, or a host that appeared or disappeared.
      type: bool
    counts:
      description: Numbers of new (and of them critical, warning), still failing and resolved findings, hosts added and removed.
      type: dict
      sample: {new: 1, new_critical: 1, new_warning: 0, still: 2, resolved: 1, hosts_added: 0, hosts_removed: 0}
    new:
      description: Findings not in the previous run.
      type: list
      elements: dict
    still:
      description: Findings in the previous run too (with C(first_seen) and C(streak)).
      type: list
      elements: dict
    resolved:
      description: Findings of the previous run gone now.
      type: list
      elements: dict
    hosts_added:
      description: Hosts not in the previous run.
      type: list
      elements: str
    hosts_removed:
      description: Hosts of the previous run not in this one.
      type: list
      elements: str
previous_run:
  description: The run compared with (C(run_id), C(path), C(started_at), C(finished_at), C(status)); null when none.
  returned: when O(history) is set
  type: dict
pruned:
  description: Run directories removed because of O(keep).
  returned: when O(history) is set and O(keep) is positive
  type: list
  elements: str
summary:
  description: The run in numbers, the same as C(summary) in C(report.json).
  returned: always
  type: dict
  contains:
    hosts:
      description: Number of hosts in the report.
      type: int
      sample: 20
    status:
      description: Worst host status (C(unreachable), C(error), C(critical), C(warning), C(ok), C(skipped)).
      type: str
      sample: critical
    status_counts:
      description: Number of hosts per status.
      type: dict
      sample: {unreachable: 0, error: 0, critical: 1, warning: 2, ok: 17, skipped: 0}
    check_counts:
      description: Number of host by check results per status.
      type: dict
      sample: {ok: 150, warning: 3, critical: 1, absent: 26, skipped: 0}
    finding_counts:
      description: Number of findings per severity.
      type: dict
      sample: {critical: 1, warning: 4, info: 0}
    fail_on:
      description: The O(fail_on) level used.
      type: str
      sample: critical
    fail_on_reached:
      description: Whether any host is at or above O(fail_on).
      type: bool
      sample: true
    failing_hosts:
      description: Hosts at or above O(fail_on), worst first.
      type: list
      elements: str
      sample: [ai1]
"""
