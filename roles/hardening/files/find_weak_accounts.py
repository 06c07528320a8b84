# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print (JSON) the accounts of /etc/shadow whose password is empty or one of a list of defaults.

The candidate passwords come from the CLOUDOS_DEFAULT_PASSWORDS environment variable (a JSON
list). Locked accounts (hash starting with ! or *) are not weak. Read-only.
"""

import json
import os
import sys

try:
    import crypt  # deprecated in 3.11, removed in 3.13; Debian 12 has 3.11
except ImportError:  # pragma: no cover
    crypt = None


def weak_accounts(shadow_text, candidates, check):
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


def main():
    candidates = json.loads(os.environ.get('CLOUDOS_DEFAULT_PASSWORDS') or '[]')
    with open('/etc/shadow') as handle:
        text = handle.read()
    if crypt is None:
        accounts = weak_accounts(text, [], lambda word, hashed: False)
        note = 'crypt module unavailable: only empty passwords were checked'
    else:
        accounts = weak_accounts(text, candidates, lambda word, hashed: crypt.crypt(word, hashed) == hashed)
        note = ''
    json.dump({'accounts': accounts, 'note': note}, sys.stdout)


if __name__ == '__main__':
    main()
