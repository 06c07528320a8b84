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

    def daemon_reload(self):
        """``(ok, message)``; ``(True, 'systemd is not running')`` where there is nothing to reload."""
        if not self.running():
            return True, 'systemd is not running'
        try:
            self._call('daemon-reload', ['daemon-reload'])
        except SystemdError as exc:
            return False, 'systemctl daemon-reload failed: %s' % exc.detail
        return True, 'reloaded'
