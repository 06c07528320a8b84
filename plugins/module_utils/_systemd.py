# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one systemd client of the collection: the only code that runs ``systemctl``.

Private to this collection (the leading underscore): no compatibility promise.

:class:`Systemd` takes the command runner (``run(argv) -> (rc, out, err)``: a module's
``run_command``, or the health host's time-bounded ``run``), so unit tests script it. The
parsers (:func:`parse_show`, :func:`parse_list_units`) are plain functions.
Commands run as ``systemctl ...`` without a pager; the C locale comes from the module
(``_common.set_c_locale``) or the runner.
"""

from __future__ import annotations

import os
import shutil

RUN_DIR = '/run/systemd/system'
UNIT_DIRS = ('/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system',
             '/lib/systemd/system', '/usr/lib/systemd/system')
# LoadState values of a unit systemd does not really know.
NOT_LOADED = (None, 'not-found', 'bad-setting')


class SystemdError(Exception):
    """A ``systemctl`` call failed; ``action`` is its verb (``list-units``, ``show``, ...)."""

    def __init__(self, action, rc, detail):
        super().__init__('systemctl %s failed (rc %s): %s' % (action, rc, detail))
        self.action = action
        self.rc = rc
        self.detail = detail


def unit_name(name):
    """``docker`` -> ``docker.service``; names with a suffix stay as they are."""
    return name if '.' in name else name + '.service'


def _text(value):
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else (value or '')


def parse_show(text):
    """Parse ``systemctl show`` output for several units (blank-line separated blocks)."""
    blocks, current = [], {}
    for line in _text(text).splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition('=')
        if sep:
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def parse_list_units(text):
    """Unit names from ``systemctl list-units --plain --no-legend`` (failed units may carry a bullet)."""
    names = []
    for line in _text(text).splitlines():
        line = line.strip().lstrip('\u25cf*').strip()
        if line:
            names.append(line.split()[0])
    return names


class Systemd:
    """``systemctl`` through ``run``; ``exists`` and ``which`` tell whether systemd runs here."""

    def __init__(self, run, exists=os.path.exists, which=None):
        self._run = run
        self.exists = exists
        self.which = which or shutil.which

    def running(self):
        """Whether systemd is PID 1 here and ``systemctl`` is installed."""
        return bool(self.exists(RUN_DIR)) and self.which('systemctl') is not None

    def absent_reason(self):
        """Why systemd cannot be asked here (for a section reported ``absent``)."""
        if self.which('systemctl') is None:
            return 'systemctl is not installed'
        return 'systemd is not running on this host (no %s)' % RUN_DIR

    def _call(self, action, args, ok=(0,)):
        rc, out, err = self._run(['systemctl'] + list(args))
        if rc not in ok:
            raise SystemdError(action, rc, (_text(err) or _text(out)).strip() or 'exit status %s' % rc)
        return _text(out)

    def show(self, units, properties):
        """``{unit: {property: value}}`` in the order of ``units`` (one ``systemctl show`` call)."""
        units = list(units)
        if not units:
            return {}
        out = self._call('show', ['show', '--no-pager', '-p', ','.join(properties), '--'] + units)
        blocks = parse_show(out)
        if len(blocks) == len(units):
            return dict(zip(units, blocks))
        return dict((b.get('Id', str(i)), b) for i, b in enumerate(blocks))

    def show_matching(self, patterns, properties):
        """``[{property: value}]`` of the units matching ``patterns`` (globs or names), loaded
        or not, active or not, each once, in systemctl's order: one ``systemctl show`` call, which
        expands the patterns itself (``list-units --all`` and then ``show`` cost two)."""
        patterns = list(patterns)
        if not patterns:
            return []  # no argument at all would show the manager's own properties
        out = self._call('show', ['show', '--no-pager', '-p', ','.join(properties), '--'] + patterns)
        blocks, seen = [], set()
        for block in parse_show(out):
            key = block.get('Id')
            if key not in seen:
                seen.add(key)
                blocks.append(block)
        return blocks

    def list_units(self, patterns, extra=('--all',)):
        """Names of the units matching ``patterns`` (globs), loaded or not, active or not."""
        out = self._call('list-units', ['list-units'] + list(extra) + ['--plain', '--no-legend', '--no-pager', '--']
                         + list(patterns))
        return parse_list_units(out)

    def unit_files(self, state='enabled'):
        """``systemctl list-unit-files --state=<state>`` as systemd prints it (the backup keeps the text)."""
        return self._call('list-unit-files', ['list-unit-files', '--state=%s' % state, '--no-legend', '--no-pager'])

    def is_active(self, units):
        """``{unit: state}`` (``active``, ``inactive``, ``failed``, ... ``unknown`` when not said)."""
        units = list(units)
        if not units:
            return {}
        # is-active exits 3 when any unit is not active: that is an answer, not a failure.
        rc, out, _err = self._run(['systemctl', 'is-active'] + [unit_name(u) for u in units])
        states = _text(out).split()
        return dict(zip(units, states + ['unknown'] * (len(units) - len(states))))

    def loaded(self, units):
        """The names among ``units`` systemd knows (loaded, whatever their state).

        Without a running systemd (a container, a chroot) an installed unit file counts: the
        component is installed, just not running.
        """
        wanted = [unit_name(u) for u in units]
        if not wanted:
            return []
        if not self.running():
            return [u for u in wanted if any(self.exists(os.path.join(d, u)) for d in UNIT_DIRS)]
        try:
            blocks = self.show(wanted, ['Id', 'LoadState'])
        except SystemdError:
            return []
        return [u for u in wanted if u in blocks and blocks[u].get('LoadState') not in NOT_LOADED]

    def exec_start(self, unit):
        """The ``ExecStart`` of ``unit`` as ``systemctl show -p ExecStart --value`` prints it, or ``None``."""
        if not unit or not self.running():
            return None
        try:
            out = self._call('show', ['show', unit, '-p', 'ExecStart', '--value'])
        except SystemdError:
            return None
        return out if out.strip() else None

    def start(self, unit):
        """``systemctl start <unit>``; raise :class:`SystemdError` when systemd refuses."""
        self._call('start', ['start', '--', unit_name(unit)])

    def stop(self, unit):
        """``systemctl stop <unit>``; raise :class:`SystemdError` when systemd refuses."""
        self._call('stop', ['stop', '--', unit_name(unit)])

    def reset_failed(self, unit):
        """``systemctl reset-failed <unit>``: forget its failed state and start-limit counter."""
        self._call('reset-failed', ['reset-failed', '--', unit_name(unit)])

    def daemon_reload(self):
        """``(ok, message)``; ``(True, 'systemd is not running')`` where there is nothing to reload."""
        if not self.running():
            return True, 'systemd is not running'
        try:
            self._call('daemon-reload', ['daemon-reload'])
        except SystemdError as exc:
            return False, 'systemctl daemon-reload failed: %s' % exc.detail
        return True, 'reloaded'


# --------------------------------------------------------------------------- unit files on disk

def _logical_lines(text):
    """Lines of a unit file with ``\\`` continuations joined; comments and blank lines left out."""
    lines, pending = [], ''
    for raw in _text(text).splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in '#;'):
            continue
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        lines.append(pending + line)
        pending = ''
    if pending:
        lines.append(pending)
    return lines


def parse_exec_start(texts):
    """The ``ExecStart`` command lines that result from unit file texts read in order (main file, then drop-ins).

    systemd's rules: only ``[Service]`` counts; each assignment adds a command, an empty
    ``ExecStart=`` clears the list; the prefixes ``-@:+!`` are dropped. Pure: no file access.
    """
    commands = []
    for text in texts:
        section = None
        for line in _logical_lines(text):
            if line.startswith('[') and line.endswith(']'):
                section = line[1:-1].strip()
                continue
            key, sep, value = line.partition('=')
            if not sep or section != 'Service' or key.strip() != 'ExecStart':
                continue
            value = value.strip()
            if not value:
                commands = []
                continue
            commands.append(value.lstrip('-@:+!').strip())
    return commands


def unit_file_texts(unit, root='/', dirs=UNIT_DIRS, max_bytes=1024 * 1024):
    """``[(path, text)]`` of ``unit``'s file (the first of ``dirs`` that has it) and its drop-ins.

    Drop-ins (``<dir>/<unit>.d/*.conf`` of every directory) come in file name order, a name in
    an earlier directory hiding the same name in a later one, as systemd reads them. Files are
    read below ``root`` (``/`` on a host); unreadable, oversized or non-UTF-8 ones are left out.
    """
    unit = unit_name(unit)

    def below(path):
        return os.path.join(root, path.lstrip('/'))

    def read(path):
        try:
            if os.path.getsize(path) > max_bytes:
                return None
            with open(path, 'rb') as handle:
                return handle.read().decode('utf-8')
        except (OSError, ValueError):
            return None

    found = []
    for directory in dirs:
        path = below(os.path.join(directory, unit))
        if os.path.isfile(path):
            text = read(path)
            if text is not None:
                found.append((path, text))
                break
    dropins = {}
    for directory in dirs:
        folder = below(os.path.join(directory, unit + '.d'))
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith('.conf'))
        except (OSError, ValueError):
            continue
        for name in names:
            dropins.setdefault(name, os.path.join(folder, name))
    for name in sorted(dropins):
        text = read(dropins[name])
        if text is not None:
            found.append((dropins[name], text))
    return found


def exec_start_from_files(unit, root='/', dirs=UNIT_DIRS):
    """``(command line, [files read])`` of ``unit``'s last ``ExecStart`` from its unit files; ``(None, files)`` if none."""
    texts = unit_file_texts(unit, root, dirs)
    commands = parse_exec_start(t for _p, t in texts)
    return (commands[-1] if commands else None), [p for p, _t in texts]
