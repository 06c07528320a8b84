"""Shared helpers for integration tests: run the collection's real modules through Ansible.

Modules are executed exactly as a user would run them (``ansible localhost -m
cloudos.ops.<module>``, with the json callback), not imported, so that argument
parsing, check mode, diff and no_log behave as in production.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.collections'),
        'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
        'ANSIBLE_STDOUT_CALLBACK': 'json',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.update(extra or {})
    return env


class ModuleResult(dict):
    """The module's result dict, plus ``rc`` and ``stderr`` of the ansible process."""

    rc = 0
    stderr = ''

    @property
    def failed(self):
        return bool(self.get('failed'))


def run_module(name, args, check=False, diff=False, env=None, timeout=300):
    """Run ``cloudos.ops.<name>`` (or a full FQCN) on localhost and return its result."""
    fqcn = name if '.' in name else 'cloudos.ops.%s' % name
    cmd = [os.path.join(BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable,
           '-m', fqcn, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env),
                          cwd=ROOT, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout)
        host = data['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError('ansible produced no module result (%s)\nstdout:\n%s\nstderr:\n%s'
                             % (exc, proc.stdout[-4000:], proc.stderr[-4000:]))
    result = ModuleResult(host)
    result.rc = proc.returncode
    result.stderr = proc.stderr
    return result


def run_playbook(playbook, inventory='localhost,', extra_vars=None, check=False, diff=False,
                 env=None, timeout=1200, args=()):
    """Run a playbook; return the CompletedProcess (stdout is the json callback's)."""
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, playbook]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env),
                          cwd=ROOT, timeout=timeout, check=False)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def require_binary(path):
    """Fail (not skip) with a clear message when a test dependency is not installed."""
    found = shutil.which(path) or (os.path.exists(path) and path)
    if not found:
        pytest.fail('%s is not installed: run `make setup-system` (installs the Debian test '
                    'dependencies) and try again' % path)
    return found
