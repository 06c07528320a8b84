# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client per external system: only ``_docker.py`` imports the ``docker`` SDK, names the
Docker socket as a place to connect to or asks the Engine API itself (``_http.request(...,
unix_socket=...)``, an Engine API path such as ``/_ping`` or ``/containers/json``), only
``_systemd.py`` runs ``systemctl``.

The scan reads the code (imports, argv lists, command calls), not prose: docstrings, the
DOCUMENTATION/EXAMPLES/RETURN blocks and advice texts in findings (``'systemctl status
docker'``) are not calls. Each rule is also tried on planted code, so a scan that finds nothing
proves something.
"""

from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLUGINS = os.path.join(ROOT, 'plugins')
DOCKER_CLIENT = 'plugins/module_utils/_docker.py'
SYSTEMD_CLIENT = 'plugins/module_utils/_systemd.py'
DOC_BLOCKS = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')
# Calls that only look whether a path is there; they do not open it.
EXISTENCE_CHECKS = ('exists', 'lexists', 'isdir', 'isfile', 'islink')
COMMAND_CALLS = ('run', 'run_command', 'Popen', 'call', 'check_call', 'check_output', 'system', 'getoutput')
IMPORT_CALLS = ('import_module', '__import__', 'importer')
# A request path of the Docker Engine API (optionally versioned): only the Docker client builds one.
ENGINE_PATH = re.compile(r'^(/v1\.\d+)?/(_ping|containers/[^\s:?]*|events)(\?\S*)?$')


def _name(func):
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)


def _string(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _prose(tree):
    """ids of the string nodes that are prose: docstrings and the module documentation blocks."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _string(body[0].value) is not None:
                ids.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) in DOC_BLOCKS for t in node.targets):
            ids.add(id(node.value))
    return ids


def _is_systemctl(text):
    return text is not None and (text == 'systemctl' or text.endswith('/systemctl'))


def findings(source):
    """``[(rule, line)]`` for one file's source: the rules are ``docker-import``, ``docker-socket``,
    ``docker-api`` and ``systemctl``."""
    tree = ast.parse(source)
    prose = _prose(tree)
    allowed = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [('docker-import', node.lineno) for alias in node.names
                      if alias.name == 'docker' or alias.name.startswith('docker.')]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and (node.module == 'docker' or node.module.startswith('docker.')):
                found.append(('docker-import', node.lineno))
        elif isinstance(node, ast.Call):
            name = _name(node.func)
            first = _string(node.args[0]) if node.args else None
            if name in EXISTENCE_CHECKS:
                allowed.update(id(arg) for arg in node.args)
            if name in IMPORT_CALLS and first and (first == 'docker' or first.startswith('docker.')):
                found.append(('docker-import', node.lineno))
            if any(keyword.arg == 'unix_socket' for keyword in node.keywords):
                found.append(('docker-api', node.lineno))
            if name in ('get_bin_path', 'which') and _is_systemctl(first):
                found.append(('systemctl', node.lineno))
            if name in COMMAND_CALLS and first and _is_systemctl(first.split(' ')[0]):
                found.append(('systemctl', node.lineno))
        elif isinstance(node, (ast.List, ast.Tuple)) and node.elts and _is_systemctl(_string(node.elts[0])):
            found.append(('systemctl', node.lineno))
    for node in ast.walk(tree):
        text = _string(node)
        if text and 'docker.sock' in text and id(node) not in prose and id(node) not in allowed:
            found.append(('docker-socket', node.lineno))
        if text and ENGINE_PATH.match(text) and id(node) not in prose:
            found.append(('docker-api', node.lineno))
    return sorted(set(found))


def scan(root=PLUGINS):
    """``{relative path: [(rule, line)]}`` for every Python file under ``root`` with a finding."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                with open(path, encoding='utf-8') as handle:
                    hits = findings(handle.read())
                if hits:
                    out[os.path.relpath(path, ROOT)] = hits
    return out


def owners(result, rule):
    return sorted(path for path, hits in result.items() if any(r == rule for r, dummy in hits))


def test_only_the_docker_client_imports_the_sdk_or_names_the_socket():
    result = scan()
    assert owners(result, 'docker-import') == [DOCKER_CLIENT]
    assert owners(result, 'docker-socket') == [DOCKER_CLIENT]
    assert owners(result, 'docker-api') == [DOCKER_CLIENT]


def test_only_the_systemd_client_runs_systemctl():
    assert owners(scan(), 'systemctl') == [SYSTEMD_CLIENT]


ROLE_COMMAND = re.compile(r"^\s*(?:-\s+)?(?:argv|cmd|command|shell|ansible\.builtin\.(?:command|shell))\s*:.*\bsystemctl\b")


def role_offenders(lines):
    """Line numbers of tasks that run systemctl as a raw command (argv, cmd, command, shell)."""
    return [n for n, line in enumerate(lines, 1) if ROLE_COMMAND.search(line)]


def test_roles_run_no_systemctl_command():
    offenders = []
    for folder, dummy, files in os.walk(os.path.join(ROOT, 'roles')):
        for name in files:
            if name.endswith(('.yml', '.yaml')):
                with open(os.path.join(folder, name), encoding='utf-8') as handle:
                    offenders += ['%s:%d' % (os.path.join(folder, name), n) for n in role_offenders(handle)]
    assert offenders == []


def test_the_role_scan_finds_planted_commands():
    planted = ['- name: List units', '  ansible.builtin.command:',
               "    argv: ['systemctl', 'list-units']", '- ansible.builtin.shell: systemctl daemon-reload',
               '  cmd: /usr/bin/systemctl is-active x',
               '    msg: run systemctl status docker by hand']  # advice in a message is not a command
    assert role_offenders(planted) == [3, 4, 5]


PLANTED = [
    ('import docker\n', 'docker-import'),
    ('import docker.errors as e\n', 'docker-import'),
    ('from docker import APIClient\n', 'docker-import'),
    ('import importlib\nsdk = importlib.import_module("docker")\n', 'docker-import'),
    ('URL = "unix:///var/run/docker.sock"\n', 'docker-socket'),
    ('import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect("/run/docker.sock")\n', 'docker-socket'),
    ('from m import _http\nr = _http.request("http://localhost/x", unix_socket=PATH)\n', 'docker-api'),
    ('def f(send, base):\n    return send(base + "/v1.41/containers/json?all=1")\n', 'docker-api'),
    ('PING = "/_ping"\n', 'docker-api'),
    ('def f(run):\n    return run(["systemctl", "restart", "x"])\n', 'systemctl'),
    ('def f(module):\n    return module.run_command([module.get_bin_path("systemctl"), "daemon-reload"])\n', 'systemctl'),
    ('def f(module):\n    return module.run_command("systemctl daemon-reload")\n', 'systemctl'),
    ('def f(host):\n    return host.run(("/usr/bin/systemctl", "is-active", "x"))\n', 'systemctl'),
]


@pytest.mark.parametrize('source, rule', PLANTED)
def test_the_scan_finds_a_planted_second_client(source, rule):
    assert [r for r, dummy in findings(source)] == [rule]


@pytest.mark.parametrize('source', [
    '"""Talks to systemctl and import docker, in prose."""\n',
    'DOCUMENTATION = r"""\noptions:\n  docker_host: V(unix:///var/run/docker.sock)\n"""\n',
    'def f(sec):\n    sec.add("critical", "down", "systemctl status docker; systemctl restart docker")\n',
    'import os\nHAVE = os.path.exists("/var/run/docker.sock")\n',
    'from ansible_collections.cloudos.ops.plugins.module_utils import _docker\n',
    'out = {"error": "/containers/json: %s" % exc}\n',  # a message that names a path is not a request
])
def test_prose_advice_and_existence_checks_are_not_clients(source):
    assert findings(source) == []


def test_the_scan_reports_files_of_a_planted_tree(tmp_path):
    (tmp_path / 'mod.py').write_text('import docker\n')
    (tmp_path / 'ok.py').write_text('X = 1\n')
    result = scan(str(tmp_path))
    assert list(result.values()) == [[('docker-import', 1)]]
