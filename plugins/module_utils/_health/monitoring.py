# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``monitoring`` section: Prometheus ``/-/healthy``, Grafana ``/api/health`` (its
``database`` field) and Alertmanager ``/-/healthy``, asked concurrently.

A component whose endpoint refuses the connection and that has neither a systemd unit
nor a container is ``absent``; one that has them is down (critical). An answer that is
too slow, an HTTP error or a body that makes no sense is critical.
"""

from __future__ import annotations

import json

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import AlertmanagerClient
from ansible_collections.cloudos.ops.plugins.module_utils._http import get_only, join_url
from ansible_collections.cloudos.ops.plugins.module_utils._prometheus import PrometheusClient
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, Section, not_answering, not_installed, probe_url, run_parallel)

DEFAULT_UNITS = {
    'prometheus': ['prometheus.service'],
    'grafana': ['grafana-server.service', 'grafana.service'],
    'alertmanager': ['prometheus-alertmanager.service', 'alertmanager.service'],
    'ai_engine': ['cloudos-ai-engine.service'],
}
CONTAINER_HINTS = {
    'prometheus': ['prometheus'],
    'grafana': ['grafana'],
    'alertmanager': ['alertmanager'],
    'ai_engine': ['ai-engine', 'ai_engine'],
}
LABELS = {'prometheus': 'Prometheus', 'grafana': 'Grafana', 'alertmanager': 'Alertmanager', 'ai_engine': 'AI engine'}
PATHS = {'prometheus': '/-/healthy', 'grafana': '/api/health', 'alertmanager': '/-/healthy'}
RESTART = {
    'prometheus': 'systemctl status prometheus; journalctl -u prometheus -n 100 --no-pager; systemctl restart prometheus',
    'grafana': 'systemctl status grafana-server; journalctl -u grafana-server -n 100 --no-pager; systemctl restart grafana-server',
    'alertmanager': ('systemctl status prometheus-alertmanager; journalctl -u prometheus-alertmanager -n 100 --no-pager; '
                     'systemctl restart prometheus-alertmanager'),
    'ai_engine': ('systemctl status cloudos-ai-engine; journalctl -u cloudos-ai-engine -n 100 --no-pager '
                  '(or docker logs --tail 100 cloudos-ai-engine); systemctl restart cloudos-ai-engine'),
}


# Where systemd does not run (a container, a host booted with another init) systemctl cannot
# work: the same advice with the init system's `service` command and the logs it keeps.
NO_SYSTEMD = {
    'prometheus': 'service prometheus status; tail -n 100 /var/log/prometheus/prometheus.log; service prometheus restart',
    'grafana': 'service grafana-server status; tail -n 100 /var/log/grafana/grafana.log; service grafana-server restart',
    'alertmanager': ('service prometheus-alertmanager status; tail -n 100 /var/log/prometheus/prometheus-alertmanager.log; '
                     'service prometheus-alertmanager restart'),
    'ai_engine': ('systemd is not running here: docker logs --tail 100 cloudos-ai-engine; docker restart cloudos-ai-engine '
                  '(or start the engine as its installation describes)'),
}


def restart_advice(host, component):
    """What to run when ``component`` is down, for the init system this host has: systemctl and
    journalctl when systemd runs (``core.Host.systemd_running``), ``service`` otherwise."""
    try:
        running = host.systemd_running()
    except Exception:  # pylint: disable=broad-except
        running = True
    return RESTART[component] if running else NO_SYSTEMD[component]


def units_for(params, component):
    custom = (params.get('component_units') or {}).get(component)
    return list(custom) if custom else DEFAULT_UNITS[component]


def grafana_database(body_text):
    """The ``database`` field of Grafana's ``/api/health`` answer, or raise ValueError."""
    data = json.loads(body_text)
    if not isinstance(data, dict) or 'database' not in data:
        raise ValueError('no "database" field')
    return str(data['database']), str(data.get('version', ''))


def ask(host, params, component, url):
    """``(response, None)`` or ``(None, HttpError)`` for the health endpoint at ``url``; Prometheus
    and Alertmanager through their clients (Grafana has no client: this GET is all we ask it)."""
    send = get_only(host.http_get)
    if component == 'prometheus':
        return probe_url(host, url, get=PrometheusClient(params['prometheus_url'], timeout=None, send=send).healthy)
    if component == 'alertmanager':
        return probe_url(host, url, get=AlertmanagerClient(params['alertmanager_url'], timeout=None, send=send).healthy)
    return probe_url(host, url)


def check_component(host, params, component):
    """``(state, message, metrics)``: state one of up, absent, down, failing, unhealthy."""
    url = join_url(params['%s_url' % component], PATHS[component])
    label = LABELS[component]
    resp, err = ask(host, params, component, url)
    metrics = {}
    if err is not None:
        if component == 'grafana' and err.kind == 'http' and err.body:
            try:
                database, version = grafana_database(err.body)
                return 'unhealthy', 'Grafana answers HTTP %s with database "%s" at %s' % (err.status, database, url), \
                    {'grafana_version': version}
            except ValueError:
                pass
        state, evidence = not_answering(host, err, units_for(params, component), CONTAINER_HINTS[component])
        if state == 'absent':
            return 'absent', '%s not installed (nothing answers at %s, no unit or container)' % (label, url), metrics
        if state == 'down':
            return 'down', '%s is down: %s but %s' % (label, evidence, err.message), metrics
        return 'failing', '%s is not healthy: %s' % (label, err.message), metrics
    metrics['%s_response_ms' % component] = resp.elapsed_ms
    if component == 'grafana':
        try:
            database, version = grafana_database(resp.text)
        except ValueError as exc:
            return 'failing', 'Grafana answered %s with something that is not its health JSON (%s): %.200s' % (
                url, exc, resp.text), metrics
        metrics['grafana_version'] = version
        if database != 'ok':
            return 'unhealthy', 'Grafana database is "%s" (expected "ok") at %s' % (database, url), metrics
    return 'up', '%s healthy' % label, metrics


def probe(host, params, thresholds):
    sec = Section('monitoring')
    required = params.get('required') or []
    components = ('prometheus', 'grafana', 'alertmanager')
    raw = run_parallel(dict((c, (lambda c=c: check_component(host, params, c))) for c in components),
                       float(params['timeout']) + 1.0)
    states = {}
    for component in components:
        kind, value = raw[component]
        if kind == 'ok':
            state, message, metrics = value
        elif kind == 'timeout':
            state, message, metrics = 'failing', '%s did not answer within %ss' % (LABELS[component], params['timeout']), {}
        else:
            state, message, metrics = 'failing', '%s check failed: %s' % (LABELS[component], value), {}
        states[component] = state
        sec.metrics[component] = state
        sec.metrics.update(metrics)
        if state == 'absent':
            not_installed(sec, component, required, LABELS[component], message)
        elif state != 'up':
            sec.add(CRITICAL, message, restart_advice(host, component))
    if all(s == 'absent' for s in states.values()) and not sec.findings:
        sec.set_absent('Prometheus, Grafana and Alertmanager are not installed')
        return sec
    sec.summary = ', '.join('%s %s' % (LABELS[c], states[c]) for c in components)
    return sec


def counted_here(params):
    """Whether this module run's ``monitoring`` section reports Alertmanager being down (so that
    another section refers to it instead of counting the same outage again)."""
    checks = params.get('checks') or ['all']
    return 'all' in checks or 'monitoring' in checks
