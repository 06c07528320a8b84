"""The repair role's memory across runs: budgets, first_seen, escalations and resolves."""

from __future__ import annotations

import json

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.plugin_utils import _repair_state as rs

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)
DAY = 86400


def entry(key, **kw):
    kind, name = key.split(':', 1)
    data = {'kind': kind, 'name': name, 'key': key, 'state': 'failed/failed', 'action': None, 'healthy': False,
            'disposition': 'ok', 'reason': ''}
    data.update(kw)
    return data


def acted(key, result):
    return entry(key, action='start', disposition='act', result=result, reason='failed (exit-code)')


def result(*items, escalate=()):
    return {'decisions': list(items), 'escalate': list(escalate)}


def test_load_accepts_nothing_and_refuses_what_is_not_a_state():
    assert rs.load('') == rs.empty()
    assert rs.load(rs.dump(rs.empty())) == rs.empty()
    with pytest.raises(rs.StateError, match=r'/x is not JSON .*will not overwrite it'):
        rs.load('{', '/x')
    with pytest.raises(rs.StateError, match='is not a cloudos.ops/repair-state/v1 file'):
        rs.load('{"items": {}}', '/x')
    bad = {'schema': rs.SCHEMA, 'items': {'web|unit:a': {'attempts': ['yesterday']}}}
    with pytest.raises(rs.StateError, match="entry 'web|unit:a' has attempts that are not RFC 3339"):
        rs.load(json.dumps(bad), '/x')
    with pytest.raises(rs.StateError, match='larger than'):
        rs.load(' ' * (rs.MAX_BYTES + 1), '/x')


def test_budget_counts_our_restarts_inside_the_window():
    state = rs.empty()
    for hour in range(3):
        state = rs.update(state, {'web': result(acted('unit:api', 'still failing'))}, T0 + timedelta(hours=hour), DAY)
    assert rs.budget(state, 'web', 3, DAY, T0 + timedelta(hours=3)) == {'unit:api': 0}
    assert rs.budget(state, 'db', 3, DAY, T0 + timedelta(hours=3)) == {}
    # a day later the first restarts are out of the window
    assert rs.budget(state, 'web', 3, DAY, T0 + timedelta(hours=25, minutes=30)) == {'unit:api': 2}


def test_first_seen_is_kept_until_healthy_and_person_stopped_items_are_not_incidents():
    state = rs.update(rs.empty(), {'web': result(acted('unit:api', 'still failing'),
                                                 entry('container:web', disposition='left alone'))}, T0, DAY)
    assert set(state['items']) == {'web|unit:api'}
    later = rs.update(state, {'web': result(acted('unit:api', 'still failing'))}, T0 + timedelta(minutes=5), DAY)
    assert later['items']['web|unit:api']['first_seen'] == '2026-12-01T07:00:00Z'
    healed = rs.update(later, {'web': result(entry('unit:api', healthy=True))}, T0 + timedelta(minutes=9), DAY)
    assert healed['items']['web|unit:api']['first_seen'] is None
    assert len(healed['items']['web|unit:api']['attempts']) == 2


def test_escalate_once_after_the_delay_then_resolve():
    res = {'web': result(acted('unit:api', 'still failing'), escalate=['unit:api'])}
    state = rs.update(rs.empty(), res, T0, DAY)
    alerts, fired, dummy = rs.escalations(state, res, T0 + timedelta(minutes=5), 600)
    assert alerts == [] and fired == []          # not 10 minutes yet
    state = rs.update(state, res, T0 + timedelta(minutes=11), DAY)
    alerts, fired, dummy = rs.escalations(state, res, T0 + timedelta(minutes=11), 600)
    assert [(a['status'], a['key'], a['source']) for a in alerts] == [('firing', 'web/unit:api', 'web')]
    assert alerts[0]['starts_at'] == '2026-12-01T07:00:00Z'
    state = rs.mark(state, fired, [], T0 + timedelta(minutes=11))
    again, fired_again, dummy = rs.escalations(state, res, T0 + timedelta(minutes=20), 600)
    assert again == [] and fired_again == []      # a re-run does not tell people twice
    ok = {'web': result(entry('unit:api', healthy=True))}
    state = rs.update(state, ok, T0 + timedelta(hours=1), DAY)
    alerts, dummy, resolved = rs.escalations(state, ok, T0 + timedelta(hours=1), 600)
    assert [(a['status'], a['key']) for a in alerts] == [('resolved', 'web/unit:api')]
    state = rs.mark(state, [], resolved, T0 + timedelta(hours=1))
    assert state['items']['web|unit:api']['escalated'] is None
    assert rs.escalations(state, ok, T0 + timedelta(hours=2), 600)[0] == []


def test_what_repair_must_not_touch_escalates_at_once():
    hit = entry('unit:api', disposition='escalate', reason='at its start limit')
    res = {'web': result(hit, escalate=['unit:api'])}
    state = rs.update(rs.empty(), res, T0, DAY)
    alerts, fired, dummy = rs.escalations(state, res, T0, 600)
    assert fired == ['web|unit:api'] and 'at its start limit' in alerts[0]['summary']


def test_a_healthy_fleet_leaves_the_state_unchanged():
    res = {'web': result(entry('unit:api', healthy=True))}
    state = rs.update(rs.empty(), res, T0, DAY)
    assert state == rs.empty()
    assert rs.dump(rs.update(state, res, T0 + timedelta(hours=1), DAY)) == rs.dump(state)


def test_report_record_adds_the_repair_check_and_its_findings():
    after = {'status': 'ok', 'checks': {'services': {'status': 'ok', 'summary': '', 'metrics': {}, 'findings': []}},
             'findings': []}
    res = result(acted('unit:api', 'still failing'), acted('unit:web', 'recovered'),
                 entry('container:db', disposition='left alone', reason='stopped by a person'),
                 escalate=['unit:api'])
    res.update(recovered=['unit:web'], left_alone=['container:db'])
    record = rs.report_record(after, res)
    section = record['checks']['repair']
    assert section['status'] == 'critical'
    assert section['summary'] == ('restarted 2 (api still failing, web recovered), '
                                  'left alone 1 (db: stopped by a person), 1 needs a person')
    assert record['findings'][0]['message'].startswith('unit api is still not up after start (still failing')
    assert [i['key'] for i in section['details']['items']] == ['unit:api', 'unit:web', 'container:db']
    assert rs.report_record(None, {'msg': 'boom'})['checks']['repair']['status'] == 'critical'
