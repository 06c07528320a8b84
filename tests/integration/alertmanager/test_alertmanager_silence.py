"""alertmanager_silence against a real Alertmanager (Debian package) behind a real nginx.

Every run goes through the proxy so that its access log proves how many requests, and which
writes (POST/DELETE), each run made. The server's own silence list is the other witness.
"""

from __future__ import annotations

import re
import socket
import time
import uuid

from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.alertmanager.am_helpers import BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN, TENANT_HEADER, free_port, run_task


def parse(text):
    return datetime.strptime(text.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S.%f%z')


def iso(stamp):
    return stamp.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


@pytest.fixture
def ident():
    """A fresh identity per test, so tests sharing the server never see each other's silences."""
    tag = uuid.uuid4().hex[:8]
    return {'matchers': ['alertname="Maint%s"' % tag, 'instance=~"web-.*"'], 'created_by': 'integration',
            'comment': 'window %s' % tag}


def test_create_rerun_extend_check_expire(alertmanager, proxy, ident):
    url = proxy.url('plain')
    args = dict(ident, url=url, duration='2h')

    mark = proxy.mark()
    created = run_task('alertmanager_silence', args, diff=True)
    assert created['changed'] and created['action'] == 'created', created
    assert [w[0] for w in proxy.writes_since(mark)] == ['POST']
    live = alertmanager.silences(ident['comment'])
    assert [s['id'] for s in live] == [created['silence_id']]
    assert created['silence']['status']['state'] == 'active'
    assert created['diff']['before'] == ''
    assert created['diff']['after_header'] == 'silence %s' % created['silence_id']
    assert 'matchers:\n%s' % ''.join("  - '%s'\n" % m for m in ident['matchers']) in created['diff']['after']
    first_end = live[0]['endsAt']
    assert parse(first_end) - parse(live[0]['startsAt']) == pytest.approx(timedelta(hours=2), abs=timedelta(seconds=1))

    # Same task again, a little later: the end does not creep, nothing is written.
    time.sleep(2.5)
    mark = proxy.mark()
    again = run_task('alertmanager_silence', args)
    assert not again['changed'] and again['action'] == 'unchanged'
    assert again['silence_id'] == created['silence_id']
    assert proxy.writes_since(mark) == []
    assert proxy.requests_since(mark) == [('GET', '/plain/api/v2/silences', '200')]
    live = alertmanager.silences(ident['comment'])
    assert [s['id'] for s in live] == [created['silence_id']] and live[0]['endsAt'] == first_end

    # Matcher order is not part of the identity.
    mark = proxy.mark()
    reordered = run_task('alertmanager_silence', dict(args, matchers=list(reversed(ident['matchers']))))
    assert not reordered['changed'] and proxy.writes_since(mark) == []

    # Check mode: reports the extension, sends no write.
    mark = proxy.mark()
    preview = run_task('alertmanager_silence', dict(args, duration='3h'), check=True, diff=True)
    assert preview['changed'] and preview['action'] == 'updated'
    assert "ends_at: '%s'\n" % first_end in preview['diff']['before']
    new_end = re.search(r"ends_at: '([^']+)'", preview['diff']['after']).group(1)
    assert parse(new_end) > parse(first_end)
    assert proxy.writes_since(mark) == []
    assert alertmanager.silences(ident['comment'])[0]['endsAt'] == first_end

    # A longer duration extends the same silence in place: the server keeps the ID.
    mark = proxy.mark()
    extended = run_task('alertmanager_silence', dict(args, duration='3h'))
    assert extended['changed'] and extended['action'] == 'updated'
    assert extended['silence_id'] == created['silence_id'] and 'previous_id' not in extended
    assert [w[0] for w in proxy.writes_since(mark)] == ['POST']
    live = alertmanager.silences(ident['comment'])
    assert [s['id'] for s in live] == [created['silence_id']]
    assert parse(live[0]['endsAt']) - parse(live[0]['startsAt']) == pytest.approx(timedelta(hours=3),
                                                                                  abs=timedelta(seconds=1))

    # A later ends_at (given with a time zone offset) extends it again.
    target = parse(live[0]['startsAt']) + timedelta(hours=5)
    local = target.astimezone(timezone(timedelta(hours=2))).strftime('%Y-%m-%dT%H:%M:%S+02:00')
    mark = proxy.mark()
    later = run_task('alertmanager_silence', dict(ident, url=url, ends_at=local))
    assert later['action'] == 'updated' and later['silence_id'] == created['silence_id']
    assert abs(parse(alertmanager.silences(ident['comment'])[0]['endsAt']) - target) < timedelta(seconds=1)
    assert len(proxy.writes_since(mark)) == 1

    # Expire: check mode first (no write), then for real, then again (no-op).
    absent = dict(ident, url=url, state='absent')
    mark = proxy.mark()
    preview = run_task('alertmanager_silence', absent, check=True, diff=True)
    assert preview['changed'] and preview['expired_ids'] == [created['silence_id']]
    assert proxy.writes_since(mark) == [] and alertmanager.silences(ident['comment'])
    expired = run_task('alertmanager_silence', absent)
    assert expired['changed'] and expired['action'] == 'expired' and expired['expired_ids'] == [created['silence_id']]
    assert [w[0] for w in proxy.writes_since(mark)] == ['DELETE']
    assert alertmanager.silences(ident['comment']) == []
    mark = proxy.mark()
    again = run_task('alertmanager_silence', absent)
    assert not again['changed'] and again['action'] == 'none' and proxy.writes_since(mark) == []

    # After expiry the identity is free: present creates a new silence.
    recreated = run_task('alertmanager_silence', args)
    assert recreated['action'] == 'created' and recreated['silence_id'] != created['silence_id']
    run_task('alertmanager_silence', absent)


def test_server_replaces_when_in_place_update_is_not_allowed(alertmanager, proxy, ident):
    """Moving an active silence's start into the future: the server expires it and returns a new ID."""
    url = proxy.url('plain')
    created = run_task('alertmanager_silence', dict(ident, url=url, duration='1h'))
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    moved = run_task('alertmanager_silence', dict(ident, url=url, starts_at=iso(start),
                                                  ends_at=iso(start + timedelta(hours=2))))
    assert moved['changed'] and moved['action'] == 'replaced'
    assert moved['previous_id'] == created['silence_id'] and moved['silence_id'] != created['silence_id']
    everything = {s['id']: s for s in alertmanager.silences(ident['comment'], live=False)}
    assert everything[created['silence_id']]['status']['state'] == 'expired'
    assert everything[moved['silence_id']]['status']['state'] == 'pending'
    run_task('alertmanager_silence', dict(ident, url=url, state='absent'))


def test_pending_silence_is_moved_in_place(alertmanager, proxy, ident):
    url = proxy.url('plain')
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    created = run_task('alertmanager_silence', dict(ident, url=url, starts_at=iso(start), duration='2h'))
    assert created['silence']['status']['state'] == 'pending'
    moved = run_task('alertmanager_silence', dict(ident, url=url, starts_at=iso(start + timedelta(minutes=30)),
                                                  duration='2h'))
    assert moved['action'] == 'updated' and moved['silence_id'] == created['silence_id']
    live = alertmanager.silences(ident['comment'])
    assert len(live) == 1 and parse(live[0]['startsAt']) == start.replace(microsecond=0) + timedelta(minutes=30)
    run_task('alertmanager_silence', dict(ident, url=url, state='absent'))


def test_duplicates_made_by_other_tools_are_collapsed(alertmanager, proxy, ident):
    now = datetime.now(timezone.utc)
    body = {'matchers': [{'name': 'alertname', 'value': ident['matchers'][0].split('"')[1], 'isRegex': False,
                          'isEqual': True},
                         {'name': 'instance', 'value': 'web-.*', 'isRegex': True, 'isEqual': True}],
            'startsAt': iso(now), 'createdBy': ident['created_by'], 'comment': ident['comment']}
    short = alertmanager.api('POST', '/api/v2/silences', dict(body, endsAt=iso(now + timedelta(hours=1))))
    long_ = alertmanager.api('POST', '/api/v2/silences', dict(body, endsAt=iso(now + timedelta(hours=2))))
    result = run_task('alertmanager_silence', dict(ident, url=proxy.url('plain'), duration='2h'))
    assert result['changed'] and result['silence_id'] == long_['silenceID']
    assert result['expired_ids'] == [short['silenceID']]
    assert [s['id'] for s in alertmanager.silences(ident['comment'])] == [long_['silenceID']]
    run_task('alertmanager_silence', dict(ident, url=proxy.url('plain'), state='absent'))


def test_absent_by_id(alertmanager, proxy, ident):
    url = proxy.url('plain')
    created = run_task('alertmanager_silence', dict(ident, url=url, duration='1h'))
    mark = proxy.mark()
    gone = run_task('alertmanager_silence', {'url': url, 'state': 'absent', 'id': created['silence_id']})
    assert gone['changed'] and gone['expired_ids'] == [created['silence_id']]
    assert proxy.writes_since(mark) == [('DELETE', '/plain/api/v2/silence/%s' % created['silence_id'], '200')]
    unknown = run_task('alertmanager_silence', {'url': url, 'state': 'absent', 'id': str(uuid.uuid4())})
    assert not unknown['changed'] and unknown['action'] == 'none'
    assert [w for w in proxy.writes_since(mark) if w[0] == 'DELETE'] == [
        ('DELETE', '/plain/api/v2/silence/%s' % created['silence_id'], '200')]


@pytest.mark.parametrize('override, expected', [
    ({'matchers': []}, 'matchers'),
    ({'matchers': ['alertname=~".*"']}, 'would match every alert'),
    ({'matchers': ['instance=""', 'job=""']}, 'would match only alerts that lack these labels'),
    ({'matchers': ['instance=~"web-(?!01)"']}, 'negative lookahead'),
    ({'matchers': ['instance=~"web-[0-9"']}, 'invalid regular expression'),
    ({'duration': None, 'starts_at': '2999-01-01T12:00:00+01:00', 'ends_at': '2999-01-01T10:00:00+01:00'},
     'ends_at=2999-01-01T10:00:00+01:00 must be after starts_at'),
    ({'duration': None, 'ends_at': '2020-01-01T00:00:00Z'}, 'ends_at=2020-01-01T00:00:00Z is in the past'),
    ({'duration': '3 fortnights'}, "duration='3 fortnights' is not a duration"),
    ({'duration': '3q'}, "duration='3q' has an unknown unit 'q'"),
    ({'duration': None, 'ends_at': '2999-01-01T10:00:00'}, 'ends_at=\'2999-01-01T10:00:00\' has no time zone'),
])
def test_bad_input_is_refused_before_anything_is_sent(proxy, ident, override, expected):
    args = dict(ident, url=proxy.url('plain'), duration='2h')
    args.update(override)
    args = dict((k, v) for k, v in args.items() if v is not None)
    mark = proxy.mark()
    result = run_task('alertmanager_silence', args)
    assert result['failed'] and expected in result['msg'], result['msg']
    assert proxy.requests_since(mark) == []


@pytest.mark.parametrize('url', ['127.0.0.1:9093', 'ftp://127.0.0.1/', 'http://', 'http://127.0.0.1:99999'])
def test_malformed_url_names_the_option(url, ident):
    result = run_task('alertmanager_silence', dict(ident, url=url, duration='2h'))
    assert result['failed'], result
    assert result['msg'].startswith("url=%r" % url), result['msg']


def test_server_errors_are_reported_with_status_and_text(proxy, ident):
    gone = run_task('alertmanager_silence', dict(ident, url=proxy.url('gone'), duration='2h'))
    assert gone['failed'] and gone['status'] == 410
    assert 'HTTP 410' in gone['msg'] and 'v1-only gateway' in gone['msg'] and 'API v2' in gone['msg']

    down = run_task('alertmanager_silence', dict(ident, url=proxy.url('down'), duration='2h'))
    assert down['failed'] and down['status'] == 502 and 'HTTP 502' in down['msg'] and 'Bad Gateway' in down['msg']

    missing = run_task('alertmanager_silence', dict(ident, url=proxy.url('plain/nowhere'), duration='2h'))
    assert missing['failed'] and missing['status'] == 404 and 'path prefix' in missing['msg']

    refused = run_task('alertmanager_silence', dict(ident, url='http://127.0.0.1:%d' % free_port(), duration='2h'))
    assert refused['failed'] and 'connection refused' in refused['msg']


def test_timeout_is_reported(ident):
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(8)  # accepts connections in the kernel, never answers
        url = 'http://127.0.0.1:%d' % silent.getsockname()[1]
        result = run_task('alertmanager_silence', dict(ident, url=url, duration='2h', timeout=1))
    assert result['failed'] and 'timed out after 1.0s' in result['msg']


def test_basic_auth(alertmanager, proxy, ident):
    url = proxy.url('basic')
    ok = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', url_username=BASIC_USER,
                                               url_password=BASIC_PASSWORD))
    assert ok['changed'] and ok['action'] == 'created'
    wrong = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', url_username=BASIC_USER,
                                                  url_password='wrong'))
    assert wrong['failed'] and wrong['status'] == 401 and 'url_username/url_password' in wrong['msg']
    assert 'wrong' not in wrong['msg']
    none = run_task('alertmanager_silence', dict(ident, url=url, duration='1h'))
    assert none['failed'] and none['status'] == 401
    run_task('alertmanager_silence', dict(ident, url=url, state='absent', url_username=BASIC_USER,
                                          url_password=BASIC_PASSWORD))
    assert alertmanager.silences(ident['comment']) == []


def test_bearer_token_and_environment(proxy, ident):
    url = proxy.url('bearer')
    ok = run_task('alertmanager_silence', dict(ident, duration='1h'),
                  env={'CLOUDOS_ALERTMANAGER_URL': url, 'CLOUDOS_ALERTMANAGER_TOKEN': BEARER_TOKEN})
    assert ok['changed'] and ok['action'] == 'created'
    bad = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', bearer_token='nope'))
    assert bad['failed'] and bad['status'] == 401 and 'missing or wrong bearer token' in bad['msg']
    gone = run_task('alertmanager_silence', dict(ident, url=url, state='absent', bearer_token=BEARER_TOKEN))
    assert gone['changed']


def test_custom_header(proxy, ident):
    url = proxy.url('header')
    ok = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', headers=dict([TENANT_HEADER])))
    assert ok['changed']
    bad = run_task('alertmanager_silence', dict(ident, url=url, duration='1h'))
    assert bad['failed'] and bad['status'] == 403 and 'X-Scope-OrgID header required' in bad['msg']
    run_task('alertmanager_silence', dict(ident, url=url, state='absent', headers=dict([TENANT_HEADER])))


def test_tls_private_ca(proxy, pki, ident):
    url = proxy.https_url
    ok = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', ca_path=pki['ca']))
    assert ok['changed'] and ok['action'] == 'created'
    insecure = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', validate_certs=False))
    assert not insecure['changed'] and insecure['silence_id'] == ok['silence_id']
    wrong_ca = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', ca_path=pki['other_ca']))
    assert wrong_ca['failed'] and 'certificate verify failed' in wrong_ca['msg'] and 'ca_path' in wrong_ca['msg']
    no_ca = run_task('alertmanager_silence', dict(ident, url=url, duration='1h'))
    assert no_ca['failed'] and 'certificate verify failed' in no_ca['msg']
    run_task('alertmanager_silence', dict(ident, url=url, state='absent', ca_path=pki['ca']))


def test_mutual_tls_client_certificate(proxy, pki, ident):
    url = proxy.mtls_url
    ok = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', ca_path=pki['ca'],
                                               client_cert=pki['client_cert'], client_key=pki['client_key']))
    assert ok['changed'] and ok['action'] == 'created', ok
    refused = run_task('alertmanager_silence', dict(ident, url=url, duration='1h', ca_path=pki['ca']))
    assert refused['failed'] and refused['status'] == 400 and 'No required SSL certificate' in refused['msg']
    run_task('alertmanager_silence', dict(ident, url=url, state='absent', ca_path=pki['ca'],
                                          client_cert=pki['client_cert'], client_key=pki['client_key']))
