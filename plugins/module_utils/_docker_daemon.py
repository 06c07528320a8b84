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

:func:`configure` is the whole module run over a small adapter (:class:`ModuleSystem`: files,
commands, the engine's storage driver through ``_docker``, the service's ``ExecStart``
through ``_systemd``); unit tests pass a fake one.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import tempfile

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    FileCheckError, MAX_CONFIG_BYTES, has_control, read_checked, write_atomic)
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd, exec_start_from_files

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
    """Invalid input or configuration; the message is meant for the user as is.

    ``partial`` holds what the module returns along with the failure.
    """

    def __init__(self, message, partial=None):
        super().__init__(message)
        self.partial = partial or {}


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
        where = ('line %d column %d: %s' % (exc.lineno, exc.colno, exc.msg)) if hasattr(exc, 'lineno') else str(exc)
        raise DaemonConfigError('%s is not valid JSON (%s); fix it by hand first, it is not overwritten' % (path, where))
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


def check_conflicts(config, flag_keys, source=None):
    """``source``: where the flags were read (the unit files), named in the message."""
    both = sorted(set(config) & set(flag_keys))
    if both:
        return ['%s set both in the file and as a flag of the Docker service%s; dockerd refuses to start '
                'with that (remove it from the file or from the service)'
                % (', '.join(repr(k) for k in both), ' (ExecStart in %s)' % source if source else '')]
    return []


def validate_output_ok(rc, out, err):
    """Interpret ``dockerd --validate`` output."""
    if rc == 0:
        return None
    return (err or out or 'dockerd --validate failed with exit code %d' % rc).strip()


# --------------------------------------------------------------------------- the module run

def validate(system, config, dockerd, service):
    """``(validations used, errors)`` for the merged ``config``: schema, service flags, ``dockerd --validate``."""
    used, errors, help_text = ['json'], [], ''
    if dockerd:
        dummy, out, err = system.run([dockerd, '--help'])
        help_text = out + err
        known = parse_help(help_text)
        if known:
            used.append('schema')
            errors += check_schema(config, known)
    else:
        system.warn('dockerd not found: daemon.json checked as JSON only')
    flags = system.service_flags(service)
    if flags is not None:
        used.append('service-flags')
        errors += check_conflicts(config, flags, getattr(system, 'service_source', None))
    if errors or not (dockerd and '--validate' in help_text):
        return used, errors
    rc, out, err, copy_path = system.validate_copy(dockerd, render(config))
    used.append('dockerd')
    problem = validate_output_ok(rc, out, err)
    if problem:
        errors.append(problem.replace(copy_path, 'the merged configuration'))
    return used, errors


def configure(system, params, check_mode=False):
    """What ``cloudos_docker_daemon_config`` returns; raises :class:`DaemonConfigError`."""
    path = params['path']
    for name in ('path', 'dockerd', 'service'):
        if params.get(name) and has_control(params[name], allow=''):
            raise DaemonConfigError('%s: %r holds a NUL or control character' % (name, params[name]))
    before_text = system.read(path)
    current = parse_existing(before_text, path)
    patch = dict(params['options'])
    wanted_driver = patch.get('storage-driver')
    if wanted_driver and not params['allow_storage_driver_change']:
        running = system.storage_driver()
        if running and running != wanted_driver:
            system.warn('storage-driver %s left out: the running daemon uses %s and would no longer see its images '
                        'and containers (set allow_storage_driver_change to switch)' % (wanted_driver, running))
            del patch['storage-driver']
    merged = merge_patch(current, patch)
    result = dict(changed=False, config=merged, validated_with=['json'])
    if merged == current and before_text is not None:
        return result
    if params['validate']:
        if params['dockerd'] and not system.executable(params['dockerd']):
            raise DaemonConfigError('dockerd: %s is not an executable' % params['dockerd'])
        dockerd = params['dockerd'] or system.which('dockerd', ['/usr/sbin', '/usr/bin'])
        used, errors = validate(system, merged, dockerd, params['service'])
        result['validated_with'] = used
        if errors:
            raise DaemonConfigError('options: the merged %s would be invalid, nothing written: %s' % (path, '; '.join(errors)),
                                    partial=dict(config=merged, validated_with=used))
    after_text = render(merged)
    result.update(changed=True, diff=dict(before_header=path, after_header=path, before=before_text or '', after=after_text))
    if check_mode:
        return result
    if params['backup'] and before_text is not None:
        result['backup_file'] = system.backup(path)
    system.write(path, after_text)
    return result


class ModuleSystem:
    """The host as :func:`configure` sees it, through an ``AnsibleModule``."""

    def __init__(self, module, unit_root='/'):
        self.module = module
        self.unit_root = unit_root
        self.service_source = None

    def read(self, path):
        """The file's text (``None`` when missing); a link is read through, anything but a file is refused."""
        try:
            return read_checked(path, kinds=('file', 'link'), max_bytes=MAX_CONFIG_BYTES, name='path')
        except FileCheckError as exc:
            raise DaemonConfigError('%s; nothing written' % exc)

    def run(self, argv):
        return self.module.run_command(argv)

    def warn(self, message):
        self.module.warn(message)

    def which(self, name, opt_dirs=()):
        return self.module.get_bin_path(name, opt_dirs=list(opt_dirs))

    def executable(self, path):
        try:
            return os.path.isfile(path) and os.access(path, os.X_OK)
        except ValueError:  # a NUL in the path
            return False

    def storage_driver(self):
        return _docker.storage_driver(self.module.params, run=self.run, which=self.which)

    def service_flags(self, service):
        """Config keys on the service's command line: from systemd, else (systemd not running) its unit files."""
        if not service:
            return None
        text = Systemd(self.run, which=self.which).exec_start(service) if self.unit_root == '/' else None
        if text:
            self.service_source = None
            return flags_in_execstart(text)
        command, files = exec_start_from_files(service, root=self.unit_root)
        if not command:
            return None
        self.service_source = ', '.join(files)
        return flags_in_execstart(command)

    def validate_copy(self, dockerd, text):
        """``dockerd --validate`` on a temporary copy: ``(rc, out, err, copy path)``."""
        fd, tmp = tempfile.mkstemp(prefix='daemon-', suffix='.json', dir=self.module.tmpdir)
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(text)
            return self.run([dockerd, '--validate', '--config-file', tmp]) + (tmp,)
        finally:
            os.unlink(tmp)

    def backup(self, path):
        return self.module.backup_local(path)

    def write(self, path, text):
        """Replace the file atomically; a symbolic link stays, its target is replaced."""
        if os.path.islink(path):
            path = os.path.realpath(path)
        directory = os.path.dirname(path) or '.'
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        write_atomic(path, text, mode=0o644, move=self.module.atomic_move)
