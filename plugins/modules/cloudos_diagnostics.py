#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_diagnostics
short_description: A redacted, size-bounded diagnostics bundle of a CloudOS host, with a manifest of every file
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Collects what the Troubleshooting section of the CloudOS Operations Guide asks for into one C(.tar.gz) archive
    under O(dest), with a C(.sha256) file beside it, and returns its path and checksum. Read-only on the host
    except for that archive.
  - "Collected: the journal of the units matching O(unit_patterns) since O(since); the state of those units
    (C(systemctl show), without their environment); C(docker logs --tail) and C(docker inspect) of the containers
    matching O(container_patterns) (through the Docker Engine API, every environment value masked as C(KEY=***));
    the top CPU and memory consumers (C(ps)); disk use (C(df)), I/O, CPU and memory pressure
    (C(/proc/pressure/*)), C(/proc/diskstats), load and memory; addresses and routes (C(ip), else C(/proc/net));
    listening sockets (C(ss -tulpn), else parsed from C(/proc/net/tcp*) and C(/proc/net/udp*));
    C(/etc/resolv.conf) and the resolution of O(resolve_names); C(cloudos config validate) where the C(cloudos)
    command exists; the configuration files under O(config_paths); and the health report given in O(health)."
  - >-
    Every text is redacted by rules B(before) anything is written - passwords, tokens, keys and secrets in
    C(key: value), C(key=value) and JSON C("key": "value") forms, PEM blocks, base64-encoded PEM, the password
    of C(scheme://user:password@host) URLs, C(Authorization) headers and bearer tokens, command-line
    C(--password value) - in configuration files and in command output alike (journal lines carry URLs with
    credentials). The C(manifest.json) of the archive counts the hits of each rule per file and in total.
  - Each part is bounded in time (O(command_timeout) per command) and size (O(max_file_size) per file, keeping the
    B(end) like C(sos report --log-size)); the whole bundle is bounded by O(max_size) - when it is reached, the
    collection stops and the manifest lists what was skipped. Before anything is collected, the free space of
    O(dest) is checked against O(max_size) plus O(free_space_margin); the module fails with the numbers when
    it is short.
  - The manifest lists for every file its path, source (command line or file path), return code, run time in
    milliseconds, size, whether it was truncated, its sha256 and the redaction hits; the totals; the host, the
    time window and the collector version. The archive holds a single directory with mode 0600 files; O(dest)
    gets mode 0700.
  - In check mode nothing is written; RV(sources) lists what would be collected.
options:
  dest:
    description:
      - Directory on the host for the archive (created with mode 0700).
    type: path
    default: /var/tmp/cloudos-diagnostics
  host:
    description:
      - Name of the host in the manifest and in the archive's name. Defaults to the host's own name.
    type: str
  since:
    description:
      - Start of the time window of the journal, a duration back from now (V(24h), V(90m), V(2d)) or a time in
        RFC 3339, for example the C(startsAt) of an alert (V(2024-05-01T03:12:00Z)).
    type: str
    default: 24h
  unit_patterns:
    description:
      - systemd units (shell patterns) whose journal and state are collected.
    type: list
    elements: str
    default: ['cloudos-*']
  container_patterns:
    description:
      - Containers (shell patterns on the name) whose logs and inspect output are collected. Empty collects none.
    type: list
    elements: str
    default: ['cloudos-*']
  config_paths:
    description:
      - Configuration files or directories (read recursively, symbolic links not followed, at most 500 files)
        copied, redacted, into C(config/) of the bundle.
    type: list
    elements: path
    default: [/etc/cloudos, /opt/cloudos/config]
  resolve_names:
    description:
      - Names to resolve with the host's resolver (C(getaddrinfo)), each bounded by O(dns_timeout).
    type: list
    elements: str
    default: []
  dns_timeout:
    description:
      - Seconds to wait for each name of O(resolve_names).
    type: int
    default: 5
  health:
    description:
      - The C(health) result of M(cloudos.ops.cloudos_health) for this host, stored (redacted) as
        C(cloudos/health.json). Omit to leave it out.
    type: dict
  command_timeout:
    description:
      - Seconds each command may run (through C(timeout) when it is installed); a command that runs longer is
        stopped and recorded with return code 124 and an C(error).
    type: int
    default: 30
  journal_lines:
    description:
      - At most this many journal lines (the newest). V(0) for no line limit (O(max_file_size) still applies).
    type: int
    default: 200000
  docker_log_lines:
    description:
      - Log lines per container, like C(docker logs --tail).
    type: int
    default: 2000
  top:
    description:
      - Number of processes listed in C(processes/top-cpu.txt) and C(processes/top-memory.txt).
    type: int
    default: 25
  max_file_size:
    description:
      - Largest size of one file of the bundle (after redaction), for example V(25M); a longer one keeps its
        end, starting with a line that says how much was cut, and is marked C(truncated) in the manifest.
    type: str
    default: 25M
  max_size:
    description:
      - Largest size of all the files of the bundle together. When it is reached, the file being added keeps
        its end, collecting stops, and the manifest says so (C(stopped), C(skipped)).
    type: str
    default: 200M
  free_space_margin:
    description:
      - Free space that must remain in O(dest) in addition to O(max_size); the module refuses to start when
        there is less.
    type: str
    default: 100M
extends_documentation_fragment:
  - cloudos.ops.docker
attributes:
  check_mode:
    description: Can run in check mode and return what it would collect.
    support: full
    details: Nothing is written; RV(sources) lists every file with its source.
  diff_mode:
    description: Returns details on what changed.
    support: none
requirements:
  - docker (the Python SDK) 5.0 or later on the managed host, to collect containers (without it, the bundle
    says so in C(docker/error.txt))
notes:
  - Runs as root (the archive is readable by root only). Nothing on the host is changed but O(dest).
  - >-
    Redaction is by rules and errs towards hiding: a key whose name contains C(pass), C(pwd), C(secret),
    C(token), C(key), C(credential), C(auth), C(cookie), C(signature), C(private) or C(salt) loses its value.
    A secret in free text without such a key (C(the password is hunter2)) is not recognised.
  - The journal is read with C(journalctl --since @<unix time>); the window is in the manifest (C(window)).
  - Redaction hits are counted on the whole text, before a file is cut to O(max_file_size).
  - Host names, addresses and user names are kept; the C(cloudos.ops.diagnostics) playbook can replace them
    consistently across hosts on the controller (C(diagnostics_obfuscate)).
seealso:
  - module: cloudos.ops.cloudos_health
  - name: sos report
    description: The diagnostics tool of RHEL and Ubuntu, whose limits and manifest this module follows.
    link: https://github.com/sosreport/sos
'''

EXAMPLES = r'''
- name: Health first, so the bundle carries the report of this moment
  cloudos.ops.cloudos_health:
  register: health

- name: Diagnostics bundle of the last 24 hours
  cloudos.ops.cloudos_diagnostics:
    health: "{{ health.health }}"
    resolve_names: [api.cloudos.example.com, registry.example.com]
  register: diagnostics

- name: Since an alert fired, smaller files
  cloudos.ops.cloudos_diagnostics:
    since: "2024-05-01T03:12:00Z"
    max_file_size: 5M
    max_size: 50M

- name: What would be collected (nothing is written)
  cloudos.ops.cloudos_diagnostics:
  check_mode: true
  register: plan
'''

RETURN = r'''
archive:
  description: Path of the archive on the host (not returned in check mode).
  returned: success and not check mode
  type: str
  sample: /var/tmp/cloudos-diagnostics/cloudos-diagnostics-web01-20240501T031500Z.tar.gz
sha256:
  description: sha256 of the archive, also in C(<archive>.sha256) (C(sha256sum -c) format).
  returned: success and not check mode
  type: str
sha256_file:
  description: Path of the C(.sha256) file beside the archive.
  returned: success and not check mode
  type: str
archive_bytes:
  description: Size of the archive in bytes.
  returned: success and not check mode
  type: int
name:
  description: Name of the bundle (the archive's top directory).
  returned: success and not check mode
  type: str
totals:
  description: Files, bytes, truncated files, files with errors, skipped files and redaction hits per rule.
  returned: success and not check mode
  type: dict
  sample: {"files": 31, "bytes": 482113, "truncated": 1, "errors": 0, "skipped": 0,
           "redactions": {"docker_env": 6, "url_credentials": 2, "yaml_secret": 3}, "redaction_total": 11}
stopped:
  description: Why collecting stopped early (O(max_size) reached), else null.
  returned: success and not check mode
  type: str
window:
  description: The journal's time window (C(since), C(until)).
  returned: success and not check mode
  type: dict
manifest:
  description: The manifest as written into the archive (C(manifest.json)).
  returned: success and not check mode
  type: dict
sources:
  description: Every file the bundle has (check mode - would have), with its source.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "journal/cloudos-units.log", "source": ["/usr/bin/journalctl", "--no-pager", "..."]}]
obfuscation:
  description: Names the controller may replace when it obfuscates the bundle (host names, local user names).
  returned: success
  type: dict
  sample: {"hostnames": ["web01", "web01.example.com"], "users": ["alice"]}
'''

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _common
from ansible_collections.cloudos.ops.plugins.module_utils import _diagnostics as diag
from ansible_collections.cloudos.ops.plugins.module_utils import _docker


def argument_spec():
    return _docker.argument_spec(
        dest=dict(type='path', default=diag.DEFAULT_DEST),
        host=dict(type='str'),
        since=dict(type='str', default='24h'),
        unit_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        container_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        config_paths=dict(type='list', elements='path', default=list(diag.DEFAULT_CONFIG_PATHS)),
        resolve_names=dict(type='list', elements='str', default=[]),
        dns_timeout=dict(type='int', default=5),
        health=dict(type='dict'),
        command_timeout=dict(type='int', default=30),
        journal_lines=dict(type='int', default=200000),
        docker_log_lines=dict(type='int', default=2000),
        top=dict(type='int', default=25),
        max_file_size=dict(type='str', default='25M'),
        max_size=dict(type='str', default='200M'),
        free_space_margin=dict(type='str', default='100M'),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    _common.set_c_locale(module)
    try:
        params = diag.check_params(module.params, time.time())
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    host_name = params['host'] or socket.gethostname()
    host = diag.Host(diag.command_runner(module.run_command, module.get_bin_path('timeout')),
                     lambda name: module.get_bin_path(name, opt_dirs=['/usr/sbin', '/sbin']), diag.read_bytes,
                     docker_opts=_docker.options(params))
    hints = diag.obfuscation_hints(host_name, socket.getfqdn(), diag.local_users())
    try:
        result = diag.run(params, host, host_name, hints, check_mode=module.check_mode, move=module.atomic_move)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
