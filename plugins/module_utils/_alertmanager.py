# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager API v2: the connection options and the client.

Private to this collection (the leading underscore): no compatibility promise.

This file is what talking to Alertmanager needs, and the only code that does:

* the connection options every Alertmanager module shares (:data:`ALERTMANAGER_COMMON_ARGS`,
  :func:`alertmanager_argument_spec`, :func:`check_connection_params`) and the errors the
  modules report (:class:`AlertmanagerError`, :func:`fail_json`);
* :class:`AlertmanagerClient`, built on the collection's shared HTTP client, with the checks
  that an answer has the shape of a silence or an alert (:func:`silence_problem`,
  :func:`alert_problem`);
* :func:`list_alerts`, which counts the alerts the modules return.

The silence logic (matchers, durations and times, planning, ``ensure_silence``) is in
``_silences``, which imports this file; this file never imports it, so the health sections
that only read alerts do not load it.

Alertmanager facts the silence logic relies on (checked against Alertmanager 0.25 and later):

* ``POST /api/v2/silences`` with an ``id`` updates that silence *in place* only if the
  matchers are identical (same list, same order) and the silence is either active with an
  unchanged ``startsAt`` and an ``endsAt`` not in the past, or pending with a ``startsAt``
  not in the past. Otherwise the server expires the old silence and answers with a new id.
* A new silence whose ``startsAt`` lies in the past starts "now" (the server clamps it).
* At least one matcher must not match the empty string.
* ``DELETE /api/v2/silence/{id}`` expires a silence; an unknown id answers an error.
"""

from __future__ import annotations

import copy

from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback

from ansible_collections.cloudos.ops.plugins.module_utils import _common
from ansible_collections.cloudos.ops.plugins.module_utils._http import (
    HttpError,
    check_headers,
    check_timeout,
    check_token,
    join_url,
    request,
    scrub,
    validate_url,
)

DEFAULT_URL = 'http://localhost:9093'


class AlertmanagerError(HttpError):
    """Anything the modules report with ``fail_json``; ``field`` names the bad parameter.

    An ``_http.HttpError``: ``kind``, ``status`` and ``url`` are those of the HTTP error behind it,
    ``invalid`` for an answer of the wrong shape, ``None`` for bad input.
    """

    def __init__(self, message, field=None, status=None, kind=None, url=None):
        super().__init__(message, url=url, status=status, kind=kind)
        self.field = field


class ValidationError(AlertmanagerError):
    """Bad input, found before anything was sent."""


def format_matcher(name, operator, value):
    """One matcher in the filter syntax of the API (and of amtool): ``name`` and ``operator``
    (``=``, ``!=``, ``=~``, ``!~``) as given, ``value`` double-quoted with backslashes, double
    quotes and newlines escaped. ``_silences.Matcher`` prints itself with it; the health sections
    build their plain ``name="value"`` filters with it."""
    escaped = value.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    return '%s%s"%s"' % (name, operator, escaped)


# ---------------------------------------------------------------------------
# Connection options and client
# ---------------------------------------------------------------------------

#: Connection options of every module that talks to Alertmanager (documented in the doc
#: fragment ``cloudos.ops.alertmanager``). Copy it (:func:`alertmanager_argument_spec`)
#: before adding a module's own options.
ALERTMANAGER_COMMON_ARGS = dict(
    url=dict(type='str', default=DEFAULT_URL, fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_URL'])),
    url_username=dict(type='str', aliases=['username'], fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_USERNAME'])),
    url_password=dict(type='str', no_log=True, aliases=['password'],
                      fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_PASSWORD'])),
    bearer_token=dict(type='str', no_log=True, fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_TOKEN'])),
    headers=dict(type='dict', default={}),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path', fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_CA_PATH'])),
    client_cert=dict(type='path', fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_CLIENT_CERT'])),
    client_key=dict(type='path', fallback=(env_fallback, ['CLOUDOS_ALERTMANAGER_CLIENT_KEY'])),
    timeout=dict(type='float', default=10.0),
)

ALERTMANAGER_REQUIRED_TOGETHER = [('url_username', 'url_password')]


def alertmanager_argument_spec(**options):
    """A fresh copy of :data:`ALERTMANAGER_COMMON_ARGS` plus a module's own ``options``."""
    spec = copy.deepcopy(ALERTMANAGER_COMMON_ARGS)
    spec.update(options)
    return spec


def fail_json(module, exc):
    """Hand an :class:`AlertmanagerError` to ``module.fail_json`` (with ``status`` when there is one)."""
    extra = {} if exc.status is None else {'status': exc.status}
    module.fail_json(msg=exc.message, **extra)


def check_connection_params(params):
    """Validate the connection options; raise :class:`ValidationError` naming the option."""
    error = validate_url(params.get('url'), 'url')
    if error:
        raise ValidationError(error, field='url')
    timeout = params.get('timeout')
    if timeout is not None:
        error = check_timeout(timeout)
        if error:
            raise ValidationError(error, field='timeout')
    if params.get('bearer_token'):
        error = check_token(params['bearer_token'])
        if error:
            raise ValidationError(error, field='bearer_token')
    if params.get('client_key') and not params.get('client_cert'):
        raise ValidationError('client_key needs client_cert', field='client_key')
    for name, value in (params.get('headers') or {}).items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValidationError('headers[%s] must be a string, got %r' % (name, value), field='headers')
    error = check_headers(params.get('headers'))
    if error:
        raise ValidationError(error, field='headers')


class AlertmanagerClient:
    """Alertmanager API v2 over the collection's HTTP client: the only code that talks to Alertmanager.

    ``send`` is the function that performs a request (default :func:`_http.request`); the
    health probes pass their host's GET (``_http.get_only(host.http_get)``), tests another
    one. ``calls`` records ``(method, path)`` of every request. Every failure, also an
    answer of the wrong shape, is an :class:`AlertmanagerError` naming the endpoint.
    """

    def __init__(self, url=DEFAULT_URL, url_username=None, url_password=None, bearer_token=None, headers=None,
                 validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=10.0, send=None):
        self.url = url
        self.options = dict(
            url_username=url_username, url_password=url_password, bearer_token=bearer_token,
            headers=dict((k, str(v)) for k, v in (headers or {}).items()), validate_certs=validate_certs,
            ca_path=ca_path, client_cert=client_cert, client_key=client_key, timeout=timeout)
        self.send = send or request
        self.calls = []

    @classmethod
    def from_params(cls, params, send=None):
        check_connection_params(params)
        kwargs = dict((name, params.get(name)) for name in ALERTMANAGER_COMMON_ARGS if params.get(name) is not None)
        return cls(send=send, **kwargs)

    def endpoint(self, path, query=None):
        target = join_url(self.url, path)
        if query:
            target += '?' + urlencode(query, doseq=True)
        return target

    def _call(self, method, path, data=None, query=None):
        target = self.endpoint(path, query)
        self.calls.append((method, path))
        try:
            return self.send(target, method=method, data=data, **self.options)
        except HttpError as exc:
            raise AlertmanagerError(self._explain(exc, path), status=exc.status, kind=exc.kind, url=target)

    def _explain(self, exc, path):
        message = exc.message
        if exc.status == 410:
            message += ('. The server at %s does not serve Alertmanager API v2 at this path; this module '
                        'speaks API v2 only (v1 was removed in Alertmanager 0.27)' % self.url)
        elif exc.status == 404 and path in ('api/v2/silences', 'api/v2/alerts', 'api/v2/status'):
            message += ('. No Alertmanager API v2 at %s: check url (including any path prefix such as '
                        '--web.route-prefix or a proxy location)' % self.url)
        elif exc.kind == 'tls':
            message += ' (check ca_path, or validate_certs=false for a test server)'
        return message

    def _scrub(self, text):
        """``text`` without this client's secrets: a server may echo them in an answer we quote."""
        return scrub(text, (self.options.get('bearer_token'), self.options.get('url_password')))

    def _json(self, method, path, what, shape, items=None, data=None, query=None, check=None):
        """The decoded answer of one request, checked to be a ``shape`` (``dict`` or ``list``) whose
        elements are ``items``: a proxy's HTML page, a string or ``null`` is a clear error naming
        the endpoint, never an AttributeError later. ``check(item)`` returns what is wrong with
        one element (or the object), else ``None``."""
        response = self._call(method, path, data=data, query=query)
        target = self.endpoint(path, query)
        try:
            answer = response.json()
        except HttpError as exc:
            raise AlertmanagerError('%s: %s' % (what, exc.message), status=exc.status, kind='invalid', url=target)
        problem = None
        if not isinstance(answer, shape):
            problem = 'expected a JSON %s, got %s' % (_JSON_NAMES[shape], _json_name(answer))
        elif items is not None:
            bad = [item for item in answer if not isinstance(item, items)]
            if bad:
                problem = 'expected a JSON list of %ss, found %s' % (_JSON_NAMES[items], _json_name(bad[0]))
        if problem is None and check is not None:
            for index, item in enumerate(answer if isinstance(answer, list) else [answer]):
                problem = check(item)
                if problem:
                    problem = ('item %d: %s' % (index, problem)) if isinstance(answer, list) else problem
                    answer = item
                    break
        if problem:
            raise AlertmanagerError(self._scrub('%s: %s %s answered %.200s: %s (is url an Alertmanager?)'
                                                % (what, method, target, _short(answer), problem)),
                                    status=getattr(response, 'status', None), kind='invalid', url=target)
        return answer

    def healthy(self):
        """The ``_http.Response`` of ``GET /-/healthy``; raises :class:`AlertmanagerError`."""
        return self._call('GET', '-/healthy')

    def status(self):
        return self._json('GET', 'api/v2/status', 'status', dict)

    def list_silences(self):
        return self._json('GET', 'api/v2/silences', 'list silences', list, dict, check=silence_problem)

    def get_silence(self, silence_id):
        return self._json('GET', 'api/v2/silence/%s' % quote(silence_id, safe=''), 'get silence', dict,
                          check=silence_problem)

    def post_silence(self, body):
        data = self._json('POST', 'api/v2/silences', 'create silence', dict, data=body)
        if not isinstance(data.get('silenceID'), str) or not data['silenceID']:
            raise AlertmanagerError(self._scrub('POST %s answered %r without a silenceID'
                                                % (join_url(self.url, 'api/v2/silences'), str(data)[:200])),
                                    kind='invalid')
        return data['silenceID']

    def expire_silence(self, silence_id):
        self._call('DELETE', 'api/v2/silence/%s' % quote(silence_id, safe=''))

    def list_alerts(self, active=True, silenced=True, inhibited=True, unprocessed=True, matchers=None,
                    receiver=None):
        """Alerts (a list of dicts) with these filters; a state filter set to ``None`` is not sent.

        ``matchers`` are sent as ``filter`` parameters, each as its ``str()``: ``_silences.Matcher``
        objects or strings made by :func:`format_matcher`."""
        query = [(name, _flag(value)) for name, value in (('active', active), ('silenced', silenced),
                                                          ('inhibited', inhibited), ('unprocessed', unprocessed))
                 if value is not None]
        for matcher in matchers or []:
            query.append(('filter', str(matcher)))
        if receiver:
            query.append(('receiver', receiver))
        return self._json('GET', 'api/v2/alerts', 'list alerts', list, dict, query=query, check=alert_problem)


_JSON_NAMES = {dict: 'object', list: 'list', str: 'string'}


def _field_problem(item, name, kind, required=False):
    if name not in item or item[name] is None:
        return 'no "%s" field' % name if required else None
    if not isinstance(item[name], kind) or isinstance(item[name], bool):
        return '"%s" is %s, expected a JSON %s' % (name, _json_name(item[name]), _JSON_NAMES[kind])
    return None


def silence_problem(item):
    """What makes ``item`` not an API v2 silence (``id``, ``matchers``, ``startsAt``, ``endsAt``,
    ``status`` of the right types, times readable), else ``None``."""
    for name, kind, required in (('id', str, True), ('matchers', list, True), ('startsAt', str, True),
                                 ('endsAt', str, True), ('status', dict, False), ('createdBy', str, False),
                                 ('comment', str, False)):
        problem = _field_problem(item, name, kind, required)
        if problem:
            return problem
    for matcher in item['matchers']:
        if not isinstance(matcher, dict) or not isinstance(matcher.get('name'), str) \
                or not isinstance(matcher.get('value'), str):
            return 'a matcher is not a {name, value, isRegex} object: %.100r' % (matcher,)
    for name in ('startsAt', 'endsAt'):
        if _common.parse_time(item[name], naive_zone=None) is None:
            return '"%s" is not an RFC 3339 time: %.60r' % (name, item[name])
    state = item.get('status', {}).get('state')
    if state is not None and not isinstance(state, str):
        return '"status.state" is %s, expected a string' % _json_name(state)
    return None


def alert_problem(item):
    """What makes ``item`` not an API v2 alert (``labels``/``annotations`` objects of strings,
    ``status`` an object), else ``None``."""
    for name, kind in (('labels', dict), ('annotations', dict), ('status', dict), ('startsAt', str)):
        problem = _field_problem(item, name, kind)
        if problem:
            return problem
    for name in ('labels', 'annotations'):
        for key, value in (item.get(name) or {}).items():
            if not isinstance(value, str):
                return '"%s.%s" is %s, expected a string' % (name, key, _json_name(value))
    state = (item.get('status') or {}).get('state')
    if state is not None and not isinstance(state, str):
        return '"status.state" is %s, expected a string' % _json_name(state)
    return None


def _short(answer):
    text = answer if isinstance(answer, str) else repr(answer)
    return text.strip().replace('\n', ' ') or '(empty body)'


def _json_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    return 'a JSON %s' % _JSON_NAMES.get(type(value), type(value).__name__)


def _flag(value):
    return 'true' if value else 'false'


def list_alerts(client, active=True, silenced=True, inhibited=True, unprocessed=True, matchers=None, receiver=None):
    """List alerts and count them by state and severity."""
    alerts = client.list_alerts(active=active, silenced=silenced, inhibited=inhibited, unprocessed=unprocessed,
                                matchers=matchers, receiver=receiver)
    by_state = {}
    by_severity = {}
    for alert in alerts:
        state = (alert.get('status') or {}).get('state') or 'unknown'
        by_state[state] = by_state.get(state, 0) + 1
        severity = (alert.get('labels') or {}).get('severity') or 'none'
        by_severity[severity] = by_severity.get(severity, 0) + 1
    return {'alerts': alerts, 'count': len(alerts), 'by_state': by_state, 'by_severity': by_severity}
