# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pending package updates and which of them are security updates (apt and dnf).

Private to this collection: no compatibility promise. Pure parsers:

* :func:`parse_apt_simulation` reads ``apt-get -s dist-upgrade`` (``Inst`` lines carry the
  candidate's origins, e.g. ``Debian-Security:12/stable-security``), the same source APT
  itself uses, without needing python3-apt; an update is a security update when one of the
  archives it comes from is a security archive (``*-security``, or an origin/label
  ``*Security*``);
* :func:`parse_dnf_check_update` reads ``dnf check-update`` and :func:`parse_dnf_updateinfo`
  ``dnf updateinfo list --security --available``.
"""

from __future__ import annotations

import re

_INST = re.compile(r'^Inst (?P<name>\S+)(?: \[(?P<current>[^\]]+)\])? \((?P<available>\S+) (?P<origins>.*?)(?: \[(?P<arch>[^\]]+)\])?\)(?: \[.*\])?\s*$')
_DNF_PKG = re.compile(r'^(?P<name>\S+?)\.(?P<arch>[A-Za-z0-9_]+)\s+(?P<version>\S+)\s+(?P<repo>\S+)\s*$')
_DNF_ADVISORY = re.compile(r'^(?P<advisory>\S+)\s+(?P<severity>\S+)\s+(?P<nevra>\S+)(?:\s+\S+)*\s*$')


def is_security_origin(origin):
    """``Debian-Security:12/stable-security`` or ``Ubuntu:22.04/jammy-security`` -> True."""
    text = origin.strip().lower()
    archive = text.rsplit('/', 1)[-1]
    label = text.split(':', 1)[0]
    return archive.endswith('-security') or 'security' in label


def parse_apt_simulation(text):
    """``apt-get -s dist-upgrade`` output -> list of ``{name, current, available, origins, security, new}``."""
    packages = []
    for line in (text or '').splitlines():
        match = _INST.match(line.strip())
        if not match:
            continue
        origins = [o.strip() for o in match.group('origins').split(',') if o.strip()]
        packages.append({
            'name': match.group('name'),
            'current': match.group('current'),
            'available': match.group('available'),
            'arch': match.group('arch'),
            'origins': origins,
            'security': any(is_security_origin(o) for o in origins),
            'new': match.group('current') is None,
        })
    return packages


def parse_dnf_check_update(text):
    """``dnf check-update`` output -> ``{name, arch, available, repo}`` (obsoletes section ignored)."""
    packages = []
    for line in (text or '').splitlines():
        if line.startswith('Obsoleting'):
            break
        match = _DNF_PKG.match(line.strip())
        if match and not line.startswith(' '):
            packages.append({'name': match.group('name'), 'arch': match.group('arch'),
                             'available': match.group('version'), 'repo': match.group('repo')})
    return packages


def _nevra_name(nevra):
    """``openssl-libs-1:3.0.9-2.fc38.x86_64`` -> ``openssl-libs``."""
    parts = nevra.rsplit('.', 1)[0].rsplit('-', 2)
    return parts[0] if len(parts) == 3 else nevra


def parse_dnf_updateinfo(text):
    """``dnf updateinfo list --security`` -> ``{name: [{advisory, severity}]}``."""
    found = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.lower().startswith(('last metadata', 'updating', 'repo')):
            continue
        match = _DNF_ADVISORY.match(line)
        if not match or '/sec' not in match.group('severity').lower() and 'security' not in match.group('severity').lower():
            continue
        found.setdefault(_nevra_name(match.group('nevra')), []).append(
            {'advisory': match.group('advisory'), 'severity': match.group('severity').split('/')[0]})
    return found


def merge_dnf(packages, advisories):
    out = []
    for item in packages:
        entry = dict(item)
        entry['advisories'] = advisories.get(item['name'], [])
        entry['security'] = bool(entry['advisories'])
        out.append(entry)
    return out


def summary(manager, packages):
    security = sorted(set(p['name'] for p in packages if p['security']))
    return {
        'manager': manager,
        'count': len(packages),
        'security_count': len(security),
        'security': security,
        'packages': sorted(packages, key=lambda p: (not p['security'], p['name'])),
    }


class UpdatesError(Exception):
    """A package manager that cannot be found or fails; the message says which and why."""


APT_ARGS = ['-s', '-q', '-o', 'Debug::NoLocking=1', 'dist-upgrade']


def pick_manager(manager, find):
    """``apt`` or ``dnf`` for ``manager`` (``auto``: apt where ``find('apt-get')`` answers, else dnf)."""
    if manager != 'auto':
        return manager
    if find('apt-get'):
        return 'apt'
    if find('dnf'):
        return 'dnf'
    raise UpdatesError('manager=auto: neither apt-get nor dnf found on this host')


def apt(apt_get, run):
    """Pending apt updates, from a simulated ``dist-upgrade`` (changes nothing, takes no lock)."""
    argv = [apt_get] + APT_ARGS
    rc, out, err = run(argv)
    if rc != 0:
        raise UpdatesError('%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
    return summary('apt', parse_apt_simulation(out))


def dnf(binary, run):
    """Pending dnf updates from the cache, with their security advisories."""
    rc, out, err = run([binary, '-q', '-C', 'check-update'])
    if rc not in (0, 100):
        raise UpdatesError('dnf check-update failed (rc %d): %s' % (rc, (err or out).strip()))
    packages = parse_dnf_check_update(out)
    rc, info, err = run([binary, '-q', '-C', 'updateinfo', 'list', '--security', '--available'])
    if rc != 0:
        raise UpdatesError('dnf updateinfo failed (rc %d): %s' % (rc, (err or info).strip()))
    return summary('dnf', merge_dnf(packages, parse_dnf_updateinfo(info)))


def pending(manager, run, find):
    """The module's answer. ``run(argv) -> (rc, out, err)``; ``find(name, required=False)`` -> path.

    ``find`` is called with ``required=True`` for the manager's own binary, so the module's
    ``get_bin_path`` reports a missing one in its usual words.
    """
    manager = pick_manager(manager, find)
    if manager == 'apt':
        result = apt(find('apt-get', required=True), run)
    else:
        result = dnf(find('dnf', required=True), run)
    return {'changed': False, 'updates': result,
            'msg': '%d pending update(s), %d security' % (result['count'], result['security_count'])}
