# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus HTTP API: the only code that talks to Prometheus.

Private to this collection (the leading underscore): no compatibility promise.

:class:`PrometheusClient` asks ``/-/healthy`` and runs instant (``/api/v1/query``) and range
(``/api/v1/query_range``) queries over the collection's HTTP client. Every failure, also an
answer of the wrong shape (HTML from a proxy, ``null``, a list where an object belongs), is a
:class:`PrometheusError` naming the endpoint; it is an ``_http.HttpError``, so callers that
classify HTTP failures (``kind``, ``status``) treat both alike.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, check_timeout, join_url, request, validate_url

DEFAULT_URL = 'http://localhost:9090'

#: Connection options of every module that talks to Prometheus (documented in the doc
#: fragment ``cloudos.ops.prometheus``). Copy it (:func:`prometheus_argument_spec`) before
#: adding a module's own options.
PROMETHEUS_COMMON_ARGS = dict(
    prometheus_url=dict(type='str', default=DEFAULT_URL),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='float', default=30),
)

#: Prometheus refuses range queries of more than 11000 points per series.
MAX_POINTS = 10000


def prometheus_argument_spec(**options):
    spec = dict((name, dict(value)) for name, value in PROMETHEUS_COMMON_ARGS.items())
    spec.update(options)
    return spec


class PrometheusError(HttpError):
    """A Prometheus request without a usable answer; ``kind`` as in ``HttpError`` (``invalid``
    for an answer of the wrong shape or a query the server refused)."""


class PrometheusClient:
    """``send`` performs one request (default :func:`_http.request`; the health probes pass
    ``_http.get_only(host.http_get)``). ``calls`` records ``(method, path)`` of every request."""

    def __init__(self, url=DEFAULT_URL, timeout=30.0, validate_certs=True, send=None):
        self.url = url
        self.options = dict(timeout=timeout, validate_certs=validate_certs)
        self.send = send or request
        self.calls = []

    @classmethod
    def from_params(cls, params, send=None):
        """A client for the module options of :data:`PROMETHEUS_COMMON_ARGS`; raises
        :class:`PrometheusError` (kind ``invalid``) for a URL that cannot be requested."""
        error = validate_url(params.get('prometheus_url'), 'prometheus_url')
        if error:
            raise PrometheusError(error, url=params.get('prometheus_url'), kind='invalid')
        if params.get('timeout') is not None:
            error = check_timeout(params['timeout'])
            if error:
                raise PrometheusError(error, url=params.get('prometheus_url'), kind='invalid')
        return cls(params['prometheus_url'], timeout=params.get('timeout') or 30.0,
                   validate_certs=params.get('validate_certs', True), send=send)

    def _send(self, method, path, form=None):
        target = join_url(self.url, path)
        self.calls.append((method, path))
        kwargs = dict(self.options)
        if form is not None:
            kwargs.update(data=urlencode(form).encode('ascii'),
                          headers={'Content-Type': 'application/x-www-form-urlencoded'})
        try:
            return target, self.send(target, method=method, **kwargs)
        except PrometheusError:
            raise
        except HttpError as exc:
            raise PrometheusError(exc.message, url=target, status=exc.status, body=exc.body, kind=exc.kind)

    def healthy(self):
        """The ``_http.Response`` of ``GET /-/healthy``; raises :class:`PrometheusError`."""
        return self._send('GET', '/-/healthy')[1]

    def _api(self, path, form, shape):
        target, response = self._send('POST', path, form)
        try:
            answer = response.json()
        except HttpError as exc:
            raise PrometheusError(exc.message, url=target, status=exc.status, body=exc.body, kind='invalid')
        data = answer.get('data') if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or answer.get('status') != 'success':
            problem = (answer.get('error') or answer) if isinstance(answer, dict) else answer
            raise PrometheusError('POST %s answered %.300r, not a Prometheus success: %s'
                                  % (target, answer, problem), url=target, kind='invalid')
        if not isinstance(data, dict) or not isinstance(data.get('result'), shape):
            raise PrometheusError('POST %s answered %.300r: expected data.result to be a JSON %s'
                                  % (target, answer, 'list' if shape is list else 'value'), url=target, kind='invalid')
        return data

    def query(self, expr, at=None):
        """``{resultType, result}`` of an instant query (at ``at``, a Unix time; default now)."""
        form = {'query': expr}
        if at is not None:
            form['time'] = at
        return self._api('/api/v1/query', form, (list, dict, str, int, float))

    def query_range(self, expr, start, end, step):
        """The series (``[{metric, values}]``) of a range query; ``step`` seconds is raised so
        that no series has more than :data:`MAX_POINTS` points."""
        form = {'query': expr, 'start': start, 'end': end, 'step': effective_step(start, end, step)}
        series = self._api('/api/v1/query_range', form, list)['result']
        for item in series:
            if not isinstance(item, dict) or not isinstance(item.get('metric', {}), dict) \
                    or not isinstance(item.get('values', []), list):
                target = join_url(self.url, '/api/v1/query_range')
                raise PrometheusError('POST %s answered a series that is not {metric, values}: %.200r' % (target, item),
                                      url=target, kind='invalid')
        return series


def effective_step(start, end, step):
    """The step :meth:`PrometheusClient.query_range` really uses."""
    return max(int(step), (int(end) - int(start)) // MAX_POINTS + 1)
