# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's entry of the data-corruption report: every step of the runbook as a check.

Controller-only (plugin_utils). Each step is a check of the fleet report (``assess``,
``writers``, ``restore``, ``integrity``, ``resume``, plus the host's ``health`` after it), with a
critical finding where the step failed and the guide's next action.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._common import worst_status

STEPS = ('assess', 'writers', 'restore', 'integrity', 'resume', 'health')


def _ran(result):
    return isinstance(result, dict) and not result.get('skipped') and result != {}


def _check(status, summary, findings=(), metrics=None):
    return {'status': status, 'summary': summary, 'metrics': metrics or {}, 'findings': list(findings)}


def _finding(check, severity, message, action):
    return {'check': check, 'severity': severity, 'message': message, 'action': action}


def _differs(compare):
    return [r for r in (compare or {}).get('restored') or [] if r.get('changed')]


def record(steps, failed_step='', check_mode=False):
    """The report record of one host from what each step registered (``steps``: name -> result)."""
    pre = steps.get('precheck') or {}
    checks = {}
    if not _ran(pre) or pre.get('failed') or 'restored' not in pre:
        checks['assess'] = _check('critical', 'no backup set to compare with', [_finding(
            'assess', 'critical', 'cannot compare with a backup set: %s' % pre.get('msg', 'the comparison did not run'),
            'List the sets (ls -la /backup/cloudos), verify them (cloudos.ops.cloudos_backup state=verified); '
            'without a set that verifies, recover by hand')])
    else:
        differs = _differs(pre)
        summary = ('live data matches set %s' % pre.get('backup_id') if not differs else
                   '%d source(s) differ from set %s: %s' % (len(differs), pre.get('backup_id'),
                                                            ', '.join(r.get('target', '?') for r in differs)))
        checks['assess'] = _check('warning' if differs else 'ok', summary,
                                  [_finding('assess', 'warning', summary, 'restored from the set by this run')] if differs else [],
                                  {'sources_differing': len(differs)})
    writers = steps.get('writers') or {}
    if _ran(writers):
        verb = 'would stop' if check_mode else 'stopped'
        checks['writers'] = _check('ok', '%s %d unit(s) and %d container(s)' % (
            verb, len(writers.get('units') or []), len(writers.get('containers') or [])))
    else:
        checks['writers'] = _check('skipped', 'not needed')
    scope = steps.get('scope') or {}
    integrity = steps.get('integrity') or {}
    if failed_step:
        checks['restore'] = _check('critical', 'failed', [_finding(
            'restore', 'critical', 'the runbook stopped at %s' % failed_step,
            'Keep the writers stopped; restore by hand (cloudos.ops.restore with another restore_backup_id) '
            'and escalate')])
    elif _ran(scope):
        verb = 'would restore' if check_mode else 'restored'
        checks['restore'] = _check('ok', '%s set %s (%d source(s))' % (verb, scope.get('backup_id'), len(_differs(scope))))
    else:
        checks['restore'] = _check('skipped', 'not needed')
    if _ran(integrity) and not check_mode:
        left = _differs(integrity)
        checks['integrity'] = _check('critical' if left or integrity.get('failed') else 'ok',
                                     'live data matches set %s' % integrity.get('backup_id') if not left else
                                     '%d source(s) still differ' % len(left),
                                     [_finding('integrity', 'critical', '%d source(s) still differ from the set after '
                                               'the restore' % len(left), 'Compare by hand; escalate')] if left else [])
    else:
        checks['integrity'] = _check('skipped', 'nothing restored' if not check_mode else 'check mode')
    resumed = steps.get('resumed') or {}
    if _ran(resumed):
        verb = 'would start' if check_mode else 'started'
        checks['resume'] = _check('ok', '%s %d unit(s) and %d container(s) again' % (
            verb, len(resumed.get('units') or []), len(resumed.get('containers') or [])))
    elif _ran(writers):
        checks['resume'] = _check('critical', 'writers left stopped', [_finding(
            'resume', 'critical', 'the writers were left stopped because %s' % (failed_step or 'the restore failed'),
            'Fix the data, then: ansible-playbook cloudos.ops.data_corruption again, or start the units by hand')])
    else:
        checks['resume'] = _check('skipped', 'nothing was stopped')
    health = (steps.get('health') or {}).get('health')
    if isinstance(health, dict):
        bad = [f for f in health.get('findings') or [] if f.get('severity') in ('warning', 'critical')]
        checks['health'] = _check(health.get('status', 'critical'), '%s after the run' % health.get('status'),
                                  [dict(f, check='health') for f in bad])
    else:
        checks['health'] = _check('critical', 'not checked', [_finding('health', 'critical', 'the health check did not run',
                                                                       'cloudos.ops.daily_health on this host')])
    findings = [f for name in STEPS for f in checks[name]['findings']]
    return {'status': worst_status([c['status'] for c in checks.values()]), 'checks': checks, 'findings': findings}
