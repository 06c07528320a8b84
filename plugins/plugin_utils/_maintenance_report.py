# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weekly maintenance on the controller: the health gate between hosts and each host's report entry.

Controller-only and private to this collection: no compatibility promise. Pure functions
behind the ``cloudos.ops.maintenance_health_gate`` and ``cloudos.ops.maintenance_host_report``
filters:

* :func:`health_gate` compares a host's ``cloudos_health`` record before and after its
  maintenance and says whether the rollout must stop, and why;
* :func:`host_report` turns what the ``maintenance`` role registered for one host into a host
  entry of the fleet report (``status``, ``checks``, ``findings``), the shape ``_report``
  renders. Each report section has its own summariser in :data:`SUMMARISERS`.

Sizes are written by ``_common.human_size`` (binary units, as everywhere in the reports).
"""

from __future__ import annotations

import functools

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    CRITICAL, OK, WARNING, human_size, parse_time, status_rank, utcnow)

GATES = ('worse', 'critical', 'never')
# A list of statuses comes out as the worst of these three.
_LEVELS = {0: OK, 1: WARNING, 2: CRITICAL}


class MaintenanceError(ValueError):
    """Bad input; the message names the parameter and the value."""


def _level(statuses):
    """``ok``, ``warning`` or ``critical``: the worst of ``statuses`` (``ok`` for none)."""
    return _LEVELS[min(2, max([status_rank(s) for s in statuses] or [0]))]


# --------------------------------------------------------------------------- the health gate

def _findings(health):
    return [f for f in (health or {}).get('findings') or [] if isinstance(f, dict)]


def _key(finding):
    return (finding.get('check'), finding.get('severity'), finding.get('message'))


def health_gate(before, after, gate='worse', ignore_checks=None):
    """Whether a host ends worse than it started.

    ``gate``: ``worse`` - stop when the host's status is worse after than before (ok ->
    warning, warning -> critical...), or when a new critical finding appeared;
    ``critical`` - stop only when the host is critical after and was not before, or has a
    new critical finding; ``never`` - report, never stop. Sections in ``ignore_checks`` are
    left out of the comparison (e.g. ``resources``, whose CPU sample is noisy).
    Returns ``{stop, before, after, reason, new_findings, resolved_findings}``.
    """
    if gate not in GATES:
        raise MaintenanceError('maintenance_health_gate must be one of %s, got %r' % (', '.join(GATES), gate))
    ignore = set(ignore_checks or [])

    def status(health):
        checks = (health or {}).get('checks') or {}
        if checks:
            return _level((c or {}).get('status') for n, c in checks.items() if n not in ignore)
        return (health or {}).get('status') or OK

    if not isinstance(before, dict) or not isinstance(after, dict):
        missing = 'before' if not isinstance(before, dict) else 'after'
        return {'stop': gate != 'never', 'before': status(before) if isinstance(before, dict) else None,
                'after': status(after) if isinstance(after, dict) else None,
                'reason': 'no health record %s the maintenance' % missing, 'new_findings': [], 'resolved_findings': []}
    was, now = status(before), status(after)
    old = set(_key(f) for f in _findings(before) if f.get('check') not in ignore)
    new = [f for f in _findings(after) if f.get('check') not in ignore and _key(f) not in old]
    current = set(_key(f) for f in _findings(after))
    resolved = [f for f in _findings(before) if f.get('check') not in ignore and _key(f) not in current]
    new_critical = [f for f in new if f.get('severity') == CRITICAL]
    reasons = []
    if gate == 'worse' and status_rank(now) > status_rank(was):
        reasons.append('health went from %s to %s' % (was, now))
    if gate == 'critical' and now == CRITICAL and was != CRITICAL:
        reasons.append('health went from %s to critical' % was)
    if gate != 'never' and new_critical and not reasons:
        reasons.append('%d new critical finding(s)' % len(new_critical))
    if reasons and new:
        reasons.append('; '.join('%s: %s' % (f.get('check'), f.get('message')) for f in new[:5]))
    return {'stop': bool(reasons), 'before': was, 'after': now, 'reason': ': '.join(reasons) if reasons else '',
            'new_findings': new, 'resolved_findings': resolved}


# --------------------------------------------------------------------------- helpers of the summarisers

def _ran(result):
    """A registered result of a task that ran (not skipped, not missing)."""
    return isinstance(result, dict) and result.get('skipped') is not True and result != {}


def _present(result):
    """A result the role recorded (a non-empty dict)."""
    return isinstance(result, dict) and bool(result)


def _check(status, summary, metrics=None, findings=None):
    return {'status': status, 'summary': summary, 'metrics': metrics or {}, 'findings': findings or []}


def _judged(summary, metrics, findings):
    """A check that is critical with a critical finding, a warning with any other, ``ok`` without."""
    status = CRITICAL if any(f.get('severity') == CRITICAL for f in findings) else (WARNING if findings else OK)
    return _check(status, summary, metrics, findings)


def _failed(name, result):
    msg = result.get('msg') or result.get('stderr') or 'failed'
    return _check(CRITICAL, '%s failed: %s' % (name, msg), findings=[
        {'severity': CRITICAL, 'message': '%s failed: %s' % (name, msg),
         'action': 'Read the task output; fix the cause and re-run the maintenance for this host'}])


def _registered(key, label, ran=_ran):
    """Make ``summarise(result, data)`` a summariser of ``data[key]``.

    The summariser gives ``None`` when the task did not run (``ran(result)`` is false) and a
    critical check naming ``label`` when it failed; ``summarise`` sees only a result that ran.
    """
    def decorate(summarise):
        @functools.wraps(summarise)
        def summariser(data):
            result = data.get(key)
            if not ran(result):
                return None
            if result.get('failed'):
                return _failed(label, result)
            return summarise(result, data)
        return summariser
    return decorate


def _done(data, past, planned):
    """``rotated``/``freed``/``removed`` in a real run, ``would rotate`` ... in check mode."""
    return planned if data.get('check_mode') else past


def _age_hours(created_at, now=None):
    """Hours between ``created_at`` and ``now`` (ISO 8601 strings; ``now`` defaults to the clock)."""
    start = parse_time(created_at) if created_at else utcnow()
    end = parse_time(now) if now else utcnow()
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600.0


# --------------------------------------------------------------------------- one summariser per section
#
# Each is called with the whole ``data`` dict (see :func:`host_report`) and returns one check,
# or ``None`` when the section did not run on the host (it is then left out of the report).
# Those made by ``_registered`` receive the section's registered result and ``data``.

def summarise_health(data):
    """The health gate: critical when it stopped the rollout, with every new finding."""
    gate = data.get('gate')
    if not isinstance(gate, dict):
        return None
    status = CRITICAL if gate.get('stop') else (WARNING if status_rank(gate.get('after'), 0) > 0 else OK)
    findings = []
    if gate.get('stop'):
        findings.append({'severity': CRITICAL, 'message': 'Rollout stopped here: %s' % gate.get('reason'),
                         'action': 'Look at this host before resuming: the maintenance left it worse than it was'})
    for finding in gate.get('new_findings') or []:
        findings.append({'severity': finding.get('severity') if finding.get('severity') in (WARNING, CRITICAL) else WARNING,
                         'message': 'new after maintenance: %s' % finding.get('message'), 'action': finding.get('action') or ''})
    suffix = (' - ' + gate['reason']) if gate.get('reason') else ''
    return _check(status, 'before %s, after %s%s' % (gate.get('before'), gate.get('after'), suffix),
                  {'before': gate.get('before'), 'after': gate.get('after'),
                   'new_findings': len(gate.get('new_findings') or []),
                   'resolved_findings': len(gate.get('resolved_findings') or [])}, findings)


@_registered('updates', 'update check')
def summarise_updates(updates, data):
    """Pending updates: a warning while security updates wait, critical when applying them failed."""
    info = updates.get('updates') or {}
    applied = data.get('security_applied')
    applied_list = []
    if _ran(applied) and not applied.get('failed'):
        applied_list = applied.get('applied') or []
    sec = info.get('security_count', 0)
    findings = []
    if sec and not applied_list:
        findings.append({'severity': WARNING, 'message': '%d security update(s) pending: %s'
                         % (sec, ', '.join(info.get('security') or [])[:300]),
                         'action': 'Apply them in the monthly window (maintenance_monthly: true) or sooner'})
    if _ran(applied) and applied.get('failed'):
        findings.append({'severity': CRITICAL, 'message': 'applying security updates failed: %s' % applied.get('msg'),
                         'action': 'Read the package manager output on the host'})
    applied_text = (', %d applied' % len(applied_list)) if applied_list else ''
    return _judged('%d pending, %d security%s' % (info.get('count', 0), sec, applied_text),
                   {'pending': info.get('count', 0), 'security': sec, 'applied': len(applied_list),
                    'manager': info.get('manager')}, findings)


def summarise_logrotate(data):
    """How many logs were rotated (or would be, in check mode)."""
    logrotate = data.get('logrotate')
    if not isinstance(logrotate, dict) or not logrotate:
        return None
    res = logrotate.get('result') or {}
    if res.get('failed'):
        return _failed('logrotate', res)
    needed = logrotate.get('needed') or 0
    forced = ' (forced)' if logrotate.get('forced') else ''
    return _check(OK, '%s %d log(s)%s' % (_done(data, 'rotated', 'would rotate'), needed, forced),
                  {'rotated': needed, 'forced': bool(logrotate.get('forced')), 'configs': logrotate.get('configs') or []})


@_registered('docker', 'Docker clean-up')
def summarise_docker(docker, data):
    """Docker clean-up: space freed, what was removed, and each object kept (an info finding)."""
    plan = docker.get('plan') or {}
    counts = dict((k, len(plan.get(k) or [])) for k in ('images', 'containers', 'networks', 'volumes', 'build_cache'))
    freed = docker.get('bytes_freed', 0)
    kept = docker.get('not_removed') or []
    findings = [{'severity': 'info', 'message': 'kept %s %s: %s' % (s.get('kind'), s.get('name') or s.get('id'), s.get('reason')),
                 'action': ''} for s in kept]
    removed = ', '.join('%d %s' % (v, k.replace('_', ' ')) for k, v in counts.items() if v) or 'nothing to remove'
    return _check(OK, '%s %s (%s)' % (_done(data, 'freed', 'would free'), human_size(freed), removed),
                  dict(counts, bytes_freed=freed, scope=plan.get('scope') or [], skipped=len(kept)), findings)


@_registered('images', 'image inventory')
def summarise_images(images, data):
    """The image inventory: one line per tag (the first 50)."""
    del data
    rows = images.get('images') or []
    return _check(OK, '%d image tag(s)' % len(rows), {
        'images': ['%s:%s %s %s' % (r.get('repository'), r.get('tag'), r.get('created'), human_size(r.get('size')))
                   for r in rows[:50]]})


@_registered('journal', 'journal vacuum')
def summarise_journal(journal, data):
    """Journal vacuum: files and space removed, and what the journal takes now."""
    return _check(OK, '%s %d file(s), %s; %s' % (
        _done(data, 'removed', 'would remove'), len(journal.get('removed') or []),
        human_size(journal.get('bytes_freed')), journal.get('disk_usage') or ''),
        {'bytes_freed': journal.get('bytes_freed', 0), 'usage_before': journal.get('usage_before', 0),
         'usage_after': journal.get('usage_after', 0)})


def _backup_limit(backup):
    limit = backup.get('max_age_hours')
    try:
        return float(limit) if limit not in (None, '') else None
    except (TypeError, ValueError):
        return None


def _backup_findings(verify, age, limit):
    if verify.get('failed') or not verify.get('verified'):
        return [{'severity': CRITICAL, 'message': 'no backup set verified: %s' % (verify.get('msg') or 'no set'),
                 'action': 'Run the backup playbook (cloudos.ops.backup) and check its output'}]
    findings = []
    for item in verify.get('verified') or []:
        if not item.get('ok'):
            problems = ', '.join('%s: %s' % (m.get('file'), m.get('problem')) for m in item.get('mismatches') or [])
            findings.append({'severity': CRITICAL, 'message': 'backup set %s does not verify: %s' % (item.get('backup_id'), problems),
                             'action': 'Take a new backup now; keep the damaged set for analysis'})
    if age is not None and limit is not None and age > limit:
        findings.append({'severity': WARNING, 'message': 'newest backup set is %.1f hours old (limit %s)' % (age, limit),
                         'action': 'Check that the daily backup runs (cloudos.ops.backup)', 'metric': 'backup_age_hours',
                         'value': round(age, 1), 'threshold': limit})
    return findings


def summarise_backup(data):
    """The newest backup set: critical when none verifies, a warning when it is older than the limit."""
    backup = data.get('backup')
    if not isinstance(backup, dict) or not backup:
        return None
    verify = backup.get('verify') or {}
    age = backup.get('age_hours')
    if age is None and backup.get('created_at'):
        age = _age_hours(backup['created_at'], data.get('checked_at'))
    findings = _backup_findings(verify, age, _backup_limit(backup))
    newest = (verify.get('verified') or [{}])[-1]
    return _judged('newest set %s%s' % (newest.get('backup_id') or 'none', (', %.1f h old' % age) if age is not None else ''),
                   {'backup_id': newest.get('backup_id'), 'created_at': backup.get('created_at'),
                    'age_hours': round(age, 1) if age is not None else None}, findings)


def summarise_certificates(data):
    """The ``certificates`` section of a ``cloudos_health`` run, as it is."""
    certs = data.get('certificates')
    if not _ran(certs):
        return None
    section = ((certs.get('health') or {}).get('checks') or {}).get('certificates') or {}
    if certs.get('failed') or not section:
        return _failed('certificate check', certs)
    return _check(section.get('status') or OK, section.get('summary') or '', section.get('metrics'), section.get('findings'))


@_registered('restore_drill', 'restore drill', ran=_present)
def summarise_restore_drill(drill, data):
    """The restore drill: ok with its own summary and metrics, critical when it failed."""
    del data
    return _check(OK, drill.get('summary') or 'restore drill passed', drill.get('metrics'))


@_registered('dr_test', 'disaster-recovery test', ran=_present)
def summarise_dr_test(test, data):
    """The disaster-recovery test: ok with its own summary and metrics, critical when it failed."""
    del data
    return _check(OK, test.get('summary') or 'disaster-recovery test passed', test.get('metrics'))


@_registered('capacity', 'capacity summary')
def summarise_capacity(capacity, data):
    """Capacity trends: one line per series (``72.5% now, 0.8/day``) and the module's findings."""
    del data
    info = capacity.get('capacity') or {}
    series = info.get('series') or {}
    return _judged('%d series over %s days' % (len(series), info.get('days')),
                   dict((k, '%s%% now, %s/day' % (v.get('last'), v.get('trend_per_day'))) for k, v in series.items()),
                   info.get('findings') or [])


def summarise_run(data):
    """The task the maintenance failed at, when it failed (the play's rescue recorded it)."""
    error = data.get('error')
    if not isinstance(error, dict) or not error:
        return None
    return _check(CRITICAL, 'failed at "%s": %s' % (error.get('task'), error.get('msg')), findings=[
        {'severity': CRITICAL, 'message': 'maintenance failed at task "%s": %s' % (error.get('task'), error.get('msg')),
         'action': 'Read the play output for this host; the maintenance window was ended'}])


# Report section -> its summariser, in the order of the report's columns.
SUMMARISERS = {
    'health': summarise_health,
    'updates': summarise_updates,
    'logrotate': summarise_logrotate,
    'docker': summarise_docker,
    'images': summarise_images,
    'journal': summarise_journal,
    'backup': summarise_backup,
    'certificates': summarise_certificates,
    'restore_drill': summarise_restore_drill,
    'dr_test': summarise_dr_test,
    'capacity': summarise_capacity,
    'run': summarise_run,
}


def host_report(data):
    """A fleet-report host entry from what the role registered for one host.

    ``data`` keys (each optional): ``health_before``, ``health_after``, ``gate`` (from
    :func:`health_gate`), ``updates``, ``security_applied``, ``logrotate`` (``{needed, forced,
    configs, result}``), ``docker``, ``images``, ``journal``, ``backup`` (``{verify, created_at,
    age_hours, max_age_hours}``), ``certificates`` (a health record), ``restore_drill``,
    ``capacity``, ``dr_test``, ``error`` (``{task, msg}``), ``check_mode``, ``checked_at``.
    The host's status is the worst of its checks; the findings are gathered from the checks
    by the report builder.
    """
    checks = {}
    for name, summarise in SUMMARISERS.items():
        check = summarise(data)
        if check is not None:
            checks[name] = check
    return {'status': _level(c['status'] for c in checks.values()), 'checked_at': data.get('checked_at'),
            'checks': checks, 'findings': None}
