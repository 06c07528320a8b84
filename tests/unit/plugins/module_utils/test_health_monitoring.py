# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``monitoring`` and ``ai_engine``: installed vs absent, down, slow and garbage answers, Grafana's
database field, AI engine status, models and error rate."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError
from ansible_collections.cloudos.ops.plugins.module_utils._health import ai_engine, monitoring

from health_fakes import THRESHOLDS, FakeHost, params

PROM = 'http://localhost:9090/-/healthy'
GRAF = 'http://localhost:3000/api/health'
AM = 'http://localhost:9093/-/healthy'
HEALTH = 'http://localhost:8000/health'
MODELS = 'http://localhost:8000/api/v1/models'
METRICS = 'http://localhost:8000/metrics'
ALL_UP = {PROM: (200, 'Prometheus Server is Healthy.\n'), GRAF: (200, {'database': 'ok', 'version': '10.4.2'}),
          AM: (200, 'OK')}


def test_all_healthy():
    sec = monitoring.probe(FakeHost(urls=ALL_UP), params(), THRESHOLDS)
    assert sec.status == 'ok'
    assert sec.summary == 'Prometheus up, Grafana up, Alertmanager up'
    assert sec.metrics['grafana_version'] == '10.4.2'


def test_all_absent_is_absent():
    sec = monitoring.probe(FakeHost(), params(), THRESHOLDS)
    assert sec.status == 'absent' and sec.findings == []


def test_required_component_missing_is_critical():
    sec = monitoring.probe(FakeHost(), params(required=['prometheus']), THRESHOLDS)
    assert sec.status == 'critical' and 'Prometheus is required but was not found' in sec.findings[0]['message']


def test_stopped_unit_is_down_and_critical():
    urls = dict(ALL_UP)
    del urls[PROM]
    sec = monitoring.probe(FakeHost(urls=urls, units=['prometheus.service']), params(), THRESHOLDS)
    assert sec.status == 'critical'
    assert sec.metrics['prometheus'] == 'down'
    assert 'Prometheus is down: systemd unit prometheus.service exists but' in sec.findings[0]['message']
    assert 'systemctl restart prometheus' in sec.findings[0]['action']


def test_container_counts_as_installed():
    urls = dict(ALL_UP)
    del urls[GRAF]
    sec = monitoring.probe(FakeHost(urls=urls, containers=['cloudos-grafana']), params(), THRESHOLDS)
    assert 'container cloudos-grafana exists' in sec.findings[0]['message']


def test_grafana_database_failing_is_critical():
    urls = dict(ALL_UP)
    urls[GRAF] = (503, {'database': 'failing', 'version': '10.4.2'})
    sec = monitoring.probe(FakeHost(urls=urls), params(), THRESHOLDS)
    assert sec.status == 'critical' and sec.metrics['grafana'] == 'unhealthy'
    assert 'database "failing"' in sec.findings[0]['message']


def test_grafana_garbage_and_timeout():
    urls = dict(ALL_UP)
    urls[GRAF] = (200, '<html>login</html>')
    urls[AM] = HttpError('GET %s timed out after 2.0s' % AM, url=AM, kind='timeout')
    sec = monitoring.probe(FakeHost(urls=urls), params(), THRESHOLDS)
    messages = ' | '.join(f['message'] for f in sec.findings)
    assert 'not its health JSON' in messages and 'timed out' in messages
    assert sec.metrics['alertmanager'] == 'failing'


def test_custom_component_units():
    urls = dict(ALL_UP)
    del urls[PROM]
    sec = monitoring.probe(FakeHost(urls=urls, units=['my-prom.service']),
                           params(component_units={'prometheus': ['my-prom.service']}), THRESHOLDS)
    assert sec.metrics['prometheus'] == 'down'


# ---------------------------------------------------------------- ai engine

METRICS_TEXT = '''# HELP cloudos_inference_requests_total x
# TYPE cloudos_inference_requests_total counter
cloudos_inference_requests_total{model="a"} 600
cloudos_inference_requests_total{model="b",path="/x{y}"} 400
cloudos_inference_errors_total{model="a"} 50
cloudos_inference_errors_total{model="b"} 30 1700000000000
cloudos_inference_errors_total_other 999
'''


def ai_host(health=None, models=None, metrics=METRICS_TEXT, **kw):
    urls = {HEALTH: (200, health if health is not None else {'status': 'healthy'}),
            MODELS: (200, models if models is not None else {'loaded_models': ['a', 'b']})}
    if metrics is not None:
        urls[METRICS] = (200, metrics)
    return FakeHost(urls=urls, **kw)


def test_parse_metrics_sums_label_sets():
    sums = ai_engine.parse_metrics(METRICS_TEXT, ['cloudos_inference_requests_total', 'cloudos_inference_errors_total'])
    assert sums == {'cloudos_inference_requests_total': 1000.0, 'cloudos_inference_errors_total': 80.0}


def test_error_rate_8_percent_is_warning():
    sec = ai_engine.probe(ai_host(), params(), THRESHOLDS)
    assert sec.status == 'warning'
    finding = sec.findings[0]
    assert (finding['metric'], finding['value'], finding['threshold']) == ('error_rate_pct', 8.0, 5)
    assert sec.metrics['models_loaded'] == 2
    assert sec.summary == 'status healthy, 2 models loaded, error rate 8.0%'


def test_error_rate_critical_and_zero_requests():
    text = 'cloudos_inference_requests_total 100\ncloudos_inference_errors_total 30\n'
    assert ai_engine.probe(ai_host(metrics=text), params(), THRESHOLDS).status == 'critical'
    text = 'cloudos_inference_requests_total 0\n'
    sec = ai_engine.probe(ai_host(metrics=text), params(), THRESHOLDS)
    assert sec.status == 'ok' and sec.metrics['error_rate_pct'] == 0.0


def test_metrics_not_exposed_is_unknown_not_failure():
    sec = ai_engine.probe(ai_host(metrics=None, units=[]), params(), THRESHOLDS)
    assert sec.status == 'warning'  # connection refused on /metrics while /health answers: odd, say so
    host = ai_host(metrics=None)
    host.urls[METRICS] = (404, 'Not Found')
    sec = ai_engine.probe(host, params(), THRESHOLDS)
    assert sec.status == 'ok' and sec.metrics['error_rate_pct'] == 'unknown'


def test_configurable_metric_names():
    text = 'ai_requests 200\nai_failures 2\n'
    p = params(ai_engine_requests_metric='ai_requests', ai_engine_errors_metric='ai_failures')
    sec = ai_engine.probe(ai_host(metrics=text), p, THRESHOLDS)
    assert sec.metrics['error_rate_pct'] == 1.0 and sec.status == 'ok'


def test_status_and_models_rules():
    assert ai_engine.probe(ai_host(health={'status': 'degraded'}), params(), THRESHOLDS).findings[0]['severity'] == 'warning'
    sec = ai_engine.probe(ai_host(health={'status': 'unhealthy'}), params(), THRESHOLDS)
    assert sec.findings[0]['severity'] == 'critical' and 'status "unhealthy"' in sec.findings[0]['message']
    sec = ai_engine.probe(ai_host(models={'loaded_models': []}, metrics='cloudos_inference_requests_total 1\n'), params(), THRESHOLDS)
    assert sec.status == 'warning' and sec.findings[0]['message'] == 'AI engine has no model loaded'


def test_ai_engine_absent_down_garbage():
    assert ai_engine.probe(FakeHost(), params(), THRESHOLDS).status == 'absent'
    sec = ai_engine.probe(FakeHost(units=['cloudos-ai-engine.service']), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'AI engine not responding' in sec.findings[0]['message']
    sec = ai_engine.probe(ai_host(health='<html>'), params(), THRESHOLDS)
    assert sec.status == 'critical' and 'did not answer its health JSON' in sec.findings[0]['message']
    sec = ai_engine.probe(FakeHost(), params(required=['ai_engine']), THRESHOLDS)
    assert sec.status == 'critical'


def test_prometheus_and_alertmanager_are_asked_through_their_clients():
    tls = HttpError('GET %s failed TLS verification or handshake: self-signed' % AM, url=AM, kind='tls')
    host = FakeHost(urls=dict(ALL_UP, **{AM: tls}))
    sec = monitoring.probe(host, params(), THRESHOLDS)
    assert sorted(host.fetched) == sorted([PROM, GRAF, AM])
    message = [f['message'] for f in sec.findings if 'Alertmanager' in f['message']][0]
    assert message.startswith('Alertmanager is not healthy: GET %s failed TLS' % AM)
    assert 'check ca_path' in message  # the Alertmanager client's hint
    prom = HttpError('GET %s answered HTTP 503: not ready' % PROM, url=PROM, status=503, kind='http')
    sec = monitoring.probe(FakeHost(urls=dict(ALL_UP, **{PROM: prom})), params(), THRESHOLDS)
    assert sec.metrics['prometheus'] == 'failing' and 'HTTP 503' in sec.findings[0]['message']


def test_advice_fits_a_host_without_systemd():
    urls = dict(ALL_UP)
    urls.pop('http://localhost:9090/-/healthy', None)
    with_systemd = monitoring.probe(FakeHost(urls=urls, units=['prometheus.service']), params(), THRESHOLDS)
    without = monitoring.probe(FakeHost(urls=urls, units=['prometheus.service'], systemd=False), params(), THRESHOLDS)
    assert 'systemctl restart prometheus' in with_systemd.findings[0]['action']
    assert 'systemctl' not in without.findings[0]['action']
    assert 'service prometheus restart' in without.findings[0]['action']
