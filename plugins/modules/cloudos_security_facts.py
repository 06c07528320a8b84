#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_security_facts
short_description: Daily security check of a CloudOS host in one round trip
author: cloudos.ops contributors (@cloudos)
version_added: 0.1.0
description:
  - The CloudOS Operations Guide's daily security check, in one module run on the managed host. The result,
    C(security), is shaped like the C(health) record of M(cloudos.ops.cloudos_health) (a status per section and
    findings with actions), so that M(cloudos.ops.fleet_report) renders it.
  - C(auth) counts failed authentications of the last 24 hours (sshd password, key and keyboard-interactive
    failures, invalid users and clients giving up before authenticating, counted once per attempt; sudo and
    su failures) by source address, user and method, from the systemd journal or, where the host does not
    keep them there, from O(auth_log).
  - C(connections) groups established TCP connections (IPv4 and IPv6, read from C(/proc/net/tcp) and
    C(/proc/net/tcp6)) by remote address; loopback peers are left out; peers outside O(connection_allowlist)
    are findings.
  - C(listeners) compares listening TCP sockets and bound UDP sockets with O(expected_listeners) and names the
    process that owns each one. Unexpected listeners bound to loopback are listed but are not findings.
  - C(files) lists regular files modified in the last 24 hours under O(files_roots), except those matching
    O(files_ignore); changed files matching O(files_watched) make one finding that names them.
  - C(alerts) lists firing Alertmanager alerts (API v2; neither silenced nor inhibited) carrying O(alert_labels).
  - C(containers) and C(certificates) are the probes of M(cloudos.ops.cloudos_health) (containers not running,
    unhealthy or restarting; days to certificate expiry).
  - C(hardening) compares the host with what the C(cloudos.ops.hardening) role applied (its state file
    O(hardening_state), and O(hardening_expected)) - effective sshd settings from C(sshd -T), sysctl values,
    file modes and service states - and reports every difference as drift.
  - Read-only. C(changed) is always false and the result is the same under C(--check).
extends_documentation_fragment:
  - cloudos.ops.attributes.read_only
  - cloudos.ops.docker
options:
  checks:
    description: Sections to run; V(all) runs every section. Sections not selected are returned as C(skipped).
    type: list
    elements: str
    choices: [all, auth, connections, listeners, files, alerts, containers, certificates, hardening]
    default: [all]
  thresholds:
    description:
      - Overrides of the default thresholds. A value strictly above a threshold is a warning, strictly above its
        C(_critical) twin critical. Unknown keys and values that are not numbers fail the module, naming the key
        and the value.
      - 'Keys and defaults: C(auth_failures: 20), C(auth_failures_critical: 200) (all sources, 24 h),
        C(auth_failures_source: 10), C(auth_failures_source_critical: 100) (one address),
        C(connections_remote: 50), C(connections_remote_critical: 500) (one non-allowlisted address),
        C(changed_files: 50), C(changed_files_critical: 1000), C(security_alerts_critical: 0),
        C(security_alerts_warning: 0), C(container_restarts: 5), C(container_restarts_critical: 20),
        C(certificate_days: 30), C(certificate_days_critical: 7).'
      - A value may be written as a string such as V("90%"); the rules are those of M(cloudos.ops.cloudos_health).
    type: dict
    default: {}
  timeout:
    description: Seconds each command or HTTP request may take.
    type: float
    default: 10
  host:
    description: Name to report as C(security.host). Defaults to the managed host's host name.
    type: str
  auth_source:
    description:
      - Where failed logins are read. V(auto) uses the journal and falls back to O(auth_log) when the journal
        holds no sshd, sudo or su entries (or C(journalctl) is missing).
    type: str
    choices: [auto, journal, file]
    default: auto
  auth_log:
    description: The syslog file with authentication messages (RFC 3339 or traditional time stamps).
    type: path
    default: /var/log/auth.log
  connection_allowlist:
    description:
      - Addresses and networks (CIDR) expected to hold connections to the host. With a non-empty list every other
        peer is a warning; with an empty list only peers above the C(connections_remote) thresholds are.
    type: list
    elements: str
    default: []
  expected_listeners:
    description:
      - Listening sockets that are expected, as V(port), V(tcp/port), V(udp/port) or V(address:port)
        (V([v6]:port)). An empty list only lists the listeners.
    type: list
    elements: str
    default: []
  files_roots:
    description: Directories searched for files changed in the last 24 hours. Missing ones are left out.
    type: list
    elements: path
    default: [/etc, /opt/cloudos]
  files_ignore:
    description:
      - Shell patterns (C(fnmatch), matched against the full path) of files left out; a directory matching
        V(<dir>/*) is not entered at all.
    type: list
    elements: str
    default: ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/etc/adjtime', '/etc/ld.so.cache',
              '/etc/.pwd.lock', '/etc/machine-id', '*.swp', '*~', '/etc/cloudos-fixtures/*', '/opt/cloudos/data/*',
              '/opt/cloudos/logs/*', '/opt/cloudos/tmp/*']
  files_watched:
    description: Shell patterns of security-relevant files; each one changed in the last 24 hours is a warning.
    type: list
    elements: str
    default: ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/*',
              '/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/*', '/etc/pam.d/*', '/etc/cloudos/*', '/etc/crontab',
              '/etc/cron.d/*', '/etc/systemd/system/*', '/root/.ssh/authorized_keys']
  files_max:
    description: Stop after this many files (a finding says so).
    type: int
    default: 200000
  alertmanager_url:
    description: Base URL of Alertmanager (API v2).
    type: str
    default: http://localhost:9093
  alert_labels:
    description: Label matchers (equality) that select the security alerts.
    type: dict
    default: {team: security}
  validate_certs:
    description: Verify TLS certificates of C(https://) URLs, and of the Docker engine when O(tls) is on.
    type: bool
    default: true
  certificate_files:
    description: PEM certificate files whose expiry is checked.
    type: list
    elements: path
    default: [/etc/ssl/certs/cloudos.crt]
  certificate_endpoints:
    description: TLS endpoints (V(host:port)) whose certificate expiry is checked.
    type: list
    elements: str
    default: []
  hardening_state:
    description: State file written by the C(cloudos.ops.hardening) role with the settings it applied.
    type: path
    default: /var/lib/cloudos-ops/hardening.json
  hardening_expected:
    description:
      - Expected settings, merged over O(hardening_state) - C(sshd) (keys of C(sshd -T) to values), C(sysctl)
        (names to values), C(files) (path to C(mode) or C(max_mode)), C(services) (unit to C(active) or C(inactive)).
    type: dict
    default: {}
requirements:
  - Python 3.9 or later on the managed host; root (C(become)) to read the journal, C(sshd -T) and socket owners.
  - C(docker) Python SDK 5.0 or later for the C(containers) section.
notes:
  - No C(netstat) or C(ss) is needed; sockets are read from C(/proc/net) of the host's network namespace.
seealso:
  - module: cloudos.ops.cloudos_health
  - module: cloudos.ops.fleet_report
'''

EXAMPLES = r'''
- name: Daily security check
  cloudos.ops.cloudos_security_facts:
    connection_allowlist: [10.0.0.0/8]
    expected_listeners: [tcp/22, tcp/9090, tcp/9093, tcp/9100]
  become: true
  register: sec

- name: Show the findings
  ansible.builtin.debug:
    msg: "{{ sec.security.findings | map(attribute='message') | list }}"

- name: Only failed logins and changed files, stricter threshold
  cloudos.ops.cloudos_security_facts:
    checks: [auth, files]
    thresholds:
      auth_failures: 5
'''

RETURN = r'''
security:
  description: The security record of the host.
  returned: always
  type: dict
  contains:
    host:
      description: Host name.
      type: str
    status:
      description: Worst status of all sections (C(ok), C(warning), C(critical)); C(absent) and C(skipped) count as C(ok).
      type: str
      sample: warning
    checked_at:
      description: Start of the check (UTC, RFC 3339).
      type: str
    duration_ms:
      description: How long the check took.
      type: int
    checks:
      description: Section name to C(status), C(summary), C(metrics), C(findings) and C(details).
      type: dict
      sample:
        auth:
          status: warning
          summary: 31 failed authentications in 24 h from 2 sources (journal)
          metrics: {failures_24h: 31, sources: 2, users: 3, log: journal}
          details: {by_source: {192.0.2.7: 29, 198.51.100.4: 2}}
          findings: []
    findings:
      description: Every finding, critical first, with C(check), C(severity), C(message) and C(action).
      type: list
      elements: dict
    thresholds:
      description: The thresholds used.
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule

# First: from here on, each module this run imports from the payload is compiled once, not twice.
from ansible_collections.cloudos.ops.plugins.module_utils import _payload  # noqa: F401 pylint: disable=unused-import
from ansible_collections.cloudos.ops.plugins.module_utils import _docker, _security
from ansible_collections.cloudos.ops.plugins.module_utils._sections import run_module


def argument_spec():
    return _docker.argument_spec(
        checks=dict(type='list', elements='str', default=['all'], choices=['all'] + list(_security.SECURITY.names)),
        thresholds=dict(type='dict', default={}),
        timeout=dict(type='float', default=10.0),
        host=dict(type='str'),
        auth_source=dict(type='str', default='auto', choices=['auto', 'journal', 'file']),
        auth_log=dict(type='path', default='/var/log/auth.log'),
        connection_allowlist=dict(type='list', elements='str', default=[]),
        expected_listeners=dict(type='list', elements='str', default=[]),
        files_roots=dict(type='list', elements='path', default=['/etc', '/opt/cloudos']),
        files_ignore=dict(type='list', elements='str', default=list(_security.DEFAULT_IGNORE)),
        files_watched=dict(type='list', elements='str', default=list(_security.WATCHED)),
        files_max=dict(type='int', default=200000),
        alertmanager_url=dict(type='str', default='http://localhost:9093'),
        alert_labels=dict(type='dict', default={'team': 'security'}),
        validate_certs=dict(type='bool', default=True),
        certificate_files=dict(type='list', elements='path', default=['/etc/ssl/certs/cloudos.crt']),
        certificate_endpoints=dict(type='list', elements='str', default=[]),
        hardening_state=dict(type='path', default='/var/lib/cloudos-ops/hardening.json'),
        hardening_expected=dict(type='dict', default={}),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, _security.SECURITY, _security.SecurityHost, _security.validate_params, 'security')


if __name__ == '__main__':
    main()
