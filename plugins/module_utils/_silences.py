# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager silences: parsing, validation, planning, and running a plan through a client.

Private to this collection (the leading underscore): no compatibility promise.

The logic is tested without a server:

* pure functions that parse and validate user input (:func:`parse_matchers`,
  :func:`parse_duration`, :func:`parse_time`, :func:`build_silence_spec`) and decide
  what to do (:func:`find_ours`, :func:`plan_present`, :func:`plan_absent`,
  :func:`can_update_in_place`);
* :func:`ensure_silence`, which runs a plan through an ``_alertmanager.AlertmanagerClient``
  (the only code that talks to the network) and shapes the result that the modules return.

This file imports ``_alertmanager``, never the reverse: the health sections, which only read
alerts, do not load it. The server's rules the planning follows are listed in
``_alertmanager``'s docstring.
"""

from __future__ import annotations

import re

from collections import namedtuple
from datetime import datetime, timedelta

from ansible_collections.cloudos.ops.plugins.module_utils import _common
from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import ValidationError, format_matcher
from ansible_collections.cloudos.ops.plugins.module_utils._common import utcnow

#: Two times closer than this are the same time. Alertmanager keeps millisecond
#: precision in API v2; the second of slack also absorbs the server moving a new
#: silence's start from the client's "now" to its own "now".
TIME_TOLERANCE = timedelta(seconds=1)

#: With ``duration``, an end later than the one in force by less than this is not an
#: extension. A new silence's end is computed from the client's clock before the request,
#: its start is the server's clock on arrival, so "start + duration" is later than the end
#: by that latency (seconds on a loaded controller); re-running must not creep the end.
DURATION_SLACK = timedelta(minutes=1)

#: No silence starts or ends further from now than this (about ten years): a longer window is
#: a typo (``99999999999w``, ``9999-12-31``), and would overflow the date arithmetic of this
#: module or of the server.
HORIZON = timedelta(days=3653)

#: Silences in these states exist; expired ones are history.
LIVE_STATES = ('active', 'pending')

LABEL_NAME_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')

_DURATION_UNITS = {
    's': 1,
    'm': 60,
    'h': 3600,
    'd': 86400,
    'w': 604800,
}
_DURATION_PART_RE = re.compile(r'(\d+)([a-zA-Z]+)')

# amtool style: name, operator, value (quoted or bare).
_MATCHER_RE = re.compile(r'^\s*([^\s=!~"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$', re.S)

_OPERATORS = {
    # operator: (is_regex, is_equal)
    '=': (False, True),
    '!=': (False, False),
    '=~': (True, True),
    '!~': (True, False),
}


# ---------------------------------------------------------------------------
# Matchers
# ---------------------------------------------------------------------------

class Matcher(namedtuple('Matcher', 'name value is_regex is_equal')):
    """One label matcher. Compares and hashes by all four fields."""

    __slots__ = ()

    @property
    def operator(self):
        for op, flags in _OPERATORS.items():
            if flags == (self.is_regex, self.is_equal):
                return op
        raise AssertionError('unreachable')  # pragma: no cover

    def to_api(self):
        return {'name': self.name, 'value': self.value, 'isRegex': self.is_regex, 'isEqual': self.is_equal}

    @classmethod
    def from_api(cls, data):
        return cls(data.get('name', ''), data.get('value', ''), bool(data.get('isRegex', False)),
                   bool(data.get('isEqual', True)))

    def __str__(self):
        return format_matcher(self.name, self.operator, self.value)

    def matches(self, label_value):
        """Whether a label value (``''`` for a missing label) satisfies this matcher.

        Regular expressions are evaluated with Python's engine after translating the RE2
        constructs Python lacks; :func:`validate_regex` has already rejected the reverse.
        """
        if self.is_regex:
            hit = re.fullmatch(_python_pattern(self.value), label_value, re.S) is not None
        else:
            hit = label_value == self.value
        return hit if self.is_equal else not hit


def _unquote(value, where):
    """Strip the double quotes of an amtool value and resolve its escapes."""
    if not value.startswith('"'):
        if '"' in value or value[:1] in ('=', '~'):
            raise ValidationError('%s: cannot read the value %r; quote it, e.g. name="value"' % (where, value),
                                  field='matchers')
        return value
    if len(value) < 2 or not value.endswith('"'):
        raise ValidationError('%s: value %s has no closing double quote' % (where, value), field='matchers')
    out = []
    body = value[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == '\\' and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\'}.get(nxt, '\\' + nxt))
            i += 2
            continue
        if char == '"':
            raise ValidationError('%s: unescaped double quote inside value %s' % (where, value), field='matchers')
        out.append(char)
        i += 1
    return ''.join(out)


def _as_bool(value, where):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ('true', 'yes', 'on', '1'):
        return True
    if isinstance(value, str) and value.lower() in ('false', 'no', 'off', '0'):
        return False
    raise ValidationError('%s must be a boolean, got %r' % (where, value), field='matchers')


def parse_matcher(item, index=0, field='matchers'):
    """Parse one matcher given as a dict or an amtool-style string into a :class:`Matcher`."""
    where = '%s[%d]' % (field, index)
    if isinstance(item, Matcher):
        matcher = item
    elif isinstance(item, str):
        found = _MATCHER_RE.match(item)
        if not found:
            raise ValidationError(
                '%s=%r is not a matcher: expected name="value", name!="value", name=~"regex" or name!~"regex"'
                % (where, item), field=field)
        name, operator, raw = found.groups()
        is_regex, is_equal = _OPERATORS[operator]
        matcher = Matcher(name, _unquote(raw, where), is_regex, is_equal)
    elif isinstance(item, dict):
        aliases = {'isRegex': 'is_regex', 'isEqual': 'is_equal'}
        data = dict((aliases.get(k, k), v) for k, v in item.items())
        unknown = sorted(set(data) - set(('name', 'value', 'is_regex', 'is_equal')))
        if unknown:
            raise ValidationError('%s has unknown key(s) %s; a matcher has name, value, is_regex, is_equal'
                                  % (where, ', '.join(unknown)), field=field)
        if not isinstance(data.get('name'), str) or not data.get('name'):
            raise ValidationError('%s needs a non-empty name, got %r' % (where, item), field=field)
        value = data.get('value', None)
        if value is None:
            raise ValidationError('%s (name %s) needs a value' % (where, data['name']), field=field)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError('%s (name %s) value must be a string, got %r' % (where, data['name'], value),
                                  field=field)
        matcher = Matcher(data['name'], str(value), _as_bool(data.get('is_regex', False), where + '.is_regex'),
                          _as_bool(data.get('is_equal', True), where + '.is_equal'))
    else:
        raise ValidationError('%s must be a dict or a string like alertname="HighCPUUsage", got %r'
                              % (where, item), field=field)
    if not LABEL_NAME_RE.match(matcher.name):
        raise ValidationError('%s: invalid label name %r (letters, digits and underscores, not starting with a digit)'
                              % (where, matcher.name), field=field)
    if matcher.is_regex:
        validate_regex(matcher.value, '%s (%s)' % (where, matcher))
    return matcher


def parse_matchers(items, field='matchers', require_selective=True):
    """Parse and validate a list of matchers.

    With ``require_selective`` (silences) the set must not match every alert nor only
    alerts lacking the labels: Alertmanager requires at least one matcher that does not
    match the empty string.
    """
    if items is None or (isinstance(items, (list, tuple)) and not items):
        raise ValidationError('%s is empty: give at least one matcher, e.g. alertname="HighCPUUsage"' % field,
                              field=field)
    if isinstance(items, (str, dict)):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise ValidationError('%s must be a list of matchers, got %r' % (field, items), field=field)
    matchers = []
    for index, item in enumerate(items):
        matcher = parse_matcher(item, index, field)
        if matcher in matchers:
            raise ValidationError('%s[%d] %s is given twice' % (field, index, matcher), field=field)
        matchers.append(matcher)
    if require_selective:
        check_selective(matchers, field)
    return matchers


def check_selective(matchers, field='matchers'):
    """Fail when every matcher also matches the empty string (the server refuses such silences)."""
    if all(m.matches('') for m in matchers):
        text = ', '.join(str(m) for m in matchers)
        if all(not m.is_regex and m.is_equal for m in matchers):
            what = 'only alerts that lack these labels'
        else:
            what = 'every alert (or alerts lacking these labels)'
        raise ValidationError(
            '%s [%s] would match %s: every matcher also matches an empty label value. '
            'At least one matcher must require a non-empty value, e.g. alertname="HighCPUUsage" '
            'or instance=~"web-.+"' % (field, text, what), field=field)


# RE2 (Go's regexp) lacks these Python/PCRE constructs; Alertmanager would refuse them.
_PY_ONLY_GROUPS = (
    ('(?=', 'lookahead (?=...)'),
    ('(?!', 'negative lookahead (?!...)'),
    ('(?<=', 'lookbehind (?<=...)'),
    ('(?<!', 'negative lookbehind (?<!...)'),
    ('(?>', 'atomic group (?>...)'),
    ('(?(', 'conditional (?(...)...)'),
    ('(?P=', 'named backreference (?P=name)'),
    ('(?#', 'comment group (?#...)'),
)


def _re2_problem(pattern):
    """Return a description of the first construct RE2 does not support, else ``None``."""
    i = 0
    in_class = False
    length = len(pattern)
    while i < length:
        char = pattern[i]
        if char == '\\':
            nxt = pattern[i + 1] if i + 1 < length else ''
            if nxt.isdigit() and nxt != '0':
                return 'backreference \\%s' % nxt
            if nxt == 'Z':
                return '\\Z (use \\z or $)'
            i += 2
            continue
        if in_class:
            if char == '[' and pattern[i + 1:i + 2] == ':':
                end = pattern.find(':]', i + 2)
                if end != -1:
                    i = end + 2
                    continue
            if char == ']':
                in_class = False
            i += 1
            continue
        if char == '[':
            in_class = True
            i += 1
            if pattern[i:i + 1] == '^':
                i += 1
            if pattern[i:i + 1] == ']':
                i += 1
            continue
        if char == '(':
            for prefix, name in _PY_ONLY_GROUPS:
                if pattern.startswith(prefix, i):
                    return name
        if char in '*+?}' and pattern[i + 1:i + 2] == '+':
            return 'possessive quantifier %s+' % char
        i += 1
    return None


_PY_TRANSLATIONS = (
    (re.compile(r'\\[pP]\{[^}]*\}|\\[pP][A-Za-z]'), r'\\w'),
    (re.compile(r'\[:\^?[a-z]+:\]'), r'\\w'),
    (re.compile(r'\\z'), r'\\Z'),
    (re.compile(r'\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>'), r'(?P<\1>'),
)
_INLINE_FLAGS_RE = re.compile(r'\(\?([imsU]*)(?:-[imsU]*)?\)')


def _python_pattern(pattern):
    """Best-effort translation of an RE2 pattern to Python's dialect (for checking only).

    RE2 allows flag groups such as ``(?i)`` anywhere; Python only at the start, so they are
    hoisted (an approximation that is exact for the usual leading ``(?i)``).
    """
    out = pattern
    for regex, repl in _PY_TRANSLATIONS:
        out = regex.sub(repl, out)
    flags = set()
    for found in _INLINE_FLAGS_RE.finditer(out):
        flags.update(found.group(1).replace('U', ''))
    out = _INLINE_FLAGS_RE.sub('', out)
    if flags:
        out = '(?%s)' % ''.join(sorted(flags)) + out
    return out


def validate_regex(pattern, where, field='matchers'):
    """Reject patterns Alertmanager (Go RE2, anchored as ``^(?:pattern)$``) would refuse."""
    problem = _re2_problem(pattern)
    if problem:
        raise ValidationError('%s: %s is not supported by Alertmanager\'s regular expressions (Go RE2)'
                              % (where, problem), field=field)
    try:
        re.compile(_python_pattern(pattern))
    except re.error as exc:
        raise ValidationError('%s: invalid regular expression %r: %s' % (where, pattern, exc), field=field)


def identity_key(matchers):
    """Order-insensitive key of a matcher set."""
    return frozenset(matchers)


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------

def parse_duration(text, field='duration'):
    """Parse ``90m``, ``2h``, ``1d``, ``1h30m``, ``1w`` into a positive :class:`timedelta`."""
    if isinstance(text, timedelta):
        return text
    raw = str(text).strip() if text is not None else ''
    if not raw:
        raise ValidationError('%s is empty; use a number with a unit, e.g. 90m, 2h or 1d' % field, field=field)
    if raw.isdigit():
        raise ValidationError('%s=%r has no unit; use s, m, h, d or w (e.g. %sm or %sh)' % (field, raw, raw, raw),
                              field=field)
    seconds = 0
    pos = 0
    for part in _DURATION_PART_RE.finditer(raw):
        if part.start() != pos:
            break
        unit = part.group(2)
        if unit not in _DURATION_UNITS:
            raise ValidationError('%s=%r has an unknown unit %r; use s, m, h, d or w (e.g. 90m, 2h, 1d)'
                                  % (field, raw, unit), field=field)
        seconds += int(part.group(1)) * _DURATION_UNITS[unit]
        pos = part.end()
        if seconds > HORIZON.total_seconds():
            raise ValidationError('%s=%r is too long: a silence lasts at most %s (%d days)'
                                  % (field, raw, _format_delta(HORIZON), HORIZON.days), field=field)
    if pos != len(raw):
        raise ValidationError('%s=%r is not a duration; use a number with a unit, e.g. 90m, 2h, 1d or 1h30m'
                              % (field, raw), field=field)
    if seconds <= 0:
        raise ValidationError('%s=%r must be longer than zero' % (field, raw), field=field)
    return timedelta(seconds=seconds)


def parse_time(value, field='time'):
    """Parse an RFC 3339 time (with a time zone) into an aware UTC :class:`datetime`.

    Stricter than ``_common.parse_time``: a time without a zone, or anything unreadable, is
    refused with a :class:`ValidationError` that says what is wrong.
    """
    moment = _common.parse_time(value, naive_zone=None) if isinstance(value, (str, datetime)) else None
    if moment is not None:
        return moment
    if isinstance(value, datetime):
        raise ValidationError('%s=%s has no time zone; add Z or an offset such as +02:00' % (field, value),
                              field=field)
    raw = str(value).strip() if value is not None else ''
    found = _common._TIME_RE.match(raw)  # pylint: disable=protected-access
    if not found:
        raise ValidationError('%s=%r is not an RFC 3339 time such as 2030-01-31T18:00:00Z or 2030-01-31T20:00:00+02:00'
                              % (field, raw), field=field)
    fields, zone = found.groups()[:6], found.group(8)
    if zone is None:
        raise ValidationError('%s=%r has no time zone; add Z or an offset such as +02:00' % (field, raw), field=field)
    if zone not in ('Z', 'z') and int(zone[1:3]) >= 24:
        raise ValidationError('%s=%r has an impossible time zone offset' % (field, raw), field=field)
    try:
        datetime(*(int(f) for f in fields))
        problem = 'out of range'
    except ValueError as exc:
        problem = exc
    raise ValidationError('%s=%r is not a valid time: %s' % (field, raw, problem), field=field)


def format_time(stamp):
    """Format an aware datetime the way Alertmanager does (UTC, milliseconds)."""
    return _common.rfc3339(stamp, millis=True)


def same_time(first, second, tolerance=TIME_TOLERANCE):
    return abs(first - second) <= tolerance


# ---------------------------------------------------------------------------
# Silence input
# ---------------------------------------------------------------------------

#: Validated input of ``alertmanager_silence`` (built by :func:`build_silence_spec`).
SilenceSpec = namedtuple('SilenceSpec', 'state matchers created_by comment starts_at ends_at duration silence_id',
                         defaults=(None,) * 7)


def build_silence_spec(params, now=None):
    """Validate the module parameters; raise :class:`ValidationError` before anything is sent."""
    now = now or utcnow()
    state = params.get('state') or 'present'
    if state not in ('present', 'absent'):
        raise ValidationError('state=%r must be present or absent' % state, field='state')
    silence_id = params.get('id')
    raw_matchers = params.get('matchers')
    if silence_id and raw_matchers:
        raise ValidationError('id and matchers are mutually exclusive: identify the silence by one of them',
                              field='id')
    if state == 'absent':
        if silence_id:
            return SilenceSpec('absent', silence_id=silence_id)
        return SilenceSpec('absent', matchers=parse_matchers(raw_matchers),
                           created_by=params.get('created_by'), comment=params.get('comment'))
    if silence_id:
        raise ValidationError('id is only used with state=absent; a present silence is identified by '
                              'matchers, created_by and comment', field='id')
    matchers = parse_matchers(raw_matchers)
    for field in ('created_by', 'comment'):
        value = params.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValidationError('%s is required with state=present (it is part of the silence\'s identity)' % field,
                                  field=field)
    if params.get('ends_at') and params.get('duration'):
        raise ValidationError('ends_at and duration are mutually exclusive', field='ends_at')
    starts_at = parse_time(params['starts_at'], 'starts_at') if params.get('starts_at') else None
    ends_at = duration = None
    if params.get('ends_at'):
        ends_at = parse_time(params['ends_at'], 'ends_at')
        if ends_at <= now:
            raise ValidationError('ends_at=%s is in the past (now is %s)' % (params['ends_at'], format_time(now)),
                                  field='ends_at')
        if starts_at is not None and ends_at <= starts_at:
            raise ValidationError('ends_at=%s must be after starts_at=%s' % (params['ends_at'], params['starts_at']),
                                  field='ends_at')
    elif params.get('duration'):
        duration = parse_duration(params['duration'], 'duration')
    else:
        raise ValidationError('state=present needs ends_at or duration', field='duration')
    for field, moment in (('starts_at', starts_at), ('ends_at', ends_at)):
        if moment is not None and moment - now > HORIZON:
            raise ValidationError('%s=%s is more than %d days from now (%s): refused as a typo; a silence starts and '
                                  'ends within about ten years' % (field, params[field], HORIZON.days, format_time(now)),
                                  field=field)
    if starts_at is not None and duration is not None and starts_at + duration - now > HORIZON:
        raise ValidationError('starts_at=%s plus duration=%s ends more than %d days from now: refused as a typo'
                              % (params['starts_at'], params['duration'], HORIZON.days), field='duration')
    return SilenceSpec('present', matchers=matchers, created_by=params['created_by'], comment=params['comment'],
                       starts_at=starts_at, ends_at=ends_at, duration=duration)


# ---------------------------------------------------------------------------
# Silence planning (pure)
# ---------------------------------------------------------------------------

def silence_state(silence, now=None):
    """State of a silence as the server reports it, else computed from its times."""
    state = (silence.get('status') or {}).get('state')
    if state:
        return state
    now = now or utcnow()
    if parse_time(silence['endsAt'], 'endsAt') <= now:
        return 'expired'
    if parse_time(silence['startsAt'], 'startsAt') > now:
        return 'pending'
    return 'active'


def silence_matchers(silence):
    return [Matcher.from_api(m) for m in silence.get('matchers') or []]


def find_ours(silences, matchers=None, created_by=None, comment=None, silence_id=None, now=None):
    """Live (active or pending) silences with this identity, the longest-lasting first.

    Identity is the matcher set (order-insensitive) plus ``created_by`` plus ``comment``;
    ``None`` for either of the latter matches any value. ``silence_id`` selects by id.
    """
    found = []
    key = identity_key(matchers) if matchers is not None else None
    for silence in silences or []:
        if silence_state(silence, now) not in LIVE_STATES:
            continue
        if silence_id is not None:
            if silence.get('id') == silence_id:
                found.append(silence)
            continue
        if identity_key(silence_matchers(silence)) != key:
            continue
        if created_by is not None and silence.get('createdBy') != created_by:
            continue
        if comment is not None and silence.get('comment') != comment:
            continue
        found.append(silence)
    found.sort(key=lambda s: (s.get('endsAt') or '', s.get('updatedAt') or '', s.get('id') or ''), reverse=True)
    return found


def can_update_in_place(existing, body, now=None):
    """Predict whether Alertmanager updates ``existing`` in place with ``body`` (which has its id)."""
    now = now or utcnow()
    if [Matcher.from_api(m) for m in body['matchers']] != silence_matchers(existing):
        return False
    state = silence_state(existing, now)
    new_start = parse_time(body['startsAt'], 'startsAt')
    if state == 'active':
        return new_start == parse_time(existing['startsAt'], 'startsAt') and parse_time(body['endsAt'], 'endsAt') >= now
    if state == 'pending':
        return new_start >= now
    return False


def readable(silence):
    """A silence as a short, readable dict (for diffs and messages)."""
    if not silence:
        return {}
    out = {}
    if silence.get('id'):
        out['id'] = silence['id']
    out['matchers'] = [str(m) for m in silence_matchers(silence)]
    out['starts_at'] = silence.get('startsAt')
    out['ends_at'] = silence.get('endsAt')
    out['created_by'] = silence.get('createdBy')
    out['comment'] = silence.get('comment')
    state = (silence.get('status') or {}).get('state')
    if state:
        out['state'] = state
    return out


_PLAIN_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+()-]+)*$')


def _scalar(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN_RE.match(text) and text.lower() not in ('null', 'true', 'false', 'yes', 'no', '~'):
        return text
    return "'%s'" % text.replace("'", "''")


def to_yamlish(data, indent=0):
    """Render dicts, lists and scalars as block YAML text (for readable diffs; no PyYAML needed)."""
    pad = ' ' * indent
    lines = []
    if isinstance(data, dict):
        if not data:
            return pad + '{}\n'
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value:
                lines.append('%s%s:\n%s' % (pad, key, to_yamlish(value, indent + 2)))
            else:
                shown = '[]' if value == [] else '{}' if value == {} else _scalar(value)
                lines.append('%s%s: %s\n' % (pad, key, shown))
        return ''.join(lines)
    if isinstance(data, list):
        if not data:
            return pad + '[]\n'
        for item in data:
            if isinstance(item, (dict, list)) and item:
                rendered = to_yamlish(item, indent + 2)
                lines.append('%s- %s' % (pad, rendered[indent + 2:]))
            else:
                lines.append('%s- %s\n' % (pad, _scalar(item)))
        return ''.join(lines)
    return pad + _scalar(data) + '\n'


def silence_diff(before, after):
    """An Ansible diff of two silences (or lists of silences) as readable YAML text."""
    def header(item, default):
        if isinstance(item, dict) and item.get('id'):
            return 'silence %s' % item['id']
        return default
    return {
        'before': to_yamlish(before) if before else '',
        'after': to_yamlish(after) if after else '',
        'before_header': header(before, 'no silence'),
        'after_header': header(after, 'no silence' if not after else 'new silence'),
    }


class Plan:
    """What to do: ``post`` (a silence body or ``None``) and ``expire`` (ids), plus the prediction."""

    def __init__(self, action, before=None, after=None, post=None, expire=None, existing=None,
                 in_place=None):
        self.action = action
        self.before = before
        self.after = after
        self.post = post
        self.expire = list(expire or [])
        self.existing = existing
        self.in_place = in_place

    @property
    def changed(self):
        return bool(self.post) or bool(self.expire)


def plan_present(spec, silences, now=None):
    """Decide how to make exactly one silence with ``spec``'s identity and times be in force."""
    now = now or utcnow()
    ours = find_ours(silences, spec.matchers, spec.created_by, spec.comment, now=now)
    existing = ours[0] if ours else None
    duplicates = [s['id'] for s in ours[1:]]

    if existing is None:
        start = spec.starts_at if spec.starts_at and spec.starts_at > now else now
        end = spec.ends_at if spec.ends_at else start + spec.duration
        body = {
            'matchers': [m.to_api() for m in spec.matchers],
            'startsAt': format_time(start),
            'endsAt': format_time(end),
            'createdBy': spec.created_by,
            'comment': spec.comment,
        }
        after = dict(body, status={'state': 'pending' if start > now else 'active'})
        return Plan('created', before={}, after=after, post=body, expire=duplicates, existing=None)

    state = silence_state(existing, now)
    old_start = parse_time(existing['startsAt'], 'startsAt')
    old_end = parse_time(existing['endsAt'], 'endsAt')
    start_text = existing['startsAt']
    start = old_start
    wanted = spec.starts_at
    if wanted is not None and not same_time(wanted, old_start) and (wanted > now or state == 'pending'):
        # A future start was asked for, or a pending silence is moved: honour it.
        start = wanted if wanted > now else now
        start_text = format_time(start)
    if spec.ends_at is not None:
        end = spec.ends_at
    else:
        end = start + spec.duration
        if start_text == existing['startsAt'] and end < old_end:
            # ``duration`` means "at least until": the window was extended since (by a later
            # ends_at or a longer duration); a re-run never shortens it. An explicit earlier
            # ends_at does.
            return Plan('unchanged', before=existing, after=existing, expire=duplicates, existing=existing)
        if end <= now:
            raise ValidationError(
                'duration=%s measured from the start of the silence in force (%s, id %s) ends in the past; '
                'give a longer duration or ends_at, or use state=absent to end the silence'
                % (_format_delta(spec.duration), existing['startsAt'], existing['id']), field='duration')
    if end <= start:
        raise ValidationError('ends_at=%s must be after the start of the silence in force (%s, id %s)'
                              % (format_time(end), existing['startsAt'], existing['id']), field='ends_at')

    if spec.ends_at is None:
        same_end = -TIME_TOLERANCE <= end - old_end <= DURATION_SLACK
    else:
        same_end = same_time(end, old_end)
    if start_text == existing['startsAt'] and same_end:
        return Plan('unchanged', before=existing, after=existing, expire=duplicates, existing=existing)

    body = {
        'id': existing['id'],
        # The server updates in place only when the matcher list is identical, order included.
        'matchers': existing['matchers'],
        'startsAt': start_text,
        'endsAt': format_time(end),
        'createdBy': existing.get('createdBy', spec.created_by),
        'comment': existing.get('comment', spec.comment),
    }
    in_place = can_update_in_place(existing, body, now)
    after = dict(body, status={'state': 'pending' if start > now else 'active'})
    if not in_place:
        after.pop('id')
        if start < now:
            after['startsAt'] = format_time(now)
    return Plan('updated' if in_place else 'replaced', before=existing, after=after, post=body,
                expire=duplicates, existing=existing, in_place=in_place)


def plan_absent(spec, silences, now=None):
    """Expire every live silence with ``spec``'s identity (or ``spec.silence_id``)."""
    ours = find_ours(silences, spec.matchers, spec.created_by, spec.comment, silence_id=spec.silence_id, now=now)
    if not ours:
        return Plan('none', before={}, after={})
    return Plan('expired', before=ours, after=[], expire=[s['id'] for s in ours])


def _format_delta(delta):
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60), ('s', 1)):
        if seconds >= size:
            parts.append('%d%s' % (seconds // size, unit))
            seconds %= size
    return ''.join(parts) or '0s'


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------

def ensure_silence(client, spec, check_mode=False, now=None):
    """Apply ``spec`` through ``client``; return the module result (without ``diff``'s wrapper)."""
    silences = client.list_silences()
    # The clock is read after the listing, as close as possible to the write.
    now = now or utcnow()
    if spec.state == 'absent':
        plan = plan_absent(spec, silences, now)
        if not check_mode:
            for silence_id in plan.expire:
                client.expire_silence(silence_id)
        return {
            'changed': plan.changed,
            'action': plan.action,
            'expired_ids': plan.expire,
            'silences': plan.before or [],
            'diff': silence_diff([readable(s) for s in plan.before or []], []),
        }

    plan = plan_present(spec, silences, now)
    result = {'changed': plan.changed, 'action': plan.action, 'expired_ids': plan.expire}
    silence = plan.after
    silence_id = (plan.existing or {}).get('id') if plan.action in ('unchanged', 'updated') else None
    if plan.post and not check_mode:
        new_id = client.post_silence(plan.post)
        if plan.existing is not None:
            plan.action = 'updated' if new_id == plan.existing['id'] else 'replaced'
        silence_id = new_id
        silence = client.get_silence(new_id)
    if not check_mode:
        for duplicate in plan.expire:
            client.expire_silence(duplicate)
    elif silence_id:
        silence = dict(silence, id=silence_id)
    result['action'] = plan.action
    result['silence'] = silence
    result['silence_id'] = silence_id
    if plan.action == 'replaced':
        result['previous_id'] = plan.existing['id']
    result['diff'] = silence_diff(readable(plan.before), readable(silence))
    return result
