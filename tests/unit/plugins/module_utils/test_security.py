# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers and checks of the daily security check (plugins/module_utils/_security.py), without Ansible."""

from __future__ import annotations

import json
import os
import time

from datetime import datetime, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _security as sec
from ansible_collections.cloudos.ops.plugins.module_utils._sections import ThresholdError

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc)

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 100 0 0 10 0
   2: 0A00000A:0016 0700000A:D431 01 00000000:00000000 02:000A7D2E 00000000     0        0 3333 4 0 20 10 -1
   3: 0A00000A:0016 0700000A:D432 01 00000000:00000000 02:000A7D2E 00000000     0        0 3334 4 0 20 10 -1
   4: 0A00000A:2385 070033C6:A000 01 00000000:00000000 02:000A7D2E 00000000     0        0 3335 4 0 20 10 -1
   5: 0100007F:1F90 0100007F:B000 01 00000000:00000000 02:000A7D2E 00000000     0        0 3336 4 0 20 10 -1
"""

PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1
   1: 00000000000000000000000001000000:2391 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1
   2: 0000000000000000FFFF00000A00000A:0016 0000000000000000FFFF00000900000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 6666 1
"""


def test_decode_ipv4_and_port():
    assert sec.decode_address('0100007F:1F90') == ('127.0.0.1', 8080)
    assert sec.decode_address('0A00000A:0016') == ('10.0.0.10', 22)


def test_decode_ipv6_loopback_and_mapped():
    assert sec.decode_address('00000000000000000000000001000000:2391') == ('::1', 9105)
    assert sec.decode_address('0000000000000000FFFF00000A00000A:0016') == ('10.0.0.10', 22)


def test_decode_rejects_garbage():
    with pytest.raises(ValueError):
        sec.decode_address('0100:0016')


def test_parse_proc_net_states():
    socks = sec.parse_proc_net(PROC_NET_TCP, 'tcp')
    assert [s['state'] for s in socks] == ['LISTEN', 'LISTEN', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED']
    assert socks[2]['remote'] == '10.0.0.7' and socks[2]['inode'] == '3333'
    assert len(sec.listening(socks)) == 2


class FakeHost(sec.SecurityHost):
    """Files from a dict; commands from a dict keyed by argv[0]."""

    def __init__(self, files=None, commands=None, now=NOW):
        super().__init__(timeout=5)
        self.files = files or {}
        self.commands = commands or {}
        self._now = now

    def now(self):
        return self._now

    def exists(self, path):
        return path in self.files

    def read_text(self, path):
        if path not in self.files:
            raise IOError('no such file: %s' % path)
        return self.files[path]

    def which(self, name):
        return '/usr/bin/' + name if name in self.commands else None

    def run(self, args, data=None):
        return self.commands[args[0]](args)

    def socket_owners(self, inodes, limit=20000):
        return {'2222': 'sshd (pid 10)'}

    def systemd_running(self):
        return False


def thresholds(**over):
    return sec.SECURITY.thresholds.merge(over)


def test_connections_grouped_by_remote_and_allowlist():
    host = FakeHost(files={'/proc/net/tcp': PROC_NET_TCP, '/proc/net/tcp6': PROC_NET_TCP6})
    result = sec.probe_connections(host, {'connection_allowlist': ['10.0.0.0/24']}, thresholds()).as_dict()
    rows = dict((r['remote'], r) for r in result['details']['by_remote'])
    assert rows['10.0.0.7']['connections'] == 2 and rows['10.0.0.7']['allowed']
    assert rows['10.0.0.9']['allowed']  # the IPv4-mapped IPv6 peer
    assert not rows['198.51.0.7']['allowed']
    assert '127.0.0.1' not in rows  # loopback peers are left out
    assert result['status'] == 'warning'
    assert [f['message'] for f in result['findings']] == [
        '1 established connection from 198.51.0.7, which is not in the allowlist (local ports 9093)']


def test_connections_without_allowlist_only_thresholds():
    host = FakeHost(files={'/proc/net/tcp': PROC_NET_TCP})
    result = sec.probe_connections(host, {'connection_allowlist': []}, thresholds(connections_remote=1)).as_dict()
    assert [f['severity'] for f in result['findings']] == ['warning']
    assert '10.0.0.7' in result['findings'][0]['message']


def test_listeners_against_expected():
    host = FakeHost(files={'/proc/net/tcp': PROC_NET_TCP, '/proc/net/tcp6': PROC_NET_TCP6})
    result = sec.probe_listeners(host, {'expected_listeners': ['tcp/22', '9093']}, thresholds()).as_dict()
    # 127.0.0.1:8080 and [::1]:9105 are loopback: listed, not findings
    assert result['metrics'] == {'listening': 4, 'unexpected': 2, 'unexpected_exposed': 0, 'expected_missing': 1}
    assert result['details']['expected_not_listening'] == ['9093']
    assert result['status'] == 'ok'
    ssh = [r for r in result['details']['listeners'] if r['port'] == 22]
    assert ssh[0]['process'] == 'sshd (pid 10)' and ssh[0]['expected']


def test_unexpected_exposed_listener_is_a_warning():
    host = FakeHost(files={'/proc/net/tcp': PROC_NET_TCP})
    result = sec.probe_listeners(host, {'expected_listeners': ['127.0.0.1:8080']}, thresholds()).as_dict()
    assert result['status'] == 'warning'
    assert 'port 22' in result['findings'][0]['message'] and 'sshd (pid 10)' in result['findings'][0]['message']


@pytest.mark.parametrize('text,expected', [
    ('22', (None, None, 22)), ('tcp/22', ('tcp', None, 22)), ('udp/53', ('udp', None, 53)),
    ('127.0.0.1:8080', (None, '127.0.0.1', 8080)), ('tcp/[::1]:9090', ('tcp', '::1', 9090)),
])
def test_parse_expected_listener(text, expected):
    assert sec.parse_expected_listener(text) == expected


@pytest.mark.parametrize('text', ['sctp/22', 'http', '0', '70000'])
def test_parse_expected_listener_rejects(text):
    with pytest.raises(sec.ParamError, match='expected_listeners'):
        sec.parse_expected_listener(text)


AUTH_MESSAGES = [
    ('sshd', 'Failed password for root from 203.0.113.5 port 40001 ssh2'),
    ('sshd', 'Failed password for root from 203.0.113.5 port 40001 ssh2'),
    ('sshd', 'Invalid user admin from 203.0.113.5 port 40002'),
    ('sshd', 'Failed password for invalid user admin from 203.0.113.5 port 40002 ssh2'),
    ('sshd', 'Invalid user oracle from 198.51.100.4 port 50000'),
    ('sshd', 'Connection closed by invalid user oracle 198.51.100.4 port 50000 [preauth]'),
    ('sshd', 'Connection closed by authenticating user bob 2001:db8::7 port 50001 [preauth]'),
    ('sshd', 'Failed publickey for bob from 192.0.2.1 port 50002 ssh2: ED25519 SHA256:abc'),
    ('sshd', 'Accepted publickey for bob from 192.0.2.1 port 50003 ssh2: ED25519 SHA256:abc'),
    ('sudo', '   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh'),
    ('CRON', 'pam_unix(cron:session): session opened for user root'),
]


def test_count_failures_once_per_attempt():
    counts = sec.count_failures(AUTH_MESSAGES)
    # 3 Failed password + 1 invalid user without Failed + 1 preauth give-up + 1 Failed publickey + 3 sudo
    assert counts['total'] == 9
    assert counts['by_source'] == {'203.0.113.5': 3, '198.51.100.4': 1, '2001:db8::7': 1, '192.0.2.1': 1, 'local': 3}
    assert counts['by_user'] == {'root': 2, 'admin': 1, 'oracle': 1, 'bob': 2, 'alice': 3}
    assert counts['by_method']['password'] == 3 and counts['by_method']['invalid-user'] == 1


def journal_line(ident, message, when):
    return json.dumps({'SYSLOG_IDENTIFIER': ident, 'MESSAGE': message,
                       '__REALTIME_TIMESTAMP': str(int(when.timestamp() * 1000000))})


def test_parse_journal_json_window_and_byte_messages():
    old = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
    text = '\n'.join([
        journal_line('sshd', 'Failed password for root from 203.0.113.5 port 1 ssh2', NOW),
        journal_line('sshd', 'Failed password for root from 203.0.113.6 port 1 ssh2', old),
        json.dumps({'SYSLOG_IDENTIFIER': 'sshd', '__REALTIME_TIMESTAMP': str(int(NOW.timestamp() * 1e6)),
                    'MESSAGE': list(b'Invalid user \xff from 198.51.100.9 port 2')}),
        'not json',
    ])
    events = sec.parse_journal_json(text, since_us=int((NOW.timestamp() - 86400) * 1e6))
    assert [e[0] for e in events] == ['sshd', 'sshd']
    assert events[1][1].startswith('Invalid user \ufffd from 198.51.100.9')


def test_parse_auth_log_both_timestamp_formats():
    text = '\n'.join([
        '2026-11-26T06:52:46.123456+00:00 web1 sshd[811]: Failed password for root from 203.0.113.5 port 4 ssh2',
        '2026-11-24T06:52:46.123456+00:00 web1 sshd[811]: Failed password for root from 203.0.113.6 port 4 ssh2',
        'Nov 26 08:00:01 web1 sshd[812]: Invalid user test from 198.51.100.4 port 5',
        'Nov 26 08:00:02 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=alice',
        'garbage line',
    ])
    events = sec.parse_auth_log(text, NOW)
    assert [m.split(' from ')[-1] if ' from ' in m else m for _i, m in events][:2] == [
        '203.0.113.5 port 4 ssh2', '198.51.100.4 port 5']
    assert len(events) == 3


def test_parse_syslog_time_december_read_in_january():
    now = datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc)
    assert sec.parse_syslog_time('Dec 31 23:59:00', now).year == 2026


def test_auth_probe_prefers_journal_and_falls_back_to_file():
    lines = '\n'.join(journal_line('sshd', 'Failed password for root from 203.0.113.5 port %d ssh2' % i, NOW) for i in range(12))
    host = FakeHost(commands={'journalctl': lambda args: (0, lines, '')})
    result = sec.probe_auth(host, {'auth_source': 'auto', 'auth_log': '/var/log/auth.log'}, thresholds()).as_dict()
    assert result['metrics']['failures_24h'] == 12 and result['metrics']['log'] == 'journal'
    assert [f['severity'] for f in result['findings']] == ['warning']  # 12 from one source > 10
    host = FakeHost(files={'/var/log/auth.log': 'Nov 26 11:00:00 h sshd[1]: Invalid user x from 192.0.2.9 port 1\n'},
                    commands={'journalctl': lambda args: (0, '', '')})
    result = sec.probe_auth(host, {'auth_source': 'auto', 'auth_log': '/var/log/auth.log'}, thresholds()).as_dict()
    assert result['metrics']['log'] == '/var/log/auth.log' and result['metrics']['failures_24h'] == 1
    assert result['status'] == 'ok'


SSHD_T = """\
port 22
permitrootlogin without-password
passwordauthentication no
x11forwarding no
hostkey /etc/ssh/ssh_host_ed25519_key
hostkey /etc/ssh/ssh_host_rsa_key
ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com
"""


def test_parse_sshd_t_and_drift():
    actual = sec.parse_sshd_t(SSHD_T)
    assert actual['hostkey'] == '/etc/ssh/ssh_host_ed25519_key,/etc/ssh/ssh_host_rsa_key'
    drift = sec.compare_settings({'PermitRootLogin': 'prohibit-password', 'PasswordAuthentication': False,
                                  'X11Forwarding': 'yes', 'Ciphers': ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com'],
                                  'MaxAuthTries': 3}, actual)
    assert drift == [('MaxAuthTries', '3', None), ('X11Forwarding', 'yes', 'no')]


def test_hardening_probe_reports_drift_from_state_file():
    state = {'sshd': {'passwordauthentication': 'no', 'x11forwarding': 'no'},
             'sysctl': {'net.ipv4.conf.all.accept_redirects': '0'}}
    host = FakeHost(files={'/state.json': json.dumps(state), '/proc/sys/net/ipv4/conf/all/accept_redirects': '1\n'},
                    commands={'sshd': lambda args: (0, SSHD_T.replace('x11forwarding no', 'x11forwarding yes'), '')})
    result = sec.probe_hardening(host, {'hardening_state': '/state.json', 'hardening_expected': {}}, thresholds()).as_dict()
    assert result['metrics'] == {'settings_checked': 3, 'drifted': 2}
    messages = sorted(f['message'] for f in result['findings'])
    assert messages == ["sshd x11forwarding is 'yes', the hardening role set no",
                        "sysctl net.ipv4.conf.all.accept_redirects is '1', the hardening role set 0"]


def test_hardening_probe_absent_without_state():
    result = sec.probe_hardening(FakeHost(), {'hardening_state': '/nope.json', 'hardening_expected': {}}, thresholds()).as_dict()
    assert result['status'] == 'absent'


def test_changed_files_ignore_and_watched(tmp_path):
    etc = tmp_path / 'etc'
    (etc / 'ssh').mkdir(parents=True)
    (etc / 'skipdir').mkdir()
    for rel in ('ssh/sshd_config', 'motd', 'hostname', 'skipdir/a', 'old.conf'):
        (etc / rel).write_text('x')
    old = time.time() - 3 * 86400
    os.utime(str(etc / 'old.conf'), (old, old))
    root = str(etc)
    params = {'files_roots': [root, str(tmp_path / 'missing')], 'files_max': 1000,
              'files_ignore': [root + '/hostname', root + '/skipdir/*'], 'files_watched': [root + '/ssh/*']}
    host = sec.SecurityHost(timeout=5)
    result = sec.probe_files(host, params, thresholds()).as_dict()
    paths = sorted(c['path'] for c in result['details']['changed'])
    assert paths == [root + '/motd', root + '/ssh/sshd_config']
    assert result['metrics']['watched_changed'] == 1
    assert [f['severity'] for f in result['findings']] == ['warning']
    assert 'sshd_config' in result['findings'][0]['message']


def test_thresholds_validation():
    with pytest.raises(ThresholdError, match="unknown key 'auth'"):
        thresholds(auth=1)
    with pytest.raises(ThresholdError, match='auth_failures_critical=5 is below'):
        thresholds(auth_failures_critical=5)
    with pytest.raises(ThresholdError, match='must be a number'):
        thresholds(auth_failures='many')


def test_validate_params_names_the_bad_value():
    base = {'alertmanager_url': 'http://localhost:9093', 'connection_allowlist': ['10.0.0.0/8'],
            'expected_listeners': ['22'], 'files_roots': ['/etc'], 'timeout': 5}
    assert sec.validate_params(base) is None
    assert "'10.0.0.300'" in sec.validate_params(dict(base, connection_allowlist=['10.0.0.300']))
    assert "'etc'" in sec.validate_params(dict(base, files_roots=['etc']))
