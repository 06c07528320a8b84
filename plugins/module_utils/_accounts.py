# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts of a shadow file whose password is empty or one of a list of known defaults.

Hashes are compared on the host with crypt(3) through Python's ``crypt`` module, so no hash
leaves it. That module is gone from Python 3.13 (deprecated since 3.11): where it is missing,
only empty passwords can be checked, and the result says so in its ``note``.

Private to this collection (the leading underscore): no compatibility promise.
"""

from __future__ import annotations

import warnings

try:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        import crypt  # deprecated in 3.11, removed in 3.13; Debian 12 has 3.11
except ImportError:  # pragma: no cover - depends on the Python
    crypt = None

NO_CRYPT_NOTE = 'crypt module unavailable: only empty passwords were checked'


def weak_accounts(shadow_text, candidates, check):
    """``[{user, reason}]`` for every account with an empty password or one of ``candidates``.

    ``check(word, hashed)`` tells whether ``word`` hashes to ``hashed``. Locked accounts (hash
    starting with ``!`` or ``*``) and entries that are not crypt hashes are not weak.
    """
    out = []
    for line in shadow_text.splitlines():
        fields = line.split(':')
        if len(fields) < 2 or not fields[0]:
            continue
        user, hashed = fields[0], fields[1]
        if hashed == '':
            out.append({'user': user, 'reason': 'empty password'})
            continue
        if hashed[:1] in ('!', '*') or not hashed.startswith('$'):
            continue
        for word in candidates:
            if check(word, hashed):
                out.append({'user': user, 'reason': 'known default password'})
                break
    return out


def crypt_check():
    """``check(word, hashed)`` through crypt(3), or None when this Python has no crypt module."""
    if crypt is None:
        return None
    return lambda word, hashed: crypt.crypt(word, hashed) == hashed


def audit(shadow_text, candidates, check):
    """The audit of one shadow file: ``{accounts, checked, note}``.

    With ``check`` None (no way to hash here) only empty passwords are looked for, ``checked``
    says so and ``note`` tells why, so that the caller can report what was not checked.
    """
    if check is None:
        return {'accounts': weak_accounts(shadow_text, [], lambda word, hashed: False),
                'checked': ['empty'], 'note': NO_CRYPT_NOTE}
    return {'accounts': weak_accounts(shadow_text, candidates, check),
            'checked': ['empty', 'default'], 'note': ''}
