"""Hand-built ``cloudos_health`` results (DESIGN.md section 3) for the report tests.

They follow the module's return contract: ``health`` = {host, status, checked_at,
duration_ms, checks: {name: {status, summary, metrics, findings}}, findings, thresholds}.
"""

from __future__ import annotations

import copy

THRESHOLDS = {'cpu': 80.0, 'memory': 85.0, 'disk': 80.0, 'alerts_warning': 2, 'alerts_critical': 0,
              'container_restarts': 5, 'ai_error_rate': 5.0, 'certificate_days': 30}

HOSTILE = '<script>alert("x")</script> & | `rm -rf` *bold* \x1b[31m'

ALERT_FINDING = {'check': 'alerts', 'severity': 'critical',
                 'message': '1 critical alert firing: NodeDown (node cloudos-w3 is down)',
                 'action': 'Investigate every critical alert now: amtool alert query severity=critical',
                 'metric': 'alerts_critical', 'value': 1, 'threshold': 0}
DISK_FINDING = {'check': 'system', 'severity': 'warning', 'message': 'Disk /opt is 86.0 % full',
                'action': 'Clean up (guide: disk > 80 %): journalctl --vacuum-time=7d',
                'metric': 'disk', 'value': 86.0, 'threshold': 80.0}


def _check(status, summary, findings=(), metrics=None):
    return {'status': status, 'summary': summary, 'metrics': metrics or {}, 'findings': list(findings)}


def health(host, status, checks, findings, thresholds=None):
    return {'changed': False, 'health': {
        'host': host, 'status': status, 'checked_at': '2025-11-26T06:50:12Z', 'duration_ms': 840,
        'checks': checks, 'findings': findings,
        'thresholds': copy.deepcopy(thresholds if thresholds is not None else THRESHOLDS)}}


def fleet():
    """Registered results of a three-host fleet plus one unreachable host."""
    ok_checks = {
        'system': _check('ok', 'load 0.4, / 41 %', metrics={'load1': 0.4, 'disk': {'/': 41.0}}),
        'services': _check('ok', '3 cloudos-* units active'),
        'alerts': _check('ok', 'no alert firing'),
        'kubernetes': _check('absent', 'no kubeconfig'),
        'ai_engine': _check('ok', '2 models loaded, error rate 0.4 %'),
    }
    web1 = health('web1', 'ok', ok_checks, [])
    crit_checks = copy.deepcopy(ok_checks)
    crit_checks['alerts'] = _check('critical', '1 critical alert firing', [ALERT_FINDING])
    crit_checks['system'] = _check('warning', '/opt 86 % full', [DISK_FINDING])
    ai1 = health('ai1', 'critical', crit_checks, [ALERT_FINDING, DISK_FINDING],
                 thresholds=dict(THRESHOLDS, disk=70.0))
    warn_checks = copy.deepcopy(ok_checks)
    hostile = {'check': 'services', 'severity': 'warning', 'message': HOSTILE, 'action': HOSTILE}
    warn_checks['services'] = _check('warning', HOSTILE, [hostile])
    ctl1 = health('ctl1', 'warning', warn_checks, [hostile])
    return {
        'web1': web1,
        'ai1': ai1,
        'ctl1': ctl1,
        'gone1': {'unreachable': True, 'changed': False,
                  'msg': 'Failed to connect to the host via ssh: ssh: connect to host gone1 port 22: No route to host'},
    }
