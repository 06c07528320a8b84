# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``certificates`` section: days to expiry of ``certificate_files`` and ``certificate_endpoints``.

Fewer than ``certificate_days`` (30) days left is a warning; fewer than
``certificate_days_critical`` (7), or expired, is critical. A configured file that does
not exist is absent (critical when ``certificates`` is required); a file that is not a
certificate is critical; an endpoint that cannot be reached is a warning (its outage
belongs to the service's own check, but its certificate could not be verified).
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._certs import (
    CertificateError, endpoint_certificate, expiry_severity, read_certificate_file)
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, not_installed, run_parallel)


def renew_action(source):
    return ('Renew the certificate of %s before it expires (weekly maintenance: '
            'openssl x509 -in <file> -noout -enddate) and reload the services using it' % source)


def evaluate(sec, info, now, thresholds):
    days = info.days_left(now)
    key = 'days_left:%s' % info.source
    sec.metrics[key] = round(days, 1)
    severity = expiry_severity(days, thresholds['certificate_days'], thresholds['certificate_days_critical'])
    if severity == 'critical' and days < 0:
        sec.add(CRITICAL, 'certificate %s (%s) expired %d days ago (%s)' % (info.source, info.subject, round(-days), info.as_dict(now)['not_after']),
                renew_action(info.source), metric=key, value=round(days, 1), threshold=thresholds['certificate_days_critical'])
    elif severity in ('warning', 'critical'):
        sec.add(severity, 'certificate %s (%s) expires in %.0f days (%s; threshold %s days)'
                % (info.source, info.subject, days, info.as_dict(now)['not_after'],
                   thresholds['certificate_days_critical'] if severity == 'critical' else thresholds['certificate_days']),
                renew_action(info.source), metric=key, value=round(days, 1),
                threshold=thresholds['certificate_days_critical'] if severity == 'critical' else thresholds['certificate_days'])
    return days


def probe(host, params, thresholds):
    sec = Section('certificates')
    required = params.get('required') or []
    now = host.now()
    infos = []
    missing = []
    for path in params.get('certificate_files') or []:
        if not host.exists(path):
            missing.append(path)
            continue
        try:
            infos.append(read_certificate_file(path, run_command=host.run, read=host.read_bytes))
        except CertificateError as exc:
            sec.add(CRITICAL, exc.message,
                    'openssl x509 -in %s -noout -text; replace it with a valid PEM certificate' % path)
    endpoints = params.get('certificate_endpoints') or []
    if endpoints:
        timeout = float(params['timeout'])
        raw = run_parallel(dict((ep, (lambda ep=ep: endpoint_certificate(ep, timeout=timeout, run_command=host.run)))
                                for ep in endpoints), timeout + 1.0)
        for ep in endpoints:
            kind, value = raw[ep]
            if kind == 'ok':
                infos.append(value)
            else:
                why = value.message if isinstance(value, CertificateError) else (
                    'no answer within %ss' % timeout if kind == 'timeout' else str(value))
                sec.add(WARNING, 'cannot read the certificate of %s: %s' % (ep, why),
                        'openssl s_client -connect %s </dev/null | openssl x509 -noout -enddate' % ep)
    for path in missing:
        sec.details.setdefault('missing', []).append(path)
    if not infos and not sec.findings:
        why = 'no certificate configured' if not missing else 'certificate file%s not found: %s' % (
            '' if len(missing) == 1 else 's', ', '.join(missing))
        sec.set_absent(why)
        not_installed(sec, 'certificates', required, 'the certificate', why)
        return sec
    if missing and 'certificates' in required:
        sec.add(CRITICAL, 'certificate file%s not found: %s' % ('' if len(missing) == 1 else 's', ', '.join(missing)),
                'Install the certificate, or remove it from certificate_files')
    days = [evaluate(sec, info, now, thresholds) for info in infos]
    sec.details['certificates'] = [i.as_dict(now) for i in infos]
    sec.metrics['certificates'] = len(infos)
    if days:
        soonest = min(days)
        sec.metrics['min_days_left'] = round(soonest, 1)
        sec.summary = '%d certificate%s, soonest expiry %s' % (
            len(infos), '' if len(infos) == 1 else 's',
            'passed %d days ago' % round(-soonest) if soonest < 0 else 'in %d days' % round(soonest))
    else:
        sec.summary = 'no certificate could be read'
    return sec
