# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ai_engine`` section: the CloudOS AI engine's ``/health`` status, the number of models in
``/api/v1/models`` (``loaded_models``) and the inference error rate from its Prometheus
text metrics (``ai_engine_errors_metric`` / ``ai_engine_requests_metric``, summed over
all label sets; the rate is errors / requests since the engine started).

``/health`` status ``healthy``/``ok``/``up``/``pass`` is fine, ``degraded``/``warning`` a
warning, anything else critical. No model loaded is a warning. The error rate compares
with ``ai_error_rate`` (warning) and ``ai_error_rate_critical``. Metrics that are not
exposed (HTTP 404, or counters missing) are reported as unknown, not as a failure.
"""

from __future__ import annotations

import math

from ansible_collections.cloudos.ops.plugins.module_utils._http import join_url
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, above, not_answering, not_installed, probe_url, rnd, run_parallel)
from ansible_collections.cloudos.ops.plugins.module_utils._health.monitoring import CONTAINER_HINTS, RESTART, units_for

GOOD = ('healthy', 'ok', 'up', 'pass', 'green')
DEGRADED = ('degraded', 'warning', 'warn', 'yellow')


def parse_metrics(text, names):
    """Sum the samples of each metric in ``names`` from Prometheus text exposition format.

    Returns name -> float for the names that appear at least once.
    """
    wanted = set(names)
    sums = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        brace = line.find('{')
        if brace >= 0:
            name = line[:brace].strip()
            close = line.rfind('}')
            rest = line[close + 1:].split() if close > brace else []
        else:
            parts = line.split()
            name, rest = parts[0], parts[1:]
        if name not in wanted or not rest:
            continue
        try:
            value = float(rest[0])
        except ValueError:
            continue
        if math.isnan(value):
            continue
        sums[name] = sums.get(name, 0.0) + value
    return sums


def error_rate(requests, errors):
    """Percentage of failed requests, ``0.0`` with no requests."""
    if not requests:
        return 0.0
    return 100.0 * errors / requests


def health_severity(status):
    status = (status or '').strip().lower()
    if status in GOOD:
        return None
    if status in DEGRADED:
        return WARNING
    return CRITICAL


def probe(host, params, thresholds):
    sec = Section('ai_engine')
    required = params.get('required') or []
    base = params['ai_engine_url']
    urls = {'health': join_url(base, '/health'), 'models': join_url(base, '/api/v1/models'),
            'metrics': join_url(base, params.get('ai_engine_metrics_path') or '/metrics')}
    raw = run_parallel(dict((k, (lambda u=u: probe_url(host, u))) for k, u in urls.items()), float(params['timeout']) + 1.0)
    answers = {}
    for key, (kind, value) in raw.items():
        answers[key] = value if kind == 'ok' else (None, None)
    restart = RESTART['ai_engine']
    resp, err = answers['health']
    if resp is None and err is None:
        sec.summary = 'AI engine hanging'
        sec.add(CRITICAL, 'AI engine did not answer %s within %ss' % (urls['health'], params['timeout']), restart)
        return sec
    if err is not None:
        state, evidence = not_answering(host, err, units_for(params, 'ai_engine'), CONTAINER_HINTS['ai_engine'])
        if state == 'absent':
            sec.set_absent('AI engine not installed (nothing answers at %s, no unit or container)' % base)
            not_installed(sec, 'ai_engine', required, 'the AI engine', sec.summary)
            return sec
        sec.summary = 'AI engine not responding'
        sec.add(CRITICAL, 'AI engine not responding: %s%s' % ('%s but ' % evidence if evidence else '', err.message), restart)
        return sec
    try:
        data = resp.json()
        status = str(data.get('status', '')) if isinstance(data, dict) else ''
        if not isinstance(data, dict) or 'status' not in data:
            raise ValueError('no "status" field')
    except Exception as exc:  # pylint: disable=broad-except
        sec.summary = 'AI engine answers garbage'
        sec.add(CRITICAL, 'AI engine %s did not answer its health JSON (%s): %.200s'
                % (urls['health'], getattr(exc, 'message', exc), resp.text), restart)
        return sec
    sec.metrics['status'] = status
    severity = health_severity(status)
    if severity:
        sec.add(severity, 'AI engine reports status "%s"' % status, restart)
    parts = ['status %s' % status]

    resp, err = answers['models']
    models = None
    if resp is not None:
        try:
            data = resp.json()
            loaded = data.get('loaded_models') if isinstance(data, dict) else None
            if not isinstance(loaded, list):
                raise ValueError('no "loaded_models" list')
            models = len(loaded)
        except Exception as exc:  # pylint: disable=broad-except
            sec.add(WARNING, 'AI engine %s answered without a loaded_models list (%s)' % (urls['models'], getattr(exc, 'message', exc)),
                    'curl -s %s; journalctl -u cloudos-ai-engine -n 100' % urls['models'])
    else:
        sec.add(WARNING, 'cannot list the loaded models: %s' % (err.message if err else 'no answer within %ss' % params['timeout']),
                'curl -s %s; journalctl -u cloudos-ai-engine -n 100' % urls['models'])
    if models is not None:
        sec.metrics['models_loaded'] = models
        parts.append('%d model%s loaded' % (models, '' if models == 1 else 's'))
        if models == 0:
            sec.add(WARNING, 'AI engine has no model loaded', 'Check the model configuration and the engine log: '
                    'journalctl -u cloudos-ai-engine -n 100 (or docker logs cloudos-ai-engine)',
                    metric='models_loaded', value=0, threshold=1)

    resp, err = answers['metrics']
    req_name = params.get('ai_engine_requests_metric') or 'cloudos_inference_requests_total'
    err_name = params.get('ai_engine_errors_metric') or 'cloudos_inference_errors_total'
    rate = None
    if resp is not None:
        sums = parse_metrics(resp.text, (req_name, err_name))
        if req_name in sums:
            requests = sums[req_name]
            errors = sums.get(err_name, 0.0)
            rate = rnd(error_rate(requests, errors), 2)
            sec.metrics.update({'requests_total': int(requests), 'errors_total': int(errors), 'error_rate_pct': rate})
    elif err is not None and err.kind != 'http':
        sec.add(WARNING, 'cannot read the AI engine metrics: %s' % err.message, 'curl -s %s' % urls['metrics'])
    if rate is None:
        sec.metrics['error_rate_pct'] = 'unknown'
        parts.append('error rate not exposed')
    else:
        parts.append('error rate %.1f%%' % rate)
        sev = above(rate, thresholds['ai_error_rate'], thresholds['ai_error_rate_critical'])
        sec.add(sev, 'AI inference error rate %.1f%% (%d of %d requests; threshold %s%%)'
                % (rate, sec.metrics['errors_total'], sec.metrics['requests_total'],
                   thresholds['ai_error_rate_critical'] if sev == CRITICAL else thresholds['ai_error_rate']),
                'Investigate (guide: error rate > 5 %): journalctl -u cloudos-ai-engine -n 200 (or docker logs '
                'cloudos-ai-engine); review the AI Engine dashboard',
                metric='error_rate_pct', value=rate,
                threshold=thresholds['ai_error_rate_critical'] if sev == CRITICAL else thresholds['ai_error_rate'])
    sec.summary = ', '.join(parts)
    return sec
