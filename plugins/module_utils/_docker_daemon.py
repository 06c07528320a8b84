# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge and validate Docker's ``daemon.json`` (logic behind ``cloudos_docker_daemon_config``).

Private to this collection (the leading underscore): no compatibility promise.

The merge follows JSON Merge Patch (RFC 7386): objects merge recursively, ``null``
removes a key, anything else replaces. Validation has three layers: the result must
be a JSON object; every key must be one the installed ``dockerd`` knows, with a value of
the type its command-line flag takes (read from the real ``dockerd --help``); and,
where the installed Docker has it (23.0 and later), ``dockerd --validate``.
A key set both in the file and as a flag of the running service is refused too:
dockerd will not start with such a pair.
"""

from __future__ import annotations

import copy
import json
import re
import shlex

# Flags whose key in daemon.json is a different (plural) word.
FLAG_TO_KEY = {
    'add-runtime': 'runtimes',
    'authorization-plugin': 'authorization-plugins',
    'cdi-spec-dir': 'cdi-spec-dirs',
    'cluster-store-opt': 'cluster-store-opts',
    'default-address-pool': 'default-address-pools',
    'default-network-opt': 'default-network-opts',
    'default-ulimit': 'default-ulimits',
    'dns-opt': 'dns-opts',
    'exec-opt': 'exec-opts',
    'host': 'hosts',
    'insecure-registry': 'insecure-registries',
    'label': 'labels',
    'log-opt': 'log-opts',
    'node-generic-resource': 'node-generic-resources',
    'registry-mirror': 'registry-mirrors',
    'storage-opt': 'storage-opts',
}
SHORT_FLAGS = {'-H': 'host', '-D': 'debug', '-G': 'group', '-l': 'log-level', '-s': 'storage-driver',
               '-b': 'bridge', '-p': 'pidfile', '-g': 'graph'}
# Keys only the file can set.
FILE_ONLY_KEYS = ('builder', 'features', 'proxies')
# Flags that are not configuration.
NOT_CONFIG = ('help', 'version', 'config-file', 'validate')

_FLAG_LINE = re.compile(r'^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)(?: ([a-z][\w-]*))?(?:\s{2,}|$)')


class DaemonConfigError(Exception):
    """Invalid input or configuration; the message is meant for the user as is."""


def merge_patch(target, patch):
    """RFC 7386: return ``target`` with ``patch`` applied (inputs are not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_existing(text, path):
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DaemonConfigError('%s is not valid JSON (%s); fix it by hand first, it is not overwritten' % (path, exc))
    if not isinstance(data, dict):
        raise DaemonConfigError('%s does not hold a JSON object' % path)
    return data


def render(config):
    return json.dumps(config, indent=2) + '\n'


def parse_help(text):
    """``dockerd --help`` -> {config key: flag type} (type ``bool`` for flags without a value)."""
    keys = {}
    for line in text.splitlines():
        match = _FLAG_LINE.match(line)
        if not match:
            continue
        flag, kind = match.group(1), match.group(2) or 'bool'
        if flag in NOT_CONFIG:
            continue
        keys[FLAG_TO_KEY.get(flag, flag)] = kind
    return keys


def _type_error(key, value, kind):
    if kind == 'string' and not isinstance(value, str):
        return 'a string'
    if kind == 'int' and (isinstance(value, bool) or not isinstance(value, int)):
        return 'an integer'
    if kind == 'bool' and not isinstance(value, bool):
        return 'true or false'
    if kind == 'list' and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return 'a list of strings'
    if kind == 'map' and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        return 'an object whose values are strings (write "3", not 3)'
    if kind == 'ulimit':
        return _ulimit_error(value)
    return None


def _ulimit_error(value):
    if not isinstance(value, dict):
        return 'an object of {"Name", "Hard", "Soft"} entries'
    for name, limit in value.items():
        if not isinstance(limit, dict):
            return 'an object of {"Name", "Hard", "Soft"} entries (%s is not)' % name
        fields = dict((k.lower(), v) for k, v in limit.items())
        for field in ('hard', 'soft'):
            if isinstance(fields.get(field), bool) or not isinstance(fields.get(field), int):
                return 'ulimits with integer Hard and Soft (%s.%s is %r)' % (name, field, fields.get(field))
        if fields['soft'] > fields['hard']:
            return 'ulimits with Soft <= Hard (%s has Soft %d > Hard %d)' % (name, fields['soft'], fields['hard'])
        if 'name' in fields and fields['name'] != name:
            return 'ulimits whose Name matches their key (%s has Name %r)' % (name, fields['name'])
    return None


def check_schema(config, known):
    """Errors for keys the installed dockerd does not know or values of the wrong type."""
    errors = []
    for key in config:
        if key in FILE_ONLY_KEYS:
            continue
        if key not in known:
            errors.append('%r is not a dockerd configuration key (the installed dockerd has no --%s flag)' % (key, key))
            continue
        problem = _type_error(key, config[key], known[key])
        if problem:
            errors.append('%r must be %s, got %s' % (key, problem, json.dumps(config[key])))
    return errors


def flags_in_execstart(text):
    """Config keys set on the service's command line (``systemctl show -p ExecStart --value``)."""
    match = re.search(r'argv\[\]=([^;]*)', text or '')
    command = match.group(1) if match else (text or '')
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    keys = set()
    for word in words[1:]:
        if word.startswith('--'):
            flag = word[2:].split('=', 1)[0]
        elif word in SHORT_FLAGS or word[:2] in SHORT_FLAGS:
            flag = SHORT_FLAGS[word[:2]]
        else:
            continue
        if flag and flag not in NOT_CONFIG:
            keys.add(FLAG_TO_KEY.get(flag, flag))
    return keys


def check_conflicts(config, flag_keys):
    both = sorted(set(config) & set(flag_keys))
    if both:
        return ['%s set both in the file and as a flag of the Docker service; dockerd refuses to start '
                'with that (remove it from the file or from the service)' % ', '.join(repr(k) for k in both)]
    return []


def validate_output_ok(rc, out, err):
    """Interpret ``dockerd --validate`` output."""
    if rc == 0:
        return None
    return (err or out or 'dockerd --validate failed with exit code %d' % rc).strip()
