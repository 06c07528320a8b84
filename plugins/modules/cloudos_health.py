#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_health
short_description: Morning health check of a CloudOS host in one round trip
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Runs every section of the CloudOS Operations Guide's morning health check on the managed host and
    returns one structured record, C(health), with a status per section and a list of findings,
    each with the guide's recommended action.
  - Reads real sources, not command text. C(system) and C(resources) read C(/proc) and C(statvfs);
    C(services) asks systemd with C(systemctl show); C(containers) asks the Docker Engine API itself (over
    the unix socket or C(tcp://), with TLS when set), without the C(docker) SDK; C(kubernetes) asks the
    Kubernetes API through the C(kubernetes) client and a kubeconfig;
    C(monitoring), C(alerts) and C(ai_engine) speak HTTP to Prometheus, Grafana, Alertmanager (API v2) and the
    AI engine; C(certificates) reads PEM files and TLS endpoints.
  - Read-only, except for the textfile that O(textfile_dir) asks for. C(changed) is true only when that file
    was (or, under C(--check), would be) rewritten, and the checks give the same result under C(--check).
  - Sections run concurrently, and so do the HTTP probes inside a section, so a host where every component
    is down still answers within about O(timeout) seconds (plus the CPU sampling window), not the sum of
    the timeouts. A section still running when that budget is spent becomes a critical finding.
  - A component counts as installed when its endpoint answers, or its systemd unit or container exists.
    A component that is not installed is reported C(absent), which is not a failure, unless it is listed in
    O(required). A component that is installed but refuses connections, answers too slowly, answers an HTTP
    error or a body that makes no sense is a finding with a clear message. The module never fails because a
    component is down; it fails only on bad parameters.
  - 'Severity rules (also in C(docs/cloudos_health.md)): a value strictly above a threshold is a warning, strictly above
    its C(_critical) threshold is critical. CPU, memory and disk use, container restarts in 24 h and the AI
    error rate follow this rule. More than C(alerts_warning) firing warning alerts is a warning; more than
    C(alerts_critical) firing critical alerts is critical. A certificate with fewer than C(certificate_days) days
    left is a warning; with fewer than C(certificate_days_critical), or expired, critical.'
  - 'Other rules: a failed systemd unit or one in an auto-restart loop is critical, an inactive one is a warning
    (unless a timer triggers it or it is static and last succeeded); a Docker container that is restarting,
    dead or unhealthy is critical, one that exited with a non-zero code or is paused is a warning; a Kubernetes
    node that is not Ready and a pod in CrashLoopBackOff are critical, pods in Error, image pull errors, Failed or
    Pending are warnings; Prometheus or Alertmanager down, or Grafana with a database other than C(ok), are
    critical; an AI engine C(/health) status other than C(healthy) (C(ok), C(up), C(pass)) is critical, except
    C(degraded) which is a warning; no loaded model is a warning.'
  - The host C(status) is the worst severity of all sections; C(absent) and C(skipped) count as C(ok).
options:
  checks:
    description:
      - Sections to run. V(all) runs every section. Sections not selected are returned with status C(skipped).
    type: list
    elements: str
    choices: [all, system, services, containers, kubernetes, monitoring, alerts, resources, ai_engine, certificates]
    default: [all]
  thresholds:
    description:
      - Overrides of the default thresholds (the guide's "Key Metrics to Monitor Daily" table). Unknown keys and
        values that are not numbers fail the module, naming the key and the value.
      - 'Keys and defaults: C(cpu: 80), C(cpu_critical: 100) (a short sample at 100 % is normal, so never critical
        by default), C(memory: 85), C(memory_critical: 95), C(disk: 80), C(disk_critical: 95),
        C(alerts_warning: 2), C(alerts_critical: 0), C(container_restarts: 5), C(container_restarts_critical: 20),
        C(ai_error_rate: 5), C(ai_error_rate_critical: 25), C(certificate_days: 30), C(certificate_days_critical: 7).'
      - Percentages are 0 to 100; a value may be written as a string such as V("90%").
    type: dict
    default: {}
  timeout:
    description:
      - Seconds each probe waits for a component (HTTP, Docker, Kubernetes, systemctl, TLS).
      - The whole check answers within about this time plus O(cpu_sample_seconds).
    type: float
    default: 5
  cpu_sample_seconds:
    description:
      - Window over which CPU use is sampled from C(/proc/stat) (concurrently with the other probes). 0 to 10.
      - The window opens as the check starts, and the CPU time the module itself uses meanwhile is left out,
        so the figure is the host's load without the check.
    type: float
    default: 1.0
  host:
    description:
      - Name to report as C(health.host). Defaults to the managed host's host name.
    type: str
  prometheus_url:
    description: Base URL of Prometheus.
    type: str
    default: http://localhost:9090
  grafana_url:
    description: Base URL of Grafana.
    type: str
    default: http://localhost:3000
  alertmanager_url:
    description: Base URL of Alertmanager (API v2 is used).
    type: str
    default: http://localhost:9093
  ai_engine_url:
    description: Base URL of the CloudOS AI engine.
    type: str
    default: http://localhost:8000
  ai_engine_metrics_path:
    description: Path of the AI engine's metrics in Prometheus text format.
    type: str
    default: /metrics
  ai_engine_requests_metric:
    description: Counter of inference requests (summed over its label sets).
    type: str
    default: cloudos_inference_requests_total
  ai_engine_errors_metric:
    description: Counter of failed inference requests (summed over its label sets).
    type: str
    default: cloudos_inference_errors_total
  validate_certs:
    description:
      - Verify TLS certificates of C(https://) URLs, and of the Docker engine when O(tls) is on. Certificate
        expiry checks never verify.
    type: bool
    default: true
  service_patterns:
    description: systemd unit names or globs to check in the C(services) section.
    type: list
    elements: str
    default: ['cloudos-*']
  disks:
    description:
      - Paths whose file systems are checked. Paths that do not exist are left out; a path on the same file
        system as an earlier one (for example V(/opt) on the root file system) is reported once, with it.
    type: list
    elements: str
    default: [/, /opt, /var]
  certificate_files:
    description:
      - PEM (or DER) certificate files; the first certificate of each file is checked.
        A file that does not exist is C(absent) unless V(certificates) is in O(required).
    type: list
    elements: path
    default: [/etc/ssl/certs/cloudos.crt]
  certificate_endpoints:
    description:
      - TLS endpoints as V(host:port) (or V([v6]:port)) whose served certificate is checked, without verification.
    type: list
    elements: str
    default: []
  kubeconfig:
    description:
      - Kubeconfig file on the managed host. Defaults to the first existing file of E(KUBECONFIG), else
        C(~/.kube/config); with neither, C(kubernetes) is C(absent).
    type: path
  kube_context:
    description: Context of the kubeconfig to use (default its current context).
    type: str
  required:
    description:
      - Components whose absence is critical instead of C(absent).
    type: list
    elements: str
    choices: [services, containers, docker, kubernetes, monitoring, prometheus, grafana, alertmanager, alerts, ai_engine, certificates]
    default: []
  component_units:
    description:
      - systemd units whose existence shows that a component is installed when its endpoint refuses connections
        (a down component is critical; one that is not installed is C(absent)).
      - 'Keys: C(prometheus) (default C(prometheus.service)), C(grafana) (C(grafana-server.service), C(grafana.service)),
        C(alertmanager) (C(prometheus-alertmanager.service), C(alertmanager.service)), C(ai_engine)
        (C(cloudos-ai-engine.service)), C(docker) (C(docker.service)). Containers whose name contains the component
        name also count. Without a running systemd, a unit file in the usual systemd directories counts.'
    type: dict
    default: {}
  textfile_dir:
    description:
      - When set, the result is also written to C(<textfile_dir>/cloudos_health.prom) on the managed host for the node
        exporter's textfile collector (its C(--collector.textfile.directory)), in the same round trip.
      - The file is replaced atomically (a temporary file in the same directory, then a rename, so the collector never
        reads half a file) with mode C(0644), and only when its text changed. Nothing is written under C(--check).
      - 'The metrics: C(cloudos_health_check_status{check}), C(cloudos_health_status), C(cloudos_health_findings{severity}),
        C(cloudos_health_last_run_timestamp_seconds) and C(cloudos_health_duration_seconds) (see the
        C(cloudos.ops.health_textfile) filter, which renders the same text on the controller).'
      - The directory must exist; a C(cloudos_health.prom) there that is not a regular file (a link, a directory)
        fails the module.
    type: path
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details: The checks run the same; the textfile of O(textfile_dir) is not written, C(changed) says whether it would be.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: partial
    details: The textfile of O(textfile_dir), before and after; the checks change nothing.
extends_documentation_fragment:
  - cloudos.ops.docker
requirements:
  - Python 3.9 or later on the managed host.
  - C(docker) Python SDK 5.0 or later only when O(docker_host) is an C(ssh://) engine (Debian C(python3-docker));
    C(unix://) and C(tcp://) engines are asked without it, whatever the shared Docker options say.
  - C(kubernetes) Python client for the C(kubernetes) section (Debian C(python3-kubernetes)).
  - Nothing for the C(certificates) section, which reads certificates itself; C(cryptography), else the C(openssl)
    command, only for a certificate it cannot read.
notes:
  - Without a Docker engine (see O(docker_host)), C(containers) is C(absent), or critical when the
    C(docker.service) unit exists (installed but not running).
  - A missing optional Python library is reported as a finding of its section (a warning, critical when the
    component is required), never as a module failure.
  - The AI engine error rate is errors divided by requests of the engine's counters since it started.
  - Restarts in the last 24 h come from Docker's event log; when it cannot be read, C(RestartCount) (since
    creation) is used and C(metrics.restarts_source) says so.
seealso:
  - name: CloudOS Operations Guide, Morning Health Check
    description: The checks and thresholds this module automates.
    link: https://github.com/cloudos/cloudos.ops/blob/main/docs/cloudos_health.md
'''

EXAMPLES = r'''
- name: Morning health check
  cloudos.ops.cloudos_health:
  register: morning

- name: Fail on critical findings
  ansible.builtin.assert:
    that: morning.health.status != 'critical'
    fail_msg: "{{ morning.health.findings | selectattr('severity', 'eq', 'critical') | map(attribute='message') | list }}"

- name: Only monitoring and alerts, stricter disk threshold, Alertmanager required
  cloudos.ops.cloudos_health:
    checks: [monitoring, alerts, resources]
    thresholds:
      disk: 70
      disk_critical: 90
    required: [alertmanager]
    alertmanager_url: http://alertmanager.internal:9093
    timeout: 3

- name: Certificates of the API and its file, Kubernetes through a given kubeconfig
  cloudos.ops.cloudos_health:
    checks: [certificates, kubernetes]
    certificate_files: [/etc/ssl/certs/cloudos.crt]
    certificate_endpoints: ['127.0.0.1:443']
    kubeconfig: /etc/kubernetes/admin.conf

- name: Also export the result for the node exporter's textfile collector
  cloudos.ops.cloudos_health:
    textfile_dir: /var/lib/prometheus/node-exporter
'''

RETURN = r'''
textfile:
  description: The textfile of O(textfile_dir).
  returned: when O(textfile_dir) is set
  type: dict
  contains:
    path:
      description: The file, C(<textfile_dir>/cloudos_health.prom).
      type: str
      returned: always
    changed:
      description: Whether its text changed (under C(--check), would change).
      type: bool
      returned: always
  sample:
    path: /var/lib/prometheus/node-exporter/cloudos_health.prom
    changed: true
health:
  description: The host's health record.
  returned: always
  type: dict
  contains:
    host:
      description: Host name (O(host), else the managed host's name).
      type: str
      sample: cloudos-prod-1
    status:
      description: Worst severity over all sections.
      type: str
      choices: [ok, warning, critical]
      sample: warning
    checked_at:
      description: Start of the check, RFC 3339, UTC.
      type: str
      sample: '2026-11-26T06:00:00Z'
    duration_ms:
      description: Wall time of the check in milliseconds.
      type: int
      sample: 1180
    thresholds:
      description: The effective thresholds (defaults merged with O(thresholds)).
      type: dict
      sample: {cpu: 80, memory: 85, disk: 80, alerts_warning: 2, alerts_critical: 0}
    checks:
      description:
        - One entry per section (system, services, containers, kubernetes, monitoring, alerts, resources,
          ai_engine, certificates), each with C(status) (ok, warning, critical, absent, skipped), C(summary)
          (one human line), C(metrics) (names to numbers or strings), C(findings) (as in RV(health.findings))
          and, where useful, C(details) (lists of units, containers, alerts, file systems or certificates).
      type: dict
      sample:
        resources:
          status: ok
          summary: CPU 12%, memory 41%, disk / 55%
          metrics: {cpu_pct: 12.3, memory_pct: 41.0, disk_pct: 55.2}
          findings: []
        kubernetes:
          status: absent
          summary: no kubeconfig (kubeconfig option, $KUBECONFIG, ~/.kube/config)
          metrics: {}
          findings: []
    findings:
      description: Every finding of every section, critical ones first.
      type: list
      elements: dict
      contains:
        check:
          description: Section that produced it.
          type: str
        severity:
          description: V(warning) or V(critical).
          type: str
        message:
          description: What is wrong, with the values involved.
          type: str
        action:
          description: What to do about it (the guide's "Action Required" or troubleshooting step).
          type: str
        metric:
          description: Metric name in the section's C(metrics), for threshold findings.
          type: str
          returned: for threshold findings
        value:
          description: Measured value, for threshold findings.
          type: raw
          returned: for threshold findings
        threshold:
          description: Threshold that was crossed, for threshold findings.
          type: raw
          returned: for threshold findings
      sample:
        - check: alerts
          severity: critical
          message: 'critical alert firing: DiskFull on node1: / is 97% full'
          action: 'Investigate now (guide: any critical alert)'
          metric: critical
          value: 1
          threshold: 0
'''

from ansible.module_utils.basic import AnsibleModule

# First: from here on, each module this run imports from the payload is compiled once, not twice.
from ansible_collections.cloudos.ops.plugins.module_utils import _payload  # noqa: F401 pylint: disable=unused-import
from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._health import core, textfile
from ansible_collections.cloudos.ops.plugins.module_utils._health.registry import HEALTH
from ansible_collections.cloudos.ops.plugins.module_utils._sections import run_module


def argument_spec():
    return _docker.argument_spec(
        checks=dict(type='list', elements='str', default=['all'], choices=['all'] + list(HEALTH.names)),
        thresholds=dict(type='dict', default={}),
        timeout=dict(type='float', default=5.0),
        cpu_sample_seconds=dict(type='float', default=1.0),
        host=dict(type='str'),
        prometheus_url=dict(type='str', default='http://localhost:9090'),
        grafana_url=dict(type='str', default='http://localhost:3000'),
        alertmanager_url=dict(type='str', default='http://localhost:9093'),
        ai_engine_url=dict(type='str', default='http://localhost:8000'),
        ai_engine_metrics_path=dict(type='str', default='/metrics'),
        ai_engine_requests_metric=dict(type='str', default='cloudos_inference_requests_total'),
        ai_engine_errors_metric=dict(type='str', default='cloudos_inference_errors_total'),
        validate_certs=dict(type='bool', default=True),
        service_patterns=dict(type='list', elements='str', default=['cloudos-*']),
        disks=dict(type='list', elements='str', default=['/', '/opt', '/var']),
        certificate_files=dict(type='list', elements='path', default=['/etc/ssl/certs/cloudos.crt']),
        certificate_endpoints=dict(type='list', elements='str', default=[]),
        kubeconfig=dict(type='path'),
        kube_context=dict(type='str'),
        required=dict(type='list', elements='str', default=[], choices=sorted(core.COMPONENTS)),
        component_units=dict(type='dict', default={}),
        textfile_dir=dict(type='path'),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, HEALTH, core.Host, core.validate_params, 'health', export=textfile.export)


if __name__ == '__main__':
    main()
