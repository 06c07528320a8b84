# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The script the hardening role runs on hosts to find accounts with empty or default passwords."""

from __future__ import annotations

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, '..', '..', '..', 'roles', 'hardening', 'files', 'find_weak_accounts.py')


def load():
    spec = importlib.util.spec_from_file_location('find_weak_accounts', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    module = load()
    found = module.weak_accounts(SHADOW, ['changeme', 'admin', 'cloudos'], fake_check)
    assert found == [{'user': 'guest', 'reason': 'empty password'},
                     {'user': 'admin', 'reason': 'known default password'}]


def test_no_candidates_only_empty_passwords():
    module = load()
    assert [a['user'] for a in module.weak_accounts(SHADOW, [], fake_check)] == ['guest']
