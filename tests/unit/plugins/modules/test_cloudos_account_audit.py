# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of cloudos_account_audit over a shadow file of our own (option ``shadow_file``)."""

from __future__ import annotations

import json

import pytest

from tests.unit.compat import patch_module_args

from ansible_collections.cloudos.ops.plugins.module_utils import _accounts
from ansible_collections.cloudos.ops.plugins.modules import cloudos_account_audit

SHADOW = ('guest::19000:0:99999:7:::\n'
          'nobody:*:19000:0:99999:7:::\n'
          'admin:$6$salt$hash-of-admin:19000:0:99999:7:::\n'
          'ops:!$6$salt$hash-of-admin:19000:0:99999:7:::\n')


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cloudos_account_audit.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def shadow(tmp_path):
    path = tmp_path / 'shadow'
    path.write_text(SHADOW)
    return str(path)


class FakeCrypt:
    @staticmethod
    def crypt(word, salt):
        return salt if salt.endswith('hash-of-' + word) else '$x$nomatch'


def test_default_passwords_found_read_only_also_in_check_mode(shadow, capsys, monkeypatch):
    monkeypatch.setattr(_accounts, 'crypt', FakeCrypt)
    before = open(shadow).read()
    for check_mode in (False, True):
        result = run({'shadow_file': shadow, 'default_passwords': ['changeme', 'admin'],
                      '_ansible_check_mode': check_mode}, capsys)
        assert result['changed'] is False
        assert result['accounts'] == [{'user': 'guest', 'reason': 'empty password'},
                                      {'user': 'admin', 'reason': 'known default password'}]
        assert result['checked'] == ['empty', 'default'] and result['note'] == ''
    assert open(shadow).read() == before


def test_without_crypt_the_note_says_what_was_not_checked(shadow, capsys, monkeypatch):
    monkeypatch.setattr(_accounts, 'crypt', None)
    result = run({'shadow_file': shadow, 'default_passwords': ['admin']}, capsys)
    assert result['changed'] is False
    assert result['accounts'] == [{'user': 'guest', 'reason': 'empty password'}]
    assert result['checked'] == ['empty']
    assert result['note'] == 'crypt module unavailable: only empty passwords were checked'


def test_the_passwords_never_appear_in_the_result(shadow, capsys, monkeypatch):
    monkeypatch.setattr(_accounts, 'crypt', FakeCrypt)
    result = run({'shadow_file': shadow, 'default_passwords': ['S3cret-default']}, capsys)
    # ansible-core before 2.19 echoes every module's arguments under `invocation` (the role's task
    # is no_log for that reason); what the module itself returns never holds them.
    result.pop('invocation', None)
    assert 'S3cret-default' not in json.dumps(result)


def test_an_account_named_like_a_default_password_keeps_its_name(tmp_path, capsys, monkeypatch):
    # The option is not masked by no_log (the role's task is): masking would also rewrite an
    # account called like one of the passwords, and the role would then lock the wrong name.
    monkeypatch.setattr(_accounts, 'crypt', FakeCrypt)
    path = tmp_path / 'shadow'
    path.write_text('admin:$6$salt$hash-of-admin:19000:0:99999:7:::\n')
    result = run({'shadow_file': str(path), 'default_passwords': ['admin']}, capsys)
    assert result['accounts'] == [{'user': 'admin', 'reason': 'known default password'}]


def test_an_unreadable_shadow_file_fails_naming_it(tmp_path, capsys):
    missing = str(tmp_path / 'no-shadow')
    result = run({'shadow_file': missing}, capsys)
    assert result['failed'] is True
    assert missing in result['msg']
