# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The weak-account finder (module_utils/_accounts.py) behind cloudos_account_audit."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils import _accounts

SHADOW = """\
root:$y$j9T$rootsalt$roothash:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
guest::19000:0:99999:7:::
locked:!$y$j9T$x$changeme-hash:19000:0:99999:7:::
admin:$6$salt$hash-of-admin:19000:0:99999:7:::
operator:$6$salt$hash-of-a-good-one:19000:0:99999:7:::
"""


def fake_check(word, hashed):
    return hashed.endswith('hash-of-' + word)


def test_empty_and_default_passwords_found_locked_ones_not():
    found = _accounts.weak_accounts(SHADOW, ['changeme', 'admin', 'cloudos'], fake_check)
    assert found == [{'user': 'guest', 'reason': 'empty password'},
                     {'user': 'admin', 'reason': 'known default password'}]


def test_no_candidates_only_empty_passwords():
    assert [a['user'] for a in _accounts.weak_accounts(SHADOW, [], fake_check)] == ['guest']


def test_audit_with_a_hash_check_tries_the_defaults():
    result = _accounts.audit(SHADOW, ['admin'], fake_check)
    assert result == {'accounts': [{'user': 'guest', 'reason': 'empty password'},
                                   {'user': 'admin', 'reason': 'known default password'}],
                      'checked': ['empty', 'default'], 'note': ''}


def test_audit_without_a_hash_check_says_only_empty_passwords_were_checked():
    result = _accounts.audit(SHADOW, ['admin'], None)
    assert result['accounts'] == [{'user': 'guest', 'reason': 'empty password'}]
    assert result['checked'] == ['empty']
    assert result['note'] == 'crypt module unavailable: only empty passwords were checked'


def test_crypt_check_is_none_without_the_crypt_module(monkeypatch):
    monkeypatch.setattr(_accounts, 'crypt', None)
    assert _accounts.crypt_check() is None


def test_crypt_check_compares_through_crypt(monkeypatch):
    class FakeCrypt:
        @staticmethod
        def crypt(word, salt):
            return salt if word == 'right' else 'wrong'
    monkeypatch.setattr(_accounts, 'crypt', FakeCrypt)
    check = _accounts.crypt_check()
    assert check('right', '$6$s$h') is True
    assert check('other', '$6$s$h') is False
