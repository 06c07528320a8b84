# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention of complete backup sets: pure functions, no file system access.

Rules:
* only complete sets are ever considered (the caller passes nothing else);
* ``keep_daily`` / ``keep_weekly`` / ``keep_monthly`` keep the newest set of each of the
  newest N calendar days / ISO weeks / months (UTC) that hold a set;
* ``keep_days`` keeps every set younger than that many days;
* the newest complete set is always kept, whatever its age;
* a set in ``protect`` (the one this run just wrote) is always kept;
* a set dated after ``now`` (plus ``future_slack`` seconds) cannot be placed in time: it is
  kept, reported under ``future`` and takes part in no rule (it is never "the newest");
* with no rule given nothing is deleted.
"""

from __future__ import annotations

import datetime

RULES = ('keep_daily', 'keep_weekly', 'keep_monthly', 'keep_days')
# Bigger counts mean "keep everything" anyway; keep_days beyond this would overflow a date.
MAXIMUM = 100000


def _bucket(rule, when):
    if rule == 'keep_daily':
        return when.strftime('%Y-%m-%d')
    if rule == 'keep_weekly':
        year, week, _dummy = when.isocalendar()[:3]
        return '%04d-W%02d' % (year, week)
    return when.strftime('%Y-%m')


def validate_policy(policy):
    """Return a clean policy dict or raise ValueError naming the bad key/value."""
    clean = {}
    for key, value in (policy or {}).items():
        if key not in RULES:
            raise ValueError('retention: unknown key %r (expected one of %s)' % (key, ', '.join(RULES)))
        if value is None:
            continue
        if isinstance(value, bool):
            raise ValueError('retention.%s: expected a non-negative integer, got %r' % (key, value))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError('retention.%s: expected a non-negative integer, got %r' % (key, value))
        if number < 0 or str(number) != str(value).strip():
            raise ValueError('retention.%s: expected a non-negative integer, got %r' % (key, value))
        if number > MAXIMUM:
            raise ValueError('retention.%s: %d is more than %d' % (key, number, MAXIMUM))
        clean[key] = number
    return clean


def plan_retention(sets, policy, now, protect=(), future_slack=300):
    """Decide which sets to keep.

    ``sets``: iterable of ``(set_id, datetime)`` (timezone-aware UTC or naive UTC).
    ``policy``: dict from :func:`validate_policy`. ``now``: datetime (same convention).

    ``protect``: ids never deleted (the set this run wrote).

    Returns ``{'keep': [{'id', 'time', 'reasons'}], 'delete': [{'id', 'time'}]}``, newest
    first, plus ``future`` (ids) when a set is dated in the future.
    """
    everything = sorted(sets, key=lambda item: (item[1], item[0]), reverse=True)
    limit = now + datetime.timedelta(seconds=future_slack)
    future = [set_id for set_id, when in everything if when > limit]
    ordered = [(set_id, when) for set_id, when in everything if when <= limit]
    reasons = {set_id: [] for set_id, _when in everything}
    for set_id in future:
        reasons[set_id].append('dated in the future (not counted)')
    for set_id in protect:
        if set_id in reasons:
            reasons[set_id].append('written by this run')
    active = dict((k, v) for k, v in (policy or {}).items() if v is not None)
    if not active:
        for set_id, _when in ordered:
            reasons[set_id].append('no retention rule')
    if ordered:
        reasons[ordered[0][0]].append('newest')
    for rule in ('keep_daily', 'keep_weekly', 'keep_monthly'):
        count = active.get(rule, 0)
        if not count:
            continue
        seen = []
        for set_id, when in ordered:
            bucket = _bucket(rule, when)
            if bucket in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(bucket)
            reasons[set_id].append('%s %s' % (rule[5:], bucket))
    if 'keep_days' in active:
        limit = now - datetime.timedelta(days=active['keep_days'])
        for set_id, when in ordered:
            if when >= limit:
                reasons[set_id].append('within %d days' % active['keep_days'])
    keep, delete = [], []
    for set_id, when in everything:
        record = {'id': set_id, 'time': when.strftime('%Y-%m-%dT%H:%M:%SZ')}
        if reasons[set_id]:
            record['reasons'] = reasons[set_id]
            keep.append(record)
        else:
            delete.append(record)
    planned = {'keep': keep, 'delete': delete}
    if future:
        planned['future'] = future
    return planned
