# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The daily security check of one host, in one module run: parsers, checks and assembly.

Private to this collection (the leading underscore): no compatibility promise.

Sections (each a ``Section`` of ``_health.core``, so the fleet report renders them like the
daily health): ``auth`` (failed logins in the last 24 h, from the journal or auth.log),
``connections`` (established TCP connections by remote address, against an allowlist),
``listeners`` (listening sockets against the expected ones), ``files`` (files changed in the
last 24 h under /etc and /opt/cloudos), ``alerts`` (firing Alertmanager alerts labelled
``team=security``), ``containers`` and ``certificates`` (the daily health probes, reused),
and ``hardening`` (drift from what the hardening role applied).

Parsers are pure functions over text; :class:`SecurityHost` adds the few system reads the
health adapter does not have (directory walks, socket owners).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import re
import socket
import struct

from datetime import datetime, timedelta, timezone

from ansible_collections.cloudos.ops.plugins.module_utils._health import core
from ansible_collections.cloudos.ops.plugins.module_utils._health.core import CRITICAL, WARNING, Section, above
from ansible_collections.cloudos.ops.plugins.module_utils._sections import SectionSpec, Suite, Thresholds

DAY = 86400

DEFAULT_THRESHOLDS = {
    'auth_failures': 20,                 # failed logins in 24 h (all sources) above this -> warning
    'auth_failures_critical': 200,
    'auth_failures_source': 10,          # from one address above this -> warning (brute force)
    'auth_failures_source_critical': 100,
    'connections_remote': 50,            # established connections from one non-allowlisted address
    'connections_remote_critical': 500,
    'changed_files': 50,                 # changed files in 24 h above this -> warning
    'changed_files_critical': 1000,
    'security_alerts_critical': 0,       # firing team=security alerts of severity critical above this -> critical
    'security_alerts_warning': 0,        # other firing team=security alerts above this -> warning
    # used by the reused daily health probes
    'container_restarts': 5,
    'container_restarts_critical': 20,
    'certificate_days': 30,
    'certificate_days_critical': 7,
}
THRESHOLDS = Thresholds(DEFAULT_THRESHOLDS,
                        rising=(('auth_failures', 'auth_failures_critical'),
                                ('auth_failures_source', 'auth_failures_source_critical'),
                                ('connections_remote', 'connections_remote_critical'),
                                ('changed_files', 'changed_files_critical'),
                                ('container_restarts', 'container_restarts_critical')),
                        falling=(('certificate_days', 'certificate_days_critical'),))

DEFAULT_IGNORE = ('/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/etc/adjtime', '/etc/ld.so.cache',
                  '/etc/.pwd.lock', '/etc/machine-id', '*.swp', '*~', '/etc/cloudos-fixtures/*', '/opt/cloudos/data/*',
                  '/opt/cloudos/logs/*', '/opt/cloudos/tmp/*')
WATCHED = ('/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/*',
           '/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/*', '/etc/pam.d/*', '/etc/cloudos/*', '/etc/crontab',
           '/etc/cron.d/*', '/etc/systemd/system/*', '/root/.ssh/authorized_keys')
LISTED_MAX = 100


class ParamError(ValueError):
    """A bad parameter; the message names it and the value."""


# --------------------------------------------------------------------------- failed logins

_SSHD_PATTERNS = (
    ('failed', re.compile(r'^Failed (?P<method>\S+) for (?:invalid user )?(?P<user>.*?) from (?P<addr>\S+) port (?P<port>\d+)')),
    ('invalid', re.compile(r'^Invalid user (?P<user>.*?) from (?P<addr>\S+)(?: port (?P<port>\d+))?')),
    ('maxauth', re.compile(r'^(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(?P<user>.*?) '
                           r'from (?P<addr>\S+) port (?P<port>\d+)')),
    ('preauth', re.compile(r'^(?:Connection closed|Disconnected) by (?:authenticating|invalid) user (?P<user>.*?) '
                           r'(?P<addr>[0-9a-fA-F.:]+) port (?P<port>\d+) \[preauth\]')),
)
_SUDO_FAIL = re.compile(r'^\s*(?P<user>\S+) : (?P<count>\d+) incorrect password attempts?')
SSHD_IDS = ('sshd', 'sshd-session')
SUDO_IDS = ('sudo', 'su')


def classify_message(ident, message):
    """``(kind, user, addr, port, count)`` for one auth log message, or ``None`` when it is no failure."""
    if ident in SSHD_IDS:
        for kind, pattern in _SSHD_PATTERNS:
            match = pattern.match(message)
            if match:
                return kind, match.group('user'), match.group('addr'), match.group('port') or '', 1
        return None
    if ident == 'sudo':
        match = _SUDO_FAIL.match(message)
        if match:
            return 'sudo', match.group('user'), 'local', '', int(match.group('count'))
    if ident == 'su' and message.startswith('FAILED SU'):
        match = re.search(r'\((?:to )?(\S+)\)\s+(\S+)', message)
        return 'su', match.group(2) if match else '?', 'local', '', 1
    return None


def count_failures(events):
    """Failed authentications from ``(ident, message)`` pairs, counted once per attempt.

    Every ``Failed <method>`` line is one failure. ``Invalid user``, ``maximum authentication attempts
    exceeded`` and ``Connection closed by authenticating user ... [preauth]`` (what a key-only server
    logs when a client gives up) count once per connection (address and port) that had no ``Failed``
    line, so one attempt is never counted twice. Returns ``{total, by_source, by_user, by_method}``.
    """
    failed = []
    per_conn = {}
    for ident, message in events:
        parsed = classify_message(ident, message)
        if parsed is None:
            continue
        kind, user, addr, port, count = parsed
        if kind in ('failed', 'sudo', 'su'):
            method = kind if kind != 'failed' else re.match(r'^Failed (\S+)', message).group(1)
            failed.append((user, addr, method, count))
            if kind == 'failed':
                per_conn.setdefault((addr, port), {'failed': 0, 'other': None})['failed'] += 1
        else:
            entry = per_conn.setdefault((addr, port), {'failed': 0, 'other': None})
            if entry['other'] is None or kind == 'invalid':
                entry['other'] = (user, addr, 'invalid-user' if kind == 'invalid' else 'preauth')
    for entry in per_conn.values():
        if entry['failed'] == 0 and entry['other'] is not None:
            user, addr, method = entry['other']
            failed.append((user, addr, method, 1))
    result = {'total': 0, 'by_source': {}, 'by_user': {}, 'by_method': {}}
    for user, addr, method, count in failed:
        result['total'] += count
        for key, value in (('by_source', addr), ('by_user', user), ('by_method', method)):
            result[key][value] = result[key].get(value, 0) + count
    return result


def parse_journal_json(text, since_us=None):
    """``(ident, message)`` pairs from ``journalctl -o json`` output (one JSON object per line)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get('MESSAGE')
        if isinstance(message, list):  # journald sends non-UTF-8 messages as byte arrays
            message = bytes(b & 0xff for b in message if isinstance(b, int)).decode('utf-8', 'replace')
        if not isinstance(message, str):
            continue
        if since_us is not None:
            try:
                if int(entry.get('__REALTIME_TIMESTAMP', '0')) < since_us:
                    continue
            except ValueError:
                pass
        ident = entry.get('SYSLOG_IDENTIFIER') or entry.get('_COMM') or ''
        out.append((ident, message))
    return out


_SYSLOG_RFC3164 = re.compile(r'^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ (?P<ident>[^\s\[:]+)(?:\[\d+\])?: (?P<msg>.*)$')
_SYSLOG_ISO = re.compile(r'^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ '
                         r'(?P<ident>[^\s\[:]+)(?:\[\d+\])?: (?P<msg>.*)$')


def parse_syslog_time(text, now):
    """Aware datetime of a syslog timestamp: RFC 3339 (rsyslog's default on Debian 12) or ``Nov 26 06:52:46``."""
    if text[:1].isdigit():
        value = text.replace('Z', '+00:00')
        if re.search(r'[+-]\d\d\d\d$', value):
            value = value[:-2] + ':' + value[-2:]
        main, dot, rest = value.partition('.')
        if dot:
            digits = re.match(r'\d*', rest).group(0)
            value = main + '.' + digits[:6].ljust(6, '0') + rest[len(digits):]
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo or timezone.utc)
    local = now.astimezone()
    moment = datetime.strptime('%d %s' % (local.year, ' '.join(text.split())), '%Y %b %d %H:%M:%S').replace(tzinfo=local.tzinfo)
    if moment - local > timedelta(days=1):  # December lines read in January
        moment = moment.replace(year=local.year - 1)
    return moment


def parse_auth_log(text, now, window=DAY):
    """``(ident, message)`` pairs of auth.log lines from the last ``window`` seconds."""
    since = now - timedelta(seconds=window)
    out = []
    for line in text.splitlines():
        match = _SYSLOG_ISO.match(line) or _SYSLOG_RFC3164.match(line)
        if not match:
            continue
        try:
            moment = parse_syslog_time(match.group('ts'), now)
        except ValueError:
            continue
        if moment >= since:
            out.append((match.group('ident'), match.group('msg')))
    return out


# --------------------------------------------------------------------------- sockets

TCP_STATES = {'01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2',
              '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING'}


def decode_address(text):
    """``(ip, port)`` from a /proc/net address such as ``0100007F:1F90`` (words in host byte order)."""
    hexaddr, _sep, hexport = text.partition(':')
    if len(hexaddr) not in (8, 32):
        raise ValueError('address %r is neither IPv4 nor IPv6' % text)
    # the kernel prints each 32-bit word of the (network order) address as a native integer
    raw = b''.join(struct.pack('=I', int(hexaddr[i:i + 8], 16)) for i in range(0, len(hexaddr), 8))
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw)
    else:
        ip = socket.inet_ntop(socket.AF_INET6, raw)
        if ip.startswith('::ffff:') and '.' in ip:
            ip = ip[7:]
    return ip, int(hexport, 16)


def parse_proc_net(text, proto):
    """Sockets of one /proc/net/{tcp,tcp6,udp,udp6} file: dicts with proto, local, lport, remote, rport, state, inode."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            local, lport = decode_address(fields[1])
            remote, rport = decode_address(fields[2])
        except ValueError:
            continue
        out.append({'proto': proto, 'local': local, 'lport': lport, 'remote': remote, 'rport': rport,
                    'state': TCP_STATES.get(fields[3].upper(), fields[3]), 'uid': int(fields[7]), 'inode': fields[9]})
    return out


def is_loopback(ip):
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def listening(sockets):
    """Listening TCP sockets and bound UDP sockets without a peer."""
    out = []
    for sock in sockets:
        if sock['proto'].startswith('tcp') and sock['state'] == 'LISTEN':
            out.append(sock)
        elif sock['proto'].startswith('udp') and sock['rport'] == 0 and sock['state'] == 'CLOSE':
            out.append(sock)
    return out


def parse_expected_listener(text):
    """``(proto, addr, port)`` from ``22``, ``tcp/22``, ``udp/53``, ``127.0.0.1:8080``, ``tcp/[::1]:9090``.
    ``proto`` and ``addr`` are ``None`` when not given (any)."""
    value = str(text).strip()
    proto = None
    if '/' in value:
        proto, value = value.split('/', 1)
        if proto not in ('tcp', 'udp'):
            raise ParamError('expected_listeners: %r: protocol must be tcp or udp' % (text,))
    addr = None
    if value.startswith('['):
        addr, _sep, value = value[1:].partition(']')
        value = value.lstrip(':')
    elif value.count(':') == 1:
        addr, value = value.split(':')
    try:
        port = int(value)
    except ValueError:
        raise ParamError('expected_listeners: %r is not [tcp/|udp/][address:]port' % (text,))
    if not 0 < port < 65536:
        raise ParamError('expected_listeners: %r: port out of range' % (text,))
    return proto, addr, port


def listener_expected(sock, expected):
    for proto, addr, port in expected:
        if port != sock['lport']:
            continue
        if proto and not sock['proto'].startswith(proto):
            continue
        if addr and addr != sock['local']:
            continue
        return True
    return False


def in_networks(ip, networks):
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == net.version and addr in net for net in networks)


def parse_networks(values, name):
    out = []
    for value in values or []:
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ParamError('%s: %r is not an IP address or network' % (name, value))
    return out


# --------------------------------------------------------------------------- sshd -T and drift

def parse_sshd_t(text):
    """``sshd -T`` output to a dict (lowercase keys; repeated keys joined with commas, in order)."""
    out = {}
    for line in text.splitlines():
        key, _sep, value = line.strip().partition(' ')
        if not key:
            continue
        key = key.lower()
        value = value.strip()
        if key in out:
            out[key] = out[key] + ',' + value
        else:
            out[key] = value
    return out


_ALIASES = {'prohibit-password': 'without-password'}  # sshd -T prints the old name


def normalize(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (list, tuple)):
        return ','.join(normalize(v) for v in value)
    text = ' '.join(str(value).split()).lower()
    return _ALIASES.get(text, text)


def compare_settings(expected, actual):
    """``[(key, expected, actual)]`` for every key whose value differs (``None`` when missing)."""
    drift = []
    for key in sorted(expected):
        want = normalize(expected[key])
        have = actual.get(key.lower())
        if have is None or normalize(have) != want:
            drift.append((key, want, have))
    return drift


# --------------------------------------------------------------------------- host adapter

class SecurityHost(core.Host):
    """The health adapter plus directory walks and socket owners."""

    def walk(self, root):
        return os.walk(root, followlinks=False)

    def lstat(self, path):
        return os.lstat(path)

    def socket_owners(self, inodes, limit=20000):
        """``{inode: 'comm (pid N)'}`` for the given socket inodes, from /proc/<pid>/fd."""
        wanted = set('socket:[%s]' % i for i in inodes)
        owners = {}
        seen = 0
        try:
            pids = [p for p in os.listdir('/proc') if p.isdigit()]
        except OSError:
            return owners
        for pid in pids:
            fd_dir = '/proc/%s/fd' % pid
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue
            for fd in fds:
                seen += 1
                if seen > limit:
                    return owners
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                if target in wanted:
                    inode = target[8:-1]
                    if inode not in owners:
                        try:
                            comm = self.read_text('/proc/%s/comm' % pid).strip()
                        except (IOError, OSError):
                            comm = '?'
                        owners[inode] = '%s (pid %s)' % (comm, pid)
        return owners


# --------------------------------------------------------------------------- probes

def probe_auth(host, params, thresholds):
    sec = Section('auth')
    now = host.now()
    source = params.get('auth_source') or 'auto'
    events = None
    used = None
    if source in ('auto', 'journal') and host.which('journalctl'):
        since_us = int((now.timestamp() - DAY) * 1000000)
        args = ['journalctl', '--no-pager', '-q', '-o', 'json', '--since', '-24h']
        for ident in SSHD_IDS + SUDO_IDS:
            args += ['-t', ident]
        rc, out, err = host.run(args)
        if isinstance(out, bytes):
            out = out.decode('utf-8', 'replace')
        if rc == 0:
            events = parse_journal_json(out, since_us)
            used = 'journal'
            if not events and source == 'auto' and host.exists(params['auth_log']):
                events = None  # the journal is empty (volatile or not used for auth): read the file
        elif source == 'journal':
            sec.summary = 'journal unreadable'
            sec.add(WARNING, 'journalctl failed (rc %s): %s' % (rc, (err or '').strip()[:300]),
                    'Run the check as root (become: true) or add the user to the systemd-journal group')
            return sec
    if events is None and source in ('auto', 'file'):
        path = params['auth_log']
        if host.exists(path):
            try:
                events = parse_auth_log(host.read_text(path), now)
                used = path
            except (IOError, OSError, UnicodeDecodeError) as exc:
                sec.summary = 'auth log unreadable'
                sec.add(WARNING, 'cannot read %s: %s' % (path, exc), 'Run the check as root (become: true)')
                return sec
    if events is None:
        sec.set_absent('no authentication log: neither journalctl nor %s' % params['auth_log'])
        return sec
    counts = count_failures(events)
    top = sorted(counts['by_source'].items(), key=lambda kv: (-kv[1], kv[0]))
    sec.metrics.update({'failures_24h': counts['total'], 'sources': len(counts['by_source']),
                        'users': len(counts['by_user']), 'log': used})
    sec.details.update({'by_source': dict(top[:LISTED_MAX]),
                        'by_user': dict(sorted(counts['by_user'].items(), key=lambda kv: (-kv[1], kv[0]))[:LISTED_MAX]),
                        'by_method': counts['by_method']})
    sev = above(counts['total'], thresholds['auth_failures'], thresholds['auth_failures_critical'])
    if sev != core.OK:
        sec.add(sev, '%d failed authentications in the last 24 h (threshold %s); top sources: %s'
                % (counts['total'], thresholds['auth_failures'], ', '.join('%s (%d)' % kv for kv in top[:5])),
                'Check that fail2ban is running (fail2ban-client status sshd) and that password login is off '
                '(cloudos.ops.harden); block persistent sources in the firewall',
                metric='failures_24h', value=counts['total'], threshold=thresholds['auth_failures'])
    for addr, count in top:
        sev = above(count, thresholds['auth_failures_source'], thresholds['auth_failures_source_critical'])
        if sev == core.OK:
            break
        sec.add(sev, '%d failed authentications from %s in the last 24 h (brute force?)' % (count, addr),
                'fail2ban-client set sshd banip %s; or add it to the firewall deny set' % addr,
                metric='failures_from:%s' % addr, value=count, threshold=thresholds['auth_failures_source'])
    sec.summary = '%d failed authentication%s in 24 h from %d source%s (%s)' % (
        counts['total'], '' if counts['total'] == 1 else 's', len(top), '' if len(top) == 1 else 's', used)
    return sec


def read_sockets(host, kinds):
    sockets = []
    for proto in kinds:
        path = '/proc/net/%s' % proto
        if host.exists(path):
            sockets.extend(parse_proc_net(host.read_text(path), proto))
    return sockets


def probe_connections(host, params, thresholds):
    sec = Section('connections')
    allow = parse_networks(params.get('connection_allowlist'), 'connection_allowlist')
    sockets = read_sockets(host, ('tcp', 'tcp6'))
    by_remote = {}
    for sock in sockets:
        if sock['state'] != 'ESTABLISHED' or is_loopback(sock['remote']):
            continue
        entry = by_remote.setdefault(sock['remote'], {'count': 0, 'local_ports': set()})
        entry['count'] += 1
        entry['local_ports'].add(sock['lport'])
    rows = sorted(by_remote.items(), key=lambda kv: (-kv[1]['count'], kv[0]))
    unknown = [(ip, e) for ip, e in rows if not in_networks(ip, allow)]
    sec.details['by_remote'] = [{'remote': ip, 'connections': e['count'], 'allowed': in_networks(ip, allow),
                                 'local_ports': sorted(e['local_ports'])[:20]} for ip, e in rows[:LISTED_MAX]]
    total = sum(e['count'] for e in by_remote.values())
    sec.metrics.update({'established': total, 'remotes': len(rows), 'not_allowlisted': len(unknown)})
    for ip, entry in unknown:
        sev = above(entry['count'], thresholds['connections_remote'], thresholds['connections_remote_critical'])
        if sev == core.OK and allow:
            sev = WARNING  # with an allowlist, any other peer is worth a look
            message = '%d established connection%s from %s, which is not in the allowlist (local ports %s)' % (
                entry['count'], '' if entry['count'] == 1 else 's', ip, ', '.join(str(p) for p in sorted(entry['local_ports'])[:10]))
        else:
            message = '%d established connections from %s (threshold %s; local ports %s)' % (
                entry['count'], ip, thresholds['connections_remote'],
                ', '.join(str(p) for p in sorted(entry['local_ports'])[:10]))
        if sev == core.OK:
            continue
        sec.add(sev, message, 'ss -tnp dst %s; whois %s; add it to the allowlist if expected, else block it' % (ip, ip),
                metric='connections_from:%s' % ip, value=entry['count'], threshold=thresholds['connections_remote'])
    sec.summary = '%d established connection%s from %d remote address%s (%d not allowlisted)' % (
        total, '' if total == 1 else 's', len(rows), '' if len(rows) == 1 else 'es', len(unknown))
    return sec


def probe_listeners(host, params, thresholds):
    sec = Section('listeners')
    expected = [parse_expected_listener(e) for e in params.get('expected_listeners') or []]
    socks = listening(read_sockets(host, ('tcp', 'tcp6', 'udp', 'udp6')))
    seen = {}
    for sock in socks:
        key = (sock['proto'].rstrip('6'), sock['local'], sock['lport'])
        seen.setdefault(key, sock)
    unexpected = [s for s in seen.values() if not listener_expected(s, expected)]
    owners = host.socket_owners([s['inode'] for s in seen.values()]) if seen else {}
    rows = []
    for (proto, addr, port), sock in sorted(seen.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        rows.append({'proto': proto, 'address': addr, 'port': port, 'process': owners.get(sock['inode'], ''),
                     'expected': listener_expected(sock, expected)})
    sec.details['listeners'] = rows[:LISTED_MAX * 2]
    exposed = [s for s in unexpected if not is_loopback(s['local'])]
    sec.metrics.update({'listening': len(seen), 'unexpected': len(unexpected), 'unexpected_exposed': len(exposed)})
    if expected:
        for sock in exposed:
            who = owners.get(sock['inode'], 'unknown process')
            sec.add(WARNING, 'unexpected %s listener on %s port %d (%s), reachable from other hosts' % (
                sock['proto'].rstrip('6'), sock['local'], sock['lport'], who),
                'Stop the service or bind it to 127.0.0.1; if it is meant to be there, add %s/%d to expected_listeners'
                % (sock['proto'].rstrip('6'), sock['lport']))
        missing = []
        for proto, addr, port in expected:
            if not any(listener_expected(s, [(proto, addr, port)]) for s in seen.values()):
                missing.append('%s%s%d' % (proto + '/' if proto else '', addr + ':' if addr else '', port))
        sec.metrics['expected_missing'] = len(missing)
        if missing:
            sec.details['expected_not_listening'] = missing
    sec.summary = '%d listening socket%s, %d unexpected (%d reachable from other hosts)' % (
        len(seen), '' if len(seen) == 1 else 's', len(unexpected), len(exposed))
    if not expected:
        sec.summary += '; no expected_listeners given'
    return sec


def ignored(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def changed_files(host, roots, since, ignore, max_files):
    """``(changed [(path, mtime)], scanned, truncated)`` of regular files under ``roots`` modified since ``since``."""
    changed = []
    scanned = 0
    for root in roots:
        if not host.exists(root):
            continue
        for dirpath, dirnames, filenames in host.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not ignored(os.path.join(dirpath, d) + '/*', ignore)
                                 and not ignored(os.path.join(dirpath, d), ignore))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                scanned += 1
                if scanned > max_files:
                    return changed, scanned - 1, True
                if ignored(path, ignore):
                    continue
                try:
                    st = host.lstat(path)
                except OSError:
                    continue
                if st.st_mtime >= since:
                    changed.append((path, st.st_mtime))
    return changed, scanned, False


def probe_files(host, params, thresholds):
    sec = Section('files')
    now = host.now()
    since = now.timestamp() - DAY
    ignore = list(params.get('files_ignore') or [])
    changed, scanned, truncated = changed_files(host, params['files_roots'], since, ignore, params['files_max'])
    changed.sort(key=lambda pm: -pm[1])
    watched = [p for p, _m in changed if ignored(p, params.get('files_watched') or [])]
    sec.metrics.update({'changed_24h': len(changed), 'scanned': scanned, 'watched_changed': len(watched)})
    sec.details['changed'] = [{'path': p, 'mtime': core.rfc3339(datetime.fromtimestamp(m, timezone.utc))}
                              for p, m in changed[:LISTED_MAX]]
    sev = above(len(changed), thresholds['changed_files'], thresholds['changed_files_critical'])
    if sev != core.OK:
        sec.add(sev, '%d files changed in the last 24 h under %s (threshold %s)' % (
            len(changed), ', '.join(params['files_roots']), thresholds['changed_files']),
            'Review the list in the report; match it against change tickets and package upgrades '
            '(grep " upgrade " /var/log/dpkg.log)', metric='changed_24h', value=len(changed), threshold=thresholds['changed_files'])
    if watched:
        sec.add(WARNING, '%d security-relevant file%s changed in the last 24 h: %s%s' % (
            len(watched), '' if len(watched) == 1 else 's', ', '.join(watched[:10]),
            ' (and %d more in the report)' % (len(watched) - 10) if len(watched) > 10 else ''),
            'Confirm each change was planned (who: ausearch -f <file> -ts yesterday, or journalctl; what: compare '
            'with the last backup)', metric='watched_changed', value=len(watched), threshold=0)
        sec.details['watched_changed'] = watched[:LISTED_MAX]
    if truncated:
        sec.add(WARNING, 'stopped after %d files (files_max); later files were not checked' % scanned,
                'Raise files_max or add large directories to files_ignore')
    sec.summary = '%d file%s changed in 24 h (%d security-relevant) of %d scanned' % (
        len(changed), '' if len(changed) == 1 else 's', len(watched), scanned)
    return sec


def probe_alerts(host, params, thresholds):
    from ansible_collections.cloudos.ops.plugins.module_utils._health import alerts as health_alerts
    sec = Section('alerts')
    alerts = health_alerts.read_firing(
        sec, host, params, labels=params.get('alert_labels'), what='firing security alerts',
        unknown='security alerts unknown',
        action='Bring Alertmanager back (systemctl status prometheus-alertmanager), then: amtool alert query team=security')
    if alerts is None:
        return sec
    crit = [a for a in alerts if a['severity'] in ('critical', 'page', 'error')]
    other = [a for a in alerts if a not in crit]
    sec.metrics.update({'firing': len(alerts), 'critical': len(crit), 'other': len(other)})
    sec.details['alerts'] = alerts[:LISTED_MAX]
    if len(crit) > thresholds['security_alerts_critical']:
        for alert in crit[:20]:
            sec.add(CRITICAL, 'security alert firing: %s' % health_alerts.label(alert),
                    'Follow the incident procedure now; evidence first (journalctl, ausearch), then contain',
                    metric='critical', value=len(crit), threshold=thresholds['security_alerts_critical'])
    if len(other) > thresholds['security_alerts_warning']:
        for alert in other[:20]:
            sec.add(WARNING, 'security alert firing (%s): %s' % (alert['severity'], health_alerts.label(alert)),
                    'Investigate today; silence with cloudos.ops.alertmanager_silence only for planned work',
                    metric='other', value=len(other), threshold=thresholds['security_alerts_warning'])
    sec.summary = 'no security alerts firing' if not alerts else '%d security alert%s firing (%d critical)' % (
        len(alerts), '' if len(alerts) == 1 else 's', len(crit))
    return sec


def probe_containers(host, params, thresholds):
    from ansible_collections.cloudos.ops.plugins.module_utils._health import containers
    return containers.probe(host, params, thresholds)


def probe_certificates(host, params, thresholds):
    from ansible_collections.cloudos.ops.plugins.module_utils._health import certificates
    return certificates.probe(host, params, thresholds)


def load_expected(host, params):
    """What the hardening role applied: its state file merged under ``hardening_expected``."""
    expected = {}
    path = params.get('hardening_state')
    source = None
    if path and host.exists(path):
        try:
            data = json.loads(host.read_text(path))
        except (IOError, OSError, ValueError) as exc:
            raise ParamError('hardening_state %s is not readable JSON: %s' % (path, exc))
        if isinstance(data, dict):
            expected.update(data)
            source = path
    for key, value in (params.get('hardening_expected') or {}).items():
        if isinstance(value, dict) and isinstance(expected.get(key), dict):
            merged = dict(expected[key])
            merged.update(value)
            expected[key] = merged
        else:
            expected[key] = value
        source = source + ' + hardening_expected' if source else 'hardening_expected'
    return expected, source


def probe_hardening(host, params, thresholds):
    sec = Section('hardening')
    try:
        expected, source = load_expected(host, params)
    except ParamError as exc:
        sec.summary = 'hardening state unreadable'
        sec.add(WARNING, str(exc), 'Re-run cloudos.ops.harden to rewrite it')
        return sec
    if not source:
        sec.set_absent('hardening not applied: no %s and no hardening_expected' % params.get('hardening_state'))
        return sec
    checked = 0
    drift = []
    sshd = expected.get('sshd') or {}
    if sshd:
        rc, out, err = host.run(['sshd', '-T']) if host.which('sshd') else (127, '', 'sshd not found')
        if isinstance(out, bytes):
            out = out.decode('utf-8', 'replace')
        if rc != 0:
            sec.add(WARNING, 'cannot read the effective sshd settings (sshd -T, rc %s): %s' % (rc, (err or out).strip()[:300]),
                    'sshd -t; fix the configuration error it prints')
        else:
            actual = parse_sshd_t(out)
            for key, want, have in compare_settings(sshd, actual):
                drift.append(('sshd', key, want, have))
            checked += len(sshd)
    sysctl = expected.get('sysctl') or {}
    for key, want in sorted(sysctl.items()):
        path = '/proc/sys/' + key.replace('.', '/')
        try:
            have = host.read_text(path).strip()
        except (IOError, OSError):
            have = None
        checked += 1
        if have is None or normalize(have) != normalize(want):
            drift.append(('sysctl', key, normalize(want), have))
    for path, want in sorted((expected.get('files') or {}).items()):
        checked += 1
        try:
            st = host.lstat(path)
        except OSError:
            drift.append(('file', path, 'present', None))
            continue
        mode = '%04o' % (st.st_mode & 0o7777)
        if want.get('mode') and int(str(want['mode']), 8) != st.st_mode & 0o7777:
            drift.append(('file mode', path, str(want['mode']), mode))
        if want.get('max_mode') and st.st_mode & 0o7777 & ~int(str(want['max_mode']), 8):
            drift.append(('file mode', path, 'at most %s' % want['max_mode'], mode))
    units = expected.get('services') or {}
    if units and host.systemd_running():
        for name, state in host.systemd_client().is_active(sorted(units)).items():
            checked += 1
            if state != units[name]:
                drift.append(('service', name, units[name], state))
    sec.metrics.update({'settings_checked': checked, 'drifted': len(drift)})
    sec.details['source'] = source
    sec.details['drift'] = [{'kind': k, 'name': n, 'expected': w, 'actual': h} for k, n, w, h in drift]
    for kind, name, want, have in drift[:50]:
        sec.add(WARNING, '%s %s is %s, the hardening role set %s' % (kind, name, 'missing' if have is None else repr(have), want),
                'Find who changed it (ausearch -k cloudos-config; journalctl), then re-run cloudos.ops.harden '
                '(--check --diff first)')
    sec.summary = '%d hardened setting%s checked, %d drifted' % (checked, '' if checked == 1 else 's', len(drift))
    return sec


def validate_params(params):
    """Errors argument_spec cannot catch, before anything runs; returns a message or ``None``."""
    from ansible_collections.cloudos.ops.plugins.module_utils._http import validate_url
    error = validate_url(params.get('alertmanager_url'), 'alertmanager_url')
    if error:
        return error
    try:
        parse_networks(params.get('connection_allowlist'), 'connection_allowlist')
        for item in params.get('expected_listeners') or []:
            parse_expected_listener(item)
    except ParamError as exc:
        return str(exc)
    for root in params.get('files_roots') or []:
        if not root.startswith('/'):
            return 'files_roots entries must be absolute paths, got %r' % (root,)
    if params.get('timeout') is not None and not params['timeout'] > 0:
        return 'timeout must be greater than 0, got %r' % params['timeout']
    return None


# The Docker SDK is loaded up front where it may be asked: the containers probe, and the alerts
# probe, which looks for an Alertmanager container when the endpoint refuses (see Suite.preload).
SECURITY = Suite(
    sections=(
        SectionSpec('auth', probe_auth),
        SectionSpec('connections', probe_connections),
        SectionSpec('listeners', probe_listeners),
        SectionSpec('files', probe_files),
        SectionSpec('alerts', probe_alerts, ('docker',), needs=core.docker_reachable),
        SectionSpec('containers', probe_containers, ('docker',), needs=core.docker_reachable),
        SectionSpec('certificates', probe_certificates),  # _der: no library to load (see _health.registry)
        SectionSpec('hardening', probe_hardening),
    ),
    thresholds=THRESHOLDS,
    budget=lambda params: float(params['timeout']) * 2 + 5.0,
    hang=('probe error', 'the {name} check did not finish within {budget:.0f}s',
          'Check {name} by hand; raise timeout if the host is just slow'),
    # the reused health probes read these; this module has no such options
    param_defaults={'required': [], 'component_units': {}},
)
