# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers of cloudos_updates_info, on output captured from apt-get and dnf."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _updates as updates

APT = '''NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  libssl3 openssl tzdata
3 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable-updates [all])
Inst linux-image-6.1.0-18-amd64 (6.1.76-1 Debian:12.5/stable [amd64])
Inst libc6 [2.35-0ubuntu3.6] (2.35-0ubuntu3.7 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64]) []
Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
'''

DNF_CHECK = '''
openssl-libs.x86_64                    1:3.0.9-2.fc38                 updates
curl.x86_64                            8.0.1-5.fc38                   updates
vim-minimal.x86_64                     2:9.1.000-1.fc38               updates
Obsoleting Packages
grub2-tools.x86_64                     1:2.06-100.fc38                updates
    grub2-tools.x86_64                 1:2.06-95.fc38                 @updates
'''

DNF_INFO = '''FEDORA-2024-1a2b3c4d5e Important/Sec. openssl-libs-1:3.0.9-2.fc38.x86_64
FEDORA-2024-9f8e7d6c5b Moderate/Sec.  curl-8.0.1-5.fc38.x86_64
FEDORA-2024-0000000000 bugfix         vim-minimal-2:9.1.000-1.fc38.x86_64
'''


def test_apt_security_updates_come_from_security_archives():
    packages = updates.parse_apt_simulation(APT)
    by_name = dict((p['name'], p) for p in packages)
    assert sorted(by_name) == ['libc6', 'libssl3', 'linux-image-6.1.0-18-amd64', 'openssl', 'tzdata']
    assert by_name['libssl3']['security'] and by_name['openssl']['security'] and by_name['libc6']['security']
    assert not by_name['tzdata']['security']
    assert by_name['linux-image-6.1.0-18-amd64']['new'] and by_name['linux-image-6.1.0-18-amd64']['current'] is None
    assert by_name['openssl']['origins'] == ['Debian:12.5/stable', 'Debian-Security:12/stable-security']
    assert by_name['libssl3']['current'] == '3.0.11-1~deb12u1' and by_name['libssl3']['available'] == '3.0.11-1~deb12u2'
    result = updates.summary('apt', packages)
    assert result['count'] == 5 and result['security_count'] == 3
    assert result['security'] == ['libc6', 'libssl3', 'openssl']
    assert [p['security'] for p in result['packages']] == [True, True, True, False, False]


def test_apt_nothing_pending():
    assert updates.summary('apt', updates.parse_apt_simulation('0 upgraded, 0 newly installed\n'))['count'] == 0


def test_dnf_check_update_and_security_advisories():
    packages = updates.parse_dnf_check_update(DNF_CHECK)
    assert [p['name'] for p in packages] == ['openssl-libs', 'curl', 'vim-minimal']
    advisories = updates.parse_dnf_updateinfo(DNF_INFO)
    assert sorted(advisories) == ['curl', 'openssl-libs']
    assert advisories['openssl-libs'] == [{'advisory': 'FEDORA-2024-1a2b3c4d5e', 'severity': 'Important'}]
    result = updates.summary('dnf', updates.merge_dnf(packages, advisories))
    assert result['security'] == ['curl', 'openssl-libs'] and result['count'] == 3


def test_security_origin_rules():
    assert updates.is_security_origin('Debian-Security:12/stable-security')
    assert updates.is_security_origin('Ubuntu:22.04/jammy-security')
    assert not updates.is_security_origin('Debian:12.5/stable-updates')


class Host:
    """Answers ``run`` from canned outputs and ``find`` from the binaries it has."""

    def __init__(self, binaries, answers):
        self.binaries, self.answers, self.calls = binaries, answers, []

    def find(self, name, required=False):
        return '/usr/bin/' + name if name in self.binaries else None

    def run(self, argv):
        self.calls.append(argv)
        return self.answers[argv[1] if argv[1] != '-q' else argv[3]]


def test_pending_auto_prefers_apt_and_simulates_without_a_lock():
    host = Host(['apt-get', 'dnf'], {'-s': (0, APT, '')})
    out = updates.pending('auto', host.run, host.find)
    assert host.calls == [['/usr/bin/apt-get', '-s', '-q', '-o', 'Debug::NoLocking=1', 'dist-upgrade']]
    assert out['changed'] is False and out['updates']['manager'] == 'apt'
    assert out['msg'] == '5 pending update(s), 3 security'


def test_pending_dnf_accepts_rc_100_and_merges_advisories():
    host = Host(['dnf'], {'check-update': (100, DNF_CHECK, ''), 'updateinfo': (0, DNF_INFO, '')})
    out = updates.pending('auto', host.run, host.find)
    assert out['updates']['manager'] == 'dnf' and out['msg'] == '3 pending update(s), 2 security'


@pytest.mark.parametrize('manager, binaries, answers, message', [
    ('auto', [], {}, 'manager=auto: neither apt-get nor dnf found on this host'),
    ('apt', ['apt-get'], {'-s': (100, '', 'E: broken\n')}, r'/usr/bin/apt-get -s .* failed \(rc 100\): E: broken'),
    ('dnf', ['dnf'], {'check-update': (1, 'no cache', '')}, r'dnf check-update failed \(rc 1\): no cache'),
    ('dnf', ['dnf'], {'check-update': (0, '', ''), 'updateinfo': (1, '', 'oops')}, r'dnf updateinfo failed \(rc 1\): oops'),
])
def test_pending_failures_say_which_command(manager, binaries, answers, message):
    host = Host(binaries, answers)
    with pytest.raises(updates.UpdatesError, match=message):
        updates.pending(manager, host.run, host.find)
