# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of plugins/module_utils/_silences.py (parsing, validation, planning) and the client of
plugins/module_utils/_alertmanager.py it runs through."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import (
    ALERTMANAGER_COMMON_ARGS,
    AlertmanagerClient,
    AlertmanagerError,
    ValidationError,
    alertmanager_argument_spec,
    format_matcher,
    list_alerts,
)
from ansible_collections.cloudos.ops.plugins.module_utils._silences import (
    Matcher,
    build_silence_spec,
    can_update_in_place,
    ensure_silence,
    find_ours,
    format_time,
    parse_duration,
    parse_matchers,
    parse_time,
    plan_absent,
    plan_present,
    readable,
)
from ansible_collections.cloudos.ops.plugins.module_utils._http import HttpError, Response

NOW = datetime(2030, 1, 31, 12, 0, 0, tzinfo=timezone.utc)


def api_silence(sid, matchers, start, end, created_by='ops', comment='window', state=None):
    silence = {
        'id': sid,
        'matchers': [m.to_api() for m in parse_matchers(matchers, require_selective=False)],
        'startsAt': format_time(start),
        'endsAt': format_time(end),
        'updatedAt': format_time(start),
        'createdBy': created_by,
        'comment': comment,
    }
    if state:
        silence['status'] = {'state': state}
    return silence


def spec(now=NOW, **params):
    base = {'state': 'present', 'matchers': ['alertname="HighCPUUsage"', 'instance=~"web-.*"'],
            'created_by': 'ops', 'comment': 'window'}
    base.update(params)
    return build_silence_spec(base, now=now)


# --- matchers ---------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('alertname="HighCPUUsage"', Matcher('alertname', 'HighCPUUsage', False, True)),
    ('instance=~"web-.*"', Matcher('instance', 'web-.*', True, True)),
    ('severity!="critical"', Matcher('severity', 'critical', False, False)),
    ('job!~"x|y"', Matcher('job', 'x|y', True, False)),
    ('  env = prod ', Matcher('env', 'prod', False, True)),
    (r'msg="say \"hi\" \\ bye"', Matcher('msg', 'say "hi" \\ bye', False, True)),
    ('path=~"/var/.+"', Matcher('path', '/var/.+', True, True)),
])
def test_amtool_strings(text, expected):
    assert parse_matchers([text], require_selective=False) == [expected]


def test_dict_matchers_defaults_and_api_spelling():
    got = parse_matchers([{'name': 'alertname', 'value': 'X'},
                          {'name': 'sev', 'value': 'crit', 'isEqual': False},
                          {'name': 'inst', 'value': 'a|b', 'is_regex': 'yes'}])
    assert got == [Matcher('alertname', 'X', False, True), Matcher('sev', 'crit', False, False),
                   Matcher('inst', 'a|b', True, True)]


def test_matcher_string_round_trip():
    for text in ('alertname="HighCPUUsage"', 'instance=~"web-\\\\d+"', 'a!="x\\"y"', 'job!~"x|y"'):
        matcher = parse_matchers([text], require_selective=False)[0]
        assert parse_matchers([str(matcher)], require_selective=False)[0] == matcher


def test_health_filters_are_written_like_matchers():
    """The health sections build ``name="value"`` filters with ``format_matcher`` (without loading
    ``_silences``); a matcher prints itself with the same function."""
    for value in ('security ops', 'say "hi" \\ bye', 'two\nlines', ''):
        assert format_matcher('team', '=', value) == str(Matcher('team', value, False, True))
        assert parse_matchers([format_matcher('team', '=', value)], require_selective=False)[0] == \
            Matcher('team', value, False, True)
    assert format_matcher('job', '!~', 'x|y') == str(Matcher('job', 'x|y', True, False)) == 'job!~"x|y"'


@pytest.mark.parametrize('matchers, fragment', [
    ([], 'matchers is empty'),
    (None, 'matchers is empty'),
    (['alertname'], "is not a matcher"),
    (['alertname=="x"'], 'cannot read the value'),
    (['alertname="x'], 'no closing double quote'),
    (['a.b="x"'], "invalid label name 'a.b'"),
    (['1a="x"'], "invalid label name '1a'"),
    ([{'name': 'a'}], 'needs a value'),
    ([{'value': 'a'}], 'needs a non-empty name'),
    ([{'name': 'a', 'value': 'b', 'regex': True}], 'unknown key(s) regex'),
    ([{'name': 'a', 'value': ['b']}], 'value must be a string'),
    ([{'name': 'a', 'value': 'b', 'is_regex': 'perhaps'}], 'is_regex must be a boolean'),
    ([42], 'must be a dict or a string'),
    (['a="x"', 'a="x"'], 'given twice'),
    (['instance=~"web-("'], 'invalid regular expression'),
    (['instance=~"(?=web)"'], 'lookahead'),
    (['instance=~"(?<!web)x"'], 'negative lookbehind'),
    (['instance=~"(a)\\\\1"'], 'backreference'),
    (['instance=~"a++"'], 'possessive quantifier'),
    (['instance=~"web\\\\Z"'], '\\Z'),
])
def test_bad_matchers_name_the_field(matchers, fragment):
    with pytest.raises(ValidationError) as err:
        parse_matchers(matchers)
    assert err.value.field == 'matchers'
    assert fragment in err.value.message
    assert err.value.message.startswith('matchers')


@pytest.mark.parametrize('pattern', [r'\pL+', r'\p{Greek}x', r'[[:alpha:]]+', r'web\z', r'(?P<n>a)b',
                                     r'(?i)WEB-.*', r'web-(?i)X', r'[a\]]+', r'(?:a|b){2,3}', r'a+?'])
def test_re2_constructs_are_accepted(pattern):
    assert parse_matchers([{'name': 'n', 'value': pattern, 'is_regex': True}])[0].value == pattern


def test_lookahead_text_inside_a_class_is_not_a_lookahead():
    assert parse_matchers(['a=~"[(?=]x"'])[0].value == '[(?=]x'


@pytest.mark.parametrize('matchers, fragment', [
    (['instance=""'], 'only alerts that lack these labels'),
    (['alertname=~".*"'], 'every alert'),
    (['severity!="critical"'], 'every alert'),
    (['job!~"x|y"', 'team=~"|ops"'], 'every alert'),
])
def test_unselective_sets_are_refused(matchers, fragment):
    with pytest.raises(ValidationError) as err:
        parse_matchers(matchers)
    assert fragment in err.value.message
    assert 'at least one matcher must require a non-empty value' in err.value.message.lower()


@pytest.mark.parametrize('matchers', [['alertname=~".*"', 'instance="web-1"'], ['a!=""'], ['a=~".+"']])
def test_selective_sets_pass(matchers):
    assert len(parse_matchers(matchers)) == len(matchers)


def test_regex_matching_is_anchored():
    matcher = parse_matchers(['instance=~"web-.*"'])[0]
    assert matcher.matches('web-01')
    assert not matcher.matches('old-web-01')


# --- durations and times ------------------------------------------------------

@pytest.mark.parametrize('text, seconds', [('90m', 5400), ('2h', 7200), ('1d', 86400), ('1h30m', 5400),
                                           ('1w', 604800), ('45s', 45)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize('text, fragment', [('2x', "unknown unit 'x'"), ('90', 'has no unit'), ('', 'is empty'),
                                            ('0h', 'longer than zero'), ('h2', 'is not a duration'),
                                            ('-1h', 'is not a duration'), ('2 hours', 'is not a duration'),
                                            ('2hours', "unknown unit 'hours'")])
def test_bad_durations(text, fragment):
    with pytest.raises(ValidationError) as err:
        parse_duration(text)
    assert err.value.field == 'duration'
    assert fragment in err.value.message


@pytest.mark.parametrize('text, expected', [
    ('2030-01-31T18:00:00Z', datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ('2030-01-31T20:00:00+02:00', datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ('2030-01-31T13:30:00-04:30', datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ('2030-01-31 18:00:00.123456789Z', datetime(2030, 1, 31, 18, 0, 0, 123456, tzinfo=timezone.utc)),
    ('2030-01-31T18:00:00.5z', datetime(2030, 1, 31, 18, 0, 0, 500000, tzinfo=timezone.utc)),
])
def test_times(text, expected):
    assert parse_time(text, 'ends_at') == expected


@pytest.mark.parametrize('text, fragment', [('2030-01-31T18:00:00', 'has no time zone'),
                                            ('tomorrow', 'is not an RFC 3339 time'),
                                            ('2030-02-30T18:00:00Z', 'is not a valid time'),
                                            ('2030-01-31T18:00:00+25:00', 'impossible time zone')])
def test_bad_times(text, fragment):
    with pytest.raises(ValidationError) as err:
        parse_time(text, 'ends_at')
    assert err.value.field == 'ends_at'
    assert fragment in err.value.message


def test_format_time_is_utc_milliseconds():
    stamp = datetime(2030, 1, 31, 20, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(stamp) == '2030-01-31T18:00:00.123Z'


# --- spec validation --------------------------------------------------------

@pytest.mark.parametrize('params, field, fragment', [
    ({'ends_at': '2030-01-31T11:00:00Z'}, 'ends_at', 'is in the past'),
    ({'starts_at': '2030-01-31T15:00:00Z', 'ends_at': '2030-01-31T14:00:00Z'}, 'ends_at', 'must be after starts_at'),
    ({'duration': '2h', 'created_by': ''}, 'created_by', 'created_by is required'),
    ({'duration': '2h', 'comment': None}, 'comment', 'comment is required'),
    ({}, 'duration', 'needs ends_at or duration'),
    ({'duration': '2h', 'ends_at': '2030-02-01T00:00:00Z'}, 'ends_at', 'mutually exclusive'),
    ({'duration': '2h', 'id': 'abc'}, 'id', 'mutually exclusive'),
    ({'duration': '2h', 'starts_at': 'soon'}, 'starts_at', 'RFC 3339'),
    ({'duration': '5y'}, 'duration', "unknown unit 'y'"),
    ({'state': 'gone', 'duration': '2h'}, 'state', 'present or absent'),
])
def test_bad_specs(params, field, fragment):
    with pytest.raises(ValidationError) as err:
        spec(**params)
    assert err.value.field == field
    assert fragment in err.value.message


def test_absent_spec_by_id_or_identity():
    by_id = build_silence_spec({'state': 'absent', 'id': 'abc'}, now=NOW)
    assert by_id.silence_id == 'abc' and by_id.matchers is None
    by_identity = build_silence_spec({'state': 'absent', 'matchers': ['a="b"']}, now=NOW)
    assert by_identity.created_by is None and by_identity.matchers == [Matcher('a', 'b', False, True)]


# --- finding and planning -----------------------------------------------------

def test_find_ours_is_order_insensitive_and_ignores_expired_and_strangers():
    mine = api_silence('1', ['instance=~"web-.*"', 'alertname="HighCPUUsage"'], NOW, NOW + timedelta(hours=2))
    expired = api_silence('2', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW - timedelta(hours=3),
                          NOW - timedelta(hours=1))
    other_author = api_silence('3', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW,
                               NOW + timedelta(hours=2), created_by='someone')
    other_comment = api_silence('4', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW,
                                NOW + timedelta(hours=2), comment='other')
    subset = api_silence('5', ['alertname="HighCPUUsage"'], NOW, NOW + timedelta(hours=2))
    regex_vs_equal = api_silence('6', ['alertname="HighCPUUsage"', 'instance="web-.*"'], NOW, NOW + timedelta(hours=2))
    silences = [mine, expired, other_author, other_comment, subset, regex_vs_equal]
    desired = spec(duration='2h')
    assert [s['id'] for s in find_ours(silences, desired.matchers, 'ops', 'window', now=NOW)] == ['1']
    assert sorted(s['id'] for s in find_ours(silences, desired.matchers, now=NOW)) == ['1', '3', '4']
    assert [s['id'] for s in find_ours(silences, silence_id='2', now=NOW)] == []


def test_server_state_wins_over_computed_state():
    silence = api_silence('1', ['a="b"'], NOW - timedelta(hours=1), NOW + timedelta(hours=1), state='expired')
    assert find_ours([silence], parse_matchers(['a="b"']), now=NOW) == []


def test_plan_creates_when_nothing_is_in_force():
    plan = plan_present(spec(duration='2h'), [], now=NOW)
    assert plan.action == 'created' and plan.changed
    assert plan.post['startsAt'] == '2030-01-31T12:00:00.000Z'
    assert plan.post['endsAt'] == '2030-01-31T14:00:00.000Z'
    assert 'id' not in plan.post
    assert plan.post['matchers'][1] == {'name': 'instance', 'value': 'web-.*', 'isRegex': True, 'isEqual': True}


def test_plan_creates_pending_silence_for_future_start():
    plan = plan_present(spec(starts_at='2030-01-31T18:00:00+02:00', ends_at='2030-01-31T19:00:00+02:00'), [], now=NOW)
    assert plan.post['startsAt'] == '2030-01-31T16:00:00.000Z'
    assert plan.after['status'] == {'state': 'pending'}


def test_rerun_with_same_duration_later_does_not_creep():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=2))
    later = NOW + timedelta(minutes=7)
    plan = plan_present(spec(now=later, duration='2h'), [existing], now=later)
    assert plan.action == 'unchanged' and not plan.changed and plan.post is None


def test_server_clamped_start_within_tolerance_is_unchanged():
    # The server moved the start 300 ms later than the client's "now": same silence.
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW + timedelta(milliseconds=300),
                           NOW + timedelta(hours=2))
    plan = plan_present(spec(duration='2h'), [existing], now=NOW + timedelta(seconds=1))
    assert plan.action == 'unchanged'


def test_slow_creation_does_not_make_the_rerun_extend():
    # Created on a loaded machine: the server started the silence 20 s after the client
    # computed the end, so start + duration is 20 s past the end in force.
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW + timedelta(seconds=20),
                           NOW + timedelta(hours=2), state='active')
    later = NOW + timedelta(minutes=3)
    assert plan_present(spec(now=later, duration='2h'), [existing], now=later).action == 'unchanged'
    assert plan_present(spec(now=later, duration='2h2m'), [existing], now=later).action == 'updated'
    # An explicit ends_at has no such slack.
    explicit = plan_present(spec(now=later, ends_at='2030-01-31T14:00:30Z'), [existing], now=later)
    assert explicit.action == 'updated'


def test_longer_duration_extends_in_place_keeping_start_and_server_matcher_order():
    existing = api_silence('1', ['instance=~"web-.*"', 'alertname="HighCPUUsage"'], NOW, NOW + timedelta(hours=2),
                           state='active')
    later = NOW + timedelta(minutes=30)
    plan = plan_present(spec(now=later, duration='3h'), [existing], now=later)
    assert plan.action == 'updated' and plan.in_place
    assert plan.post['id'] == '1'
    assert plan.post['startsAt'] == existing['startsAt']
    assert plan.post['endsAt'] == '2030-01-31T15:00:00.000Z'
    assert plan.post['matchers'] == existing['matchers']


def test_later_ends_at_extends():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=2))
    plan = plan_present(spec(ends_at='2030-01-31T17:00:00+01:00'), [existing], now=NOW)
    assert plan.action == 'updated'
    assert plan.post['endsAt'] == '2030-01-31T16:00:00.000Z'


def test_duration_ending_before_the_window_in_force_keeps_it_never_shortens():
    # Deliberate change (issue 13, rule 8): this was an error ("ends in the past, use
    # state=absent"); ``duration`` now means "at least until", which the silence in force
    # (ending in an hour) already satisfies, so nothing is sent.
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW - timedelta(hours=1),
                           NOW + timedelta(hours=1))
    plan = plan_present(spec(duration='30m'), [existing], now=NOW)
    assert plan.action == 'unchanged' and not plan.changed and plan.post is None


def test_moving_active_start_into_future_is_predicted_as_replacement():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW - timedelta(minutes=5),
                           NOW + timedelta(hours=1), state='active')
    plan = plan_present(spec(starts_at='2030-01-31T13:00:00Z', ends_at='2030-01-31T15:00:00Z'), [existing], now=NOW)
    assert plan.action == 'replaced' and not plan.in_place
    assert 'id' not in plan.after


def test_past_explicit_start_on_active_silence_is_not_a_change():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW - timedelta(minutes=5),
                           NOW + timedelta(hours=1))
    plan = plan_present(spec(starts_at='2030-01-31T11:50:00Z', ends_at='2030-01-31T13:00:00Z'), [existing], now=NOW)
    assert plan.action == 'unchanged'


def test_moving_a_pending_silence_updates_in_place():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW + timedelta(hours=1),
                           NOW + timedelta(hours=2), state='pending')
    plan = plan_present(spec(starts_at='2030-01-31T14:00:00Z', ends_at='2030-01-31T16:00:00Z'), [existing], now=NOW)
    assert plan.action == 'updated' and plan.post['startsAt'] == '2030-01-31T14:00:00.000Z'


def test_duplicates_are_expired_keeping_the_longest():
    short = api_silence('a', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=1))
    long_ = api_silence('b', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=2))
    plan = plan_present(spec(duration='2h'), [short, long_], now=NOW)
    assert plan.action == 'unchanged' and plan.expire == ['a'] and plan.changed


@pytest.mark.parametrize('state, start_delta, new_start_delta, end_delta, matchers_same, expected', [
    ('active', -10, -10, 60, True, True),
    ('active', -10, -10, 60, False, False),
    ('active', -10, -5, 60, True, False),
    ('active', -10, -10, -1, True, False),
    ('pending', 10, 20, 60, True, True),
    ('pending', 10, -1, 60, True, False),
    ('expired', -60, -60, 60, True, False),
])
def test_in_place_rule(state, start_delta, new_start_delta, end_delta, matchers_same, expected):
    existing = api_silence('1', ['a="b"', 'c="d"'], NOW + timedelta(minutes=start_delta), NOW + timedelta(hours=1),
                           state=state)
    matchers = existing['matchers'] if matchers_same else list(reversed(existing['matchers']))
    body = dict(existing, matchers=matchers, startsAt=format_time(NOW + timedelta(minutes=new_start_delta)),
                endsAt=format_time(NOW + timedelta(minutes=end_delta)))
    assert can_update_in_place(existing, body, NOW) is expected


def test_plan_absent():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=2))
    absent = build_silence_spec({'state': 'absent', 'matchers': ['instance=~"web-.*"', 'alertname="HighCPUUsage"'],
                                 'comment': 'window'}, now=NOW)
    plan = plan_absent(absent, [existing], now=NOW)
    assert plan.action == 'expired' and plan.expire == ['1']
    assert plan_absent(absent, [], now=NOW).action == 'none'
    by_id = build_silence_spec({'state': 'absent', 'id': '1'}, now=NOW)
    assert plan_absent(by_id, [existing], now=NOW).expire == ['1']


def test_readable_uses_amtool_strings():
    existing = api_silence('1', ['instance=~"web-.*"'], NOW, NOW + timedelta(hours=2), state='active')
    assert readable(existing) == {'id': '1', 'matchers': ['instance=~"web-.*"'], 'starts_at': '2030-01-31T12:00:00.000Z',
                                  'ends_at': '2030-01-31T14:00:00.000Z', 'created_by': 'ops', 'comment': 'window',
                                  'state': 'active'}


# --- orchestration with a scripted client ------------------------------------

class ScriptedAlertmanager:
    """Minimal in-memory stand-in applying the server's update rule (for orchestration only)."""

    def __init__(self, silences=None, now=NOW):
        self.silences = list(silences or [])
        self.now = now
        self.writes = []
        self.counter = 0

    def list_silences(self):
        return [dict(s) for s in self.silences]

    def get_silence(self, sid):
        return dict(next(s for s in self.silences if s['id'] == sid))

    def post_silence(self, body):
        self.writes.append(('POST', body))
        old = next((s for s in self.silences if s['id'] == body.get('id')), None)
        if old is not None and can_update_in_place(old, body, self.now):
            old.update(body)
            return old['id']
        if old is not None:
            old['status'] = {'state': 'expired'}
        self.counter += 1
        new = dict(body, id='new-%d' % self.counter, status={'state': 'active'})
        self.silences.append(new)
        return new['id']

    def expire_silence(self, sid):
        self.writes.append(('DELETE', sid))
        next(s for s in self.silences if s['id'] == sid)['status'] = {'state': 'expired'}


def test_check_mode_sends_no_writes_and_predicts():
    server = ScriptedAlertmanager()
    result = ensure_silence(server, spec(duration='2h'), check_mode=True, now=NOW)
    assert result['changed'] and result['action'] == 'created' and server.writes == []
    assert result['diff']['before'] == '' and result['diff']['after_header'] == 'new silence'
    assert 'matchers:\n  - \'alertname="HighCPUUsage"\'\n  - \'instance=~"web-.*"\'\n' in result['diff']['after']


def test_replacement_reports_previous_id():
    existing = api_silence('old', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW - timedelta(minutes=5),
                           NOW + timedelta(hours=1), state='active')
    server = ScriptedAlertmanager([existing])
    result = ensure_silence(server, spec(starts_at='2030-01-31T13:00:00Z', ends_at='2030-01-31T15:00:00Z'), now=NOW)
    assert result['action'] == 'replaced' and result['previous_id'] == 'old' and result['silence_id'] == 'new-1'


def test_absent_check_mode_and_real():
    existing = api_silence('1', ['alertname="HighCPUUsage"', 'instance=~"web-.*"'], NOW, NOW + timedelta(hours=2))
    server = ScriptedAlertmanager([existing])
    absent = build_silence_spec({'state': 'absent', 'id': '1'}, now=NOW)
    assert ensure_silence(server, absent, check_mode=True, now=NOW)['expired_ids'] == ['1']
    assert server.writes == []
    result = ensure_silence(server, absent, now=NOW)
    assert result['changed'] and server.writes == [('DELETE', '1')]
    again = ensure_silence(server, absent, now=NOW)
    assert not again['changed'] and again['action'] == 'none'


# --- client -----------------------------------------------------------------

class Recorder:
    def __init__(self, answer=None, error=None):
        self.answer = answer
        self.error = error
        self.calls = []

    def __call__(self, url, method='GET', data=None, **options):
        self.calls.append((method, url, data, options))
        if self.error:
            raise self.error
        return self.answer


class FakeResponse:
    def __init__(self, data):
        self.data = data

    def json(self):
        return self.data


def test_client_builds_urls_and_alert_filters():
    send = Recorder(FakeResponse([{'labels': {'severity': 'critical'}, 'status': {'state': 'active'}},
                                  {'labels': {}, 'status': {'state': 'suppressed'}}]))
    client = AlertmanagerClient(url='https://am.example.test/prefix/', bearer_token='t', headers={'X-Org': 1},
                                send=send)
    result = list_alerts(client, silenced=False, matchers=parse_matchers(['instance=~"web-\\\\d+"']),
                         receiver='ops')
    method, url, _data, options = send.calls[0]
    assert method == 'GET'
    assert url.startswith('https://am.example.test/prefix/api/v2/alerts?')
    assert 'silenced=false' in url and 'active=true' in url and 'receiver=ops' in url
    assert 'filter=instance%3D~%22web-%5C%5Cd%2B%22' in url
    assert options['bearer_token'] == 't' and options['headers'] == {'X-Org': '1'}
    assert result['count'] == 2 and result['by_severity'] == {'critical': 1, 'none': 1}
    assert result['by_state'] == {'active': 1, 'suppressed': 1}


@pytest.mark.parametrize('status, fragment', [(410, 'does not serve Alertmanager API v2'),
                                              (404, 'check url (including any path prefix')])
def test_client_explains_wrong_api(status, fragment):
    error = HttpError('GET http://x/api/v2/silences answered HTTP %s: gone' % status, status=status)
    client = AlertmanagerClient(url='http://x', send=Recorder(error=error))
    with pytest.raises(AlertmanagerError) as err:
        client.list_silences()
    assert fragment in err.value.message and 'HTTP %s' % status in err.value.message
    assert err.value.status == status


@pytest.mark.parametrize('params, field', [({'url': 'localhost:9093'}, 'url'), ({'url': 'ftp://x'}, 'url'),
                                           ({'url': 'http://'}, 'url'), ({'url': 'http://x', 'timeout': 0}, 'timeout'),
                                           ({'url': 'http://x', 'client_key': '/k'}, 'client_key'),
                                           ({'url': 'http://x', 'headers': {'X': {'a': 1}}}, 'headers')])
def test_bad_connection_params(params, field):
    send = Recorder(error=AssertionError('nothing may be sent'))
    with pytest.raises(ValidationError) as err:
        AlertmanagerClient.from_params(params, send=send)
    assert err.value.field == field and field in err.value.message
    assert send.calls == []


def test_diff_is_readable_yaml_text():
    existing = api_silence('1', ['instance=~"web-.*"'], NOW, NOW + timedelta(hours=2), state='active')
    server = ScriptedAlertmanager([existing])
    later = NOW + timedelta(minutes=1)
    result = ensure_silence(server, spec(now=later, matchers=['instance=~"web-.*"'], duration='3h'), check_mode=True,
                            now=later)
    diff = result['diff']
    assert diff['before_header'] == diff['after_header'] == 'silence 1'
    assert "ends_at: '2030-01-31T14:00:00.000Z'\n" in diff['before']
    assert "ends_at: '2030-01-31T15:00:00.000Z'\n" in diff['after']
    assert diff['before'].replace('14:00', '15:00') == diff['after']
    absent = ensure_silence(server, build_silence_spec({'state': 'absent', 'id': '1'}, now=NOW), check_mode=True,
                            now=NOW)
    assert absent['diff']['before'].startswith('- id: 1\n  matchers:\n    - \'instance=~"web-.*"\'\n')
    assert absent['diff']['after'] == ''


@pytest.mark.parametrize('call, answer, fragment', [
    ('list_silences', {'silences': []}, 'expected a JSON list, got a JSON object'),
    ('list_silences', None, 'expected a JSON list, got null'),
    ('list_silences', [{'id': '1'}, 'x'], 'expected a JSON list of objects, found a JSON string'),
    ('list_alerts', '<html>proxy</html>', 'expected a JSON list, got a JSON string'),
    ('list_alerts', [1], 'expected a JSON list of objects, found a number'),
    ('status', [], 'expected a JSON object, got a JSON list'),
])
def test_wrong_shaped_answers_name_the_endpoint(call, answer, fragment):
    client = AlertmanagerClient(url='http://am.test:9093', send=Recorder(FakeResponse(answer)))
    with pytest.raises(AlertmanagerError) as err:
        getattr(client, call)()
    assert fragment in err.value.message and 'GET http://am.test:9093/api/v2/' in err.value.message
    assert err.value.kind == 'invalid' and err.value.url.startswith('http://am.test:9093/api/v2/')


def test_wrong_shaped_silence_and_post_answers():
    client = AlertmanagerClient(url='http://am.test', send=Recorder(FakeResponse(['not', 'a', 'silence'])))
    with pytest.raises(AlertmanagerError) as err:
        client.get_silence('abc')
    assert 'GET http://am.test/api/v2/silence/abc answered' in err.value.message
    with pytest.raises(AlertmanagerError) as err:
        client.post_silence({'matchers': []})
    assert 'POST http://am.test/api/v2/silences answered' in err.value.message


def test_html_answer_is_invalid_not_attribute_error():
    response = Response('http://am.test/api/v2/alerts', 200, {}, b'<html>login</html>', 1)
    client = AlertmanagerClient(url='http://am.test', send=Recorder(response))
    with pytest.raises(AlertmanagerError) as err:
        client.list_alerts()
    assert err.value.kind == 'invalid' and 'not JSON' in err.value.message
    assert 'http://am.test/api/v2/alerts' in err.value.message


def test_http_error_keeps_kind_and_tls_hint():
    error = HttpError('GET https://x/api/v2/alerts failed TLS verification or handshake: bad', kind='tls')
    client = AlertmanagerClient(url='https://x', send=Recorder(error=error))
    with pytest.raises(AlertmanagerError) as err:
        client.list_alerts()
    assert err.value.kind == 'tls' and 'check ca_path' in err.value.message


def test_unset_state_filters_are_not_sent():
    send = Recorder(FakeResponse([]))
    AlertmanagerClient(url='http://x', send=send).list_alerts(silenced=False, inhibited=False, unprocessed=None)
    assert send.calls[0][1] == 'http://x/api/v2/alerts?active=true&silenced=false&inhibited=false'


def test_common_args_are_one_spec():
    spec = alertmanager_argument_spec(extra=dict(type='str'))
    assert set(spec) == set(ALERTMANAGER_COMMON_ARGS) | {'extra'}
    spec['url']['default'] = 'changed'
    assert ALERTMANAGER_COMMON_ARGS['url']['default'] == 'http://localhost:9093'


def test_naive_datetime_has_no_zone():
    with pytest.raises(ValidationError) as err:
        parse_time(datetime(2030, 1, 31, 18), 'ends_at')
    assert 'has no time zone' in err.value.message
