# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel tuning logic behind ``cloudos.ops.cloudos_sysctl_tune``.

Private to this collection (the leading underscore): no compatibility promise.

Everything here works on paths below a configurable *root* (``/`` on a real host, a
prepared directory in tests), so the planning and rollback logic can be exercised
against a fake ``/proc/sys`` and ``/sys`` tree.  :class:`System` is the only class that
touches the file system; :func:`plan` decides, :func:`apply` carries the decision out
as one transaction (all or nothing) and :func:`plan_revert` undoes what was recorded.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import json
import os
import re
import stat

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    FileCheckError, MAX_CONFIG_BYTES, has_control, read_checked, write_atomic)

# The guide's "Performance Optimization" values (memory and network parts).
GUIDE_PROFILE = {
    'vm.swappiness': '1',
    'vm.vfs_cache_pressure': '10',
    'vm.dirty_ratio': '50',
    'net.core.rmem_max': '16777216',
    'net.core.wmem_max': '16777216',
    'net.ipv4.tcp_rmem': '4096 87380 16777216',
}
PROFILES = {'guide': GUIDE_PROFILE, 'none': {}}

KNOWN_GOVERNORS = ('performance', 'powersave', 'userspace', 'ondemand', 'conservative', 'schedutil')
KNOWN_SCHEDULERS = ('none', 'mq-deadline', 'kyber', 'bfq', 'deadline', 'cfq', 'noop')
# Single-queue names and their multi-queue successors (both directions), used only
# when the device does not offer the name asked for.
SCHEDULER_ALIASES = {'deadline': 'mq-deadline', 'mq-deadline': 'deadline', 'noop': 'none', 'none': 'noop'}
DEFAULT_BLOCK_EXCLUDE = ('loop*', 'ram*', 'zram*')

# sysctl trees that belong to a container's own namespaces; anything else is host-wide.
NAMESPACED_PREFIXES = ('net.', 'kernel.shm', 'kernel.msg', 'kernel.sem', 'fs.mqueue.',
                       'kernel.hostname', 'kernel.domainname', 'user.')

DEFAULT_SYSCTL_FILE = '/etc/sysctl.d/60-cloudos-tune.conf'
DEFAULT_STATE_FILE = '/var/lib/cloudos-ops/sysctl-tune.json'
DEFAULT_UDEV_FILE = '/etc/udev/rules.d/60-cloudos-tune.rules'
DEFAULT_UNIT_NAME = 'cloudos-tune-cpu.service'
UNIT_DIR = '/etc/systemd/system'
UNIT_WANTS = '/etc/systemd/system/multi-user.target.wants'

CPU_DIR = '/sys/devices/system/cpu'
BOOST_FILES = (
    # (path, value meaning "boost on", value meaning "boost off")
    ('/sys/devices/system/cpu/cpufreq/boost', '1', '0'),
    ('/sys/devices/system/cpu/intel_pstate/no_turbo', '0', '1'),
)

HEADER = ('# Managed by cloudos.ops.cloudos_sysctl_tune: local edits are overwritten.\n'
          '# Revert with state=reverted (restores the values recorded before tuning).\n')

_INT_RE = re.compile(r'^-?[0-9]+$')

# The only sysfs attributes the module writes, hence the only ones a state file may name.
SYSFS_PATHS = (
    re.compile(r'^/sys/devices/system/cpu/cpu[0-9]+/cpufreq/scaling_governor$'),
    re.compile(r'^/sys/devices/system/cpu/cpufreq/boost$'),
    re.compile(r'^/sys/devices/system/cpu/intel_pstate/no_turbo$'),
    re.compile(r'^/sys/block/(?!\.\.?/)[A-Za-z0-9][A-Za-z0-9_.:+!-]*/queue/(?:scheduler|read_ahead_kb)$'),
)
STATE_KEYS = ('version', 'sysctl', 'sysfs')
STATE_VERSION = 1
MAX_READ_AHEAD_KB = 4 * 1024 * 1024


class TuneError(Exception):
    """Invalid input or a failed change; the message is meant for the user as is."""


# --------------------------------------------------------------------------- parsing

def normalize_key(key):
    """Return ``(relpath, name)`` for a sysctl key given with dots or slashes.

    ``relpath`` is the path below ``/proc/sys``; ``name`` is the canonical dotted form
    (``net.ipv4.conf.eth0/1.rp_filter`` for the VLAN interface ``eth0.1``), the form
    sysctl(8) prints and sysctl.d(5) reads back into the same path.
    """
    if not isinstance(key, str) or not key.strip() or has_control(key, allow=''):
        raise TuneError('settings: key %r is not a sysctl name' % (key,))
    key = key.strip()
    slash, dot = key.find('/'), key.find('.')
    if slash != -1 and (dot == -1 or slash < dot):
        parts = key.strip('/').split('/')
    else:
        parts = [p.replace('/', '.') for p in key.split('.')]
    if any(p in ('', '.', '..') for p in parts) or any(c.isspace() or c == '=' for c in key):
        raise TuneError('settings: key %r is not a sysctl name' % (key,))
    return '/'.join(parts), '.'.join(p.replace('.', '/') for p in parts)


def format_value(value, where='settings'):
    """Turn a user value (str, int, list of fields, bool) into the string written."""
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise TuneError('%s: value %r is not an integer; sysctl values are integers or text' % (where, value))
    if isinstance(value, (list, tuple)):
        return ' '.join(format_value(v, where) for v in value)
    if not isinstance(value, str):
        raise TuneError('%s: value %r has an unsupported type %s' % (where, value, type(value).__name__))
    if '\n' in value.strip() or '\r' in value:
        raise TuneError('%s: value %r spans several lines' % (where, value))
    if has_control(value, allow='\t\n'):
        raise TuneError('%s: value %r holds a NUL or control character' % (where, value))
    text = ' '.join(value.split())
    if not text:
        raise TuneError('%s: value %r is empty' % (where, value))
    return text


def fields(value):
    return (value or '').split()


def is_numeric(value):
    parts = fields(value)
    return bool(parts) and all(_INT_RE.match(p) for p in parts)


def same_value(current, wanted):
    """Compare field by field, whitespace-insensitive, integers by value."""
    a, b = fields(current), fields(wanted)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if _INT_RE.match(x) and _INT_RE.match(y):
            if int(x) != int(y):
                return False
        elif x != y:
            return False
    return True


def parse_scheduler(text):
    """``'none [mq-deadline] kyber'`` -> ``('mq-deadline', ['none', 'mq-deadline', 'kyber'])``."""
    offered, current = [], None
    for word in fields(text):
        if word.startswith('[') and word.endswith(']'):
            word = word[1:-1]
            current = word
        offered.append(word)
    if current is None and len(offered) == 1:
        current = offered[0]
    return current, offered


# --------------------------------------------------------------------------- adapter

class System:
    """The only code that reads or writes the machine. Every path is below ``root``.

    ``move(src, dest)`` puts a finished temporary file in place: the module passes
    ``module.atomic_move`` (SELinux contexts), tests leave the default ``os.replace``.
    """

    def __init__(self, root='/', move=None):
        self.root = os.path.abspath(root or '/')
        self.move = move

    def path(self, abspath):
        return os.path.join(self.root, abspath.lstrip('/'))

    def exists(self, abspath):
        return os.path.exists(self.path(abspath))

    def isfile(self, abspath):
        return os.path.isfile(self.path(abspath))

    def glob(self, pattern):
        base = self.path('/')
        found = sorted(glob.glob(self.path(pattern)))
        return ['/' + os.path.relpath(p, base) for p in found]

    def mode(self, abspath):
        return stat.S_IMODE(os.stat(self.path(abspath)).st_mode)

    def writable(self, abspath):
        return os.access(self.path(abspath), os.W_OK)

    def read(self, abspath):
        with open(self.path(abspath), 'r') as handle:
            return handle.read().strip()

    def write(self, abspath, value):
        """One write(2) at offset 0, as the kernel expects for /proc/sys and sysfs."""
        fd = os.open(self.path(abspath), os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, (value + '\n').encode())
        finally:
            os.close(fd)

    def read_file(self, abspath):
        """Content of a regular file, or None when it does not exist."""
        try:
            with open(self.path(abspath), 'r') as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def put_file(self, abspath, content, mode=0o644, dir_mode=0o755):
        target = self.path(abspath)
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            os.makedirs(directory, dir_mode)
        try:
            write_atomic(target, content, mode, move=self.move)
        except OSError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # module.atomic_move raises a plain Exception; the transaction rolls back on OSError.
            raise OSError(str(exc)) from exc
        # Our files always get our mode, also when they existed with another one.
        os.chmod(target, mode)

    def remove(self, abspath):
        try:
            os.unlink(self.path(abspath))
            return True
        except FileNotFoundError:
            return False

    def readlink(self, abspath):
        try:
            return os.readlink(self.path(abspath))
        except OSError:
            return None

    def symlink(self, target, abspath):
        link = self.path(abspath)
        if not os.path.isdir(os.path.dirname(link)):
            os.makedirs(os.path.dirname(link), 0o755)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)

    def in_container(self):
        if self.exists('/.dockerenv') or self.exists('/run/.containerenv'):
            return True
        marker = self.read_file('/run/systemd/container')
        if marker and marker.strip():
            return True
        try:
            with open(self.path('/proc/1/environ'), 'rb') as handle:
                return b'container=' in handle.read()
        except OSError:
            return False


# --------------------------------------------------------------------------- plan

class Change:
    """One live value to set: a sysctl key or a sysfs attribute."""

    def __init__(self, kind, name, path, before, after, record=True):
        self.kind = kind          # 'sysctl' or 'sysfs'
        self.name = name          # shown to the user
        self.path = path          # absolute path (below root)
        self.before = before
        self.after = after
        self.record = record      # remember ``before`` as the original value

    def state_key(self):
        return self.name if self.kind == 'sysctl' else self.path


class Plan:
    def __init__(self):
        self.changes = []         # Change objects, in apply order
        self.sysctl = {}          # name -> {before, after, changed, status}
        self.sysfs = {}           # path -> {before, after, changed, status}
        self.unsupported = []     # {name, reason}
        self.notes = []
        self.files = []           # (path, new content or None for absent, mode)
        self.links = []           # (link path, target or None for absent)
        self.state_before = None  # dict loaded from the state file (or None)
        self.state_after = None   # dict to write (None: remove the file)
        self.state_file = None
        self.reload_systemd = False

    @property
    def changed(self):
        return bool(self.changes or self.file_changes or self.link_changes or self.state_changed)

    @property
    def state_changed(self):
        return _state_content(self.state_after) != _state_content(self.state_before)

    file_changes = property(lambda self: [f for f in self.files if f[3] != f[1]])
    link_changes = property(lambda self: [lk for lk in self.links if lk[2] != lk[1]])


def _state_content(state):
    if not state or not (state.get('sysctl') or state.get('sysfs')):
        return None
    return json.dumps(state, indent=2, sort_keys=True) + '\n'


def load_state(system, state_file):
    """The state file's record, validated: only keys and paths this module writes, plain values.

    A symbolic link, a directory, a file over 1 MiB, text that is not UTF-8 or JSON, another
    schema, an entry naming anything but a sysctl key or one of :data:`SYSFS_PATHS`, or a value
    with a control character is a :class:`TuneError` naming the file (and the entry).
    """
    try:
        text = read_checked(system.path(state_file), kinds=('file',), max_bytes=MAX_CONFIG_BYTES)
    except FileCheckError as exc:
        raise TuneError('state_file %s; it records the values to restore, fix or remove it; nothing changed'
                        % str(exc).replace(system.path(state_file), state_file))
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TuneError('state_file %s is not valid JSON (%s); it records the values to restore, '
                        'fix or remove it' % (state_file, exc))
    if not isinstance(data, dict):
        raise TuneError('state_file %s does not hold a JSON object' % state_file)
    _check_state(state_file, data)
    data.setdefault('sysctl', {})
    data.setdefault('sysfs', {})
    return data


def _check_state(state_file, data):
    def refuse(problem):
        raise TuneError('state_file %s: %s; nothing changed (this module writes only sysctl keys and %s)'
                        % (state_file, problem, 'CPU frequency and block queue attributes under /sys'))
    unknown = sorted(str(k) for k in data if k not in STATE_KEYS)
    if unknown:
        refuse('not a cloudos_sysctl_tune state file (unknown key(s) %s)' % ', '.join(repr(k) for k in unknown))
    if data.get('version', STATE_VERSION) != STATE_VERSION:
        refuse('schema version %r, this module reads version %d' % (data.get('version'), STATE_VERSION))
    for kind in ('sysctl', 'sysfs'):
        entries = data.get(kind, {})
        if not isinstance(entries, dict):
            refuse('%s must be an object of name to value, got %s' % (kind, type(entries).__name__))
        for key, value in entries.items():
            where = '%s entry %r' % (kind, key)
            if not isinstance(value, str) or not value.strip():
                refuse('%s has the value %r, not a text value' % (where, value))
            if has_control(value, allow=''):
                refuse('%s has a value with a NUL or control character (%r)' % (where, value))
            if kind == 'sysctl':
                try:
                    relpath, _name = normalize_key(key)
                except TuneError:
                    refuse('%s is not a sysctl name' % where)
                if relpath.startswith('/'):
                    refuse('%s is not a sysctl name' % where)
            elif not any(p.match(key) for p in SYSFS_PATHS) or '/../' in key or '/./' in key:
                refuse('%s is not a path this module writes' % where)


def _new_state(previous):
    state = {'version': 1, 'sysctl': {}, 'sysfs': {}}
    if previous:
        state['sysctl'].update(previous.get('sysctl') or {})
        state['sysfs'].update(previous.get('sysfs') or {})
    return state


def _check_sysctl_key(system, key, relpath, name, where, soft, unsupported, allow_host_wide, in_container):
    """Return the current value, or None when the key is reported unsupported."""
    path = '/proc/sys/' + relpath
    if not system.exists(path):
        if soft:
            unsupported.append({'name': name, 'reason': 'not present in this kernel or network namespace'})
            return None
        raise TuneError('%s: unknown sysctl key %r (no %s)' % (where, key, path))
    if not system.isfile(path):
        raise TuneError('%s: %r is a sysctl directory, not a key' % (where, key))
    mode = system.mode(path)
    if not mode & 0o444:
        raise TuneError('%s: %r is write-only (an action, not a setting); it cannot be tuned' % (where, key))
    if not mode & 0o222:
        if soft:
            unsupported.append({'name': name, 'reason': 'read-only key'})
            return None
        raise TuneError('%s: %r is a read-only key' % (where, key))
    if in_container and not allow_host_wide and not name.startswith(NAMESPACED_PREFIXES):
        unsupported.append({'name': name, 'reason': 'host-wide key inside a container (set allow_host_wide to change it)'})
        return None
    try:
        current = system.read(path)
    except OSError as exc:
        raise TuneError('%s: cannot read %r: %s' % (where, key, exc.strerror or exc))
    if not system.writable(path):
        unsupported.append({'name': name, 'reason': 'read-only here (%s is not writable, e.g. mounted read-only in a container)' % path})
        return None
    return current


def desired_sysctl(settings, profile):
    """Merge the profile under ``settings``; return ``{relpath: (name, value, key, from_profile)}``."""
    if profile not in PROFILES:
        raise TuneError('profile: %r is not one of %s' % (profile, ', '.join(sorted(PROFILES))))
    merged = {}
    for source, items in (('profile', PROFILES[profile]), ('settings', settings or {})):
        if not isinstance(items, dict):
            raise TuneError('settings: expected a mapping of sysctl name to value, got %r' % (items,))
        seen = {}
        for key, value in items.items():
            relpath, name = normalize_key(key)
            text = format_value(value, 'settings[%s]' % key)
            if relpath in seen and not same_value(seen[relpath], text):
                raise TuneError('settings: %r is given twice with different values (%r and %r)' % (name, seen[relpath], text))
            seen[relpath] = text
            merged[relpath] = (name, text, key, source == 'profile')
    return merged


def _validate_value(key, current, wanted):
    if is_numeric(current):
        if not is_numeric(wanted):
            raise TuneError('settings[%s]: value %r is not numeric; the key holds %r' % (key, wanted, current))
        if len(fields(current)) != len(fields(wanted)):
            raise TuneError('settings[%s]: value %r has %d field(s), the key holds %d (%r)'
                            % (key, wanted, len(fields(wanted)), len(fields(current)), current))


def plan(system, settings=None, profile='none', cpu_governor=None, cpu_boost='unchanged',
         io_scheduler=None, read_ahead_kb=None, block_devices='*', block_devices_exclude=DEFAULT_BLOCK_EXCLUDE,
         persist=True, strict=False, allow_host_wide=False, sysctl_file=DEFAULT_SYSCTL_FILE,
         state_file=DEFAULT_STATE_FILE, udev_rules_file=DEFAULT_UDEV_FILE, systemd_unit=DEFAULT_UNIT_NAME,
         page_kb=None):
    """Validate everything and decide what to change; touches nothing."""
    result = Plan()
    result.state_file = state_file
    in_container = system.in_container()
    state = load_state(system, state_file)
    result.state_before = state
    new_state = _new_state(state)

    # ---- sysctl keys
    wanted = desired_sysctl(settings, profile)
    persisted = {}
    for relpath in sorted(wanted):
        name, value, key, from_profile = wanted[relpath]
        where = 'profile' if from_profile else 'settings'
        current = _check_sysctl_key(system, key, relpath, name, where, from_profile, result.unsupported,
                                    allow_host_wide, in_container)
        if current is None:
            result.sysctl[name] = {'before': None, 'after': value, 'changed': False, 'status': 'unsupported'}
            continue
        _validate_value(key, current, value)
        shown = ' '.join(fields(current))
        persisted[name] = value
        if same_value(current, value):
            result.sysctl[name] = {'before': shown, 'after': shown, 'changed': False, 'status': 'ok'}
            continue
        result.sysctl[name] = {'before': shown, 'after': value, 'changed': True, 'status': 'changed'}
        result.changes.append(Change('sysctl', name, '/proc/sys/' + relpath, shown, value))
        new_state['sysctl'].setdefault(name, shown)

    # keys tuned earlier but no longer asked for go back to their recorded value
    managed_names = set(r[0] for r in wanted.values())
    for name in sorted(set(new_state['sysctl']) - managed_names):
        _restore_entry(system, result, new_state, 'sysctl', name, strict)

    # ---- CPU
    sysfs_wanted = {}
    unit_lines = []
    if cpu_governor:
        _plan_governor(system, result, cpu_governor, sysfs_wanted, unit_lines)
    if cpu_boost not in ('unchanged', 'on', 'off'):
        raise TuneError('cpu_boost: %r is not one of on, off, unchanged' % (cpu_boost,))
    if cpu_boost != 'unchanged':
        _plan_boost(system, result, cpu_boost, sysfs_wanted, unit_lines)

    # ---- block devices
    udev_lines = []
    if io_scheduler or read_ahead_kb is not None:
        _plan_block(system, result, io_scheduler, read_ahead_kb, block_devices, block_devices_exclude,
                    sysfs_wanted, udev_lines, page_kb)

    for path in sorted(sysfs_wanted):
        before, after, label = sysfs_wanted[path]
        if before == after:
            result.sysfs[path] = {'name': label, 'before': before, 'after': after, 'changed': False, 'status': 'ok'}
            continue
        result.sysfs[path] = {'name': label, 'before': before, 'after': after, 'changed': True, 'status': 'changed'}
        result.changes.append(Change('sysfs', label, path, before, after))
        new_state['sysfs'].setdefault(path, before)
    for path in sorted(set(new_state['sysfs']) - set(sysfs_wanted)):
        _restore_entry(system, result, new_state, 'sysfs', path, strict)

    if strict and result.unsupported:
        raise TuneError('strict: cannot apply %s' % '; '.join('%s (%s)' % (u['name'], u['reason']) for u in result.unsupported))

    # ---- persistence
    result.files.append(_file(system, sysctl_file, render_sysctl_file(persisted) if persist and persisted else None))
    result.files.append(_file(system, udev_rules_file, render_udev_rules(udev_lines) if persist and udev_lines else None))
    unit_path = UNIT_DIR + '/' + systemd_unit
    unit = render_unit(unit_lines) if persist and unit_lines else None
    result.files.append(_file(system, unit_path, unit))
    link = UNIT_WANTS + '/' + systemd_unit
    result.links.append((link, '../' + systemd_unit if unit else None, system.readlink(link)))
    result.reload_systemd = unit != system.read_file(unit_path)

    result.state_after = new_state
    return result


def _file(system, path, content, mode=0o644):
    return (path, content, mode, system.read_file(path))


def _restore_entry(system, result, new_state, kind, key, strict):
    original = new_state[kind][key]
    path = '/proc/sys/' + normalize_key(key)[0] if kind == 'sysctl' else key
    table = result.sysctl if kind == 'sysctl' else result.sysfs
    if not system.exists(path):
        del new_state[kind][key]
        result.notes.append('%s no longer exists; its recorded value %r is dropped' % (key, original))
        return
    if not system.writable(path):
        result.unsupported.append({'name': key, 'reason': 'cannot restore the recorded value: not writable here'})
        return
    current = system.read(path)
    if kind == 'sysfs' and path.endswith('/scheduler'):
        current = parse_scheduler(current)[0]
    shown = ' '.join(fields(current))
    entry = {'before': shown, 'after': original, 'changed': False, 'status': 'restored'}
    if kind == 'sysfs':
        entry['name'] = key
    if not same_value(current, original):
        entry['changed'] = True
        result.changes.append(Change(kind, key, path, shown, original, record=False))
    table[key] = entry
    del new_state[kind][key]


def _cpu_files(system, leaf):
    return system.glob(CPU_DIR + '/cpu[0-9]*/cpufreq/' + leaf)


def _plan_governor(system, result, governor, sysfs_wanted, unit_lines):
    if governor not in KNOWN_GOVERNORS:
        raise TuneError('cpu_governor: %r is not a CPU frequency governor the kernel knows (%s)'
                        % (governor, ', '.join(KNOWN_GOVERNORS)))
    paths = _cpu_files(system, 'scaling_governor')
    if not paths:
        result.unsupported.append({'name': 'cpu_governor', 'reason': 'no CPU frequency scaling here (no cpufreq in %s)' % CPU_DIR})
        return
    for path in paths:
        avail_path = os.path.dirname(path) + '/scaling_available_governors'
        offered = fields(system.read(avail_path)) if system.exists(avail_path) else []
        if governor not in offered:
            raise TuneError('cpu_governor: %r is not offered by %s (offered: %s)'
                            % (governor, path.split('/')[5], ', '.join(offered) or 'none'))
    writable = [p for p in paths if system.writable(p)]
    if not writable:
        result.unsupported.append({'name': 'cpu_governor', 'reason': 'cpufreq is read-only here'})
        return
    for path in paths:
        sysfs_wanted[path] = (system.read(path), governor, '%s governor' % path.split('/')[5])
    unit_lines.append("for f in %s/cpu[0-9]*/cpufreq/scaling_governor; do echo %s > \"$f\"; done" % (CPU_DIR, governor))


def _plan_boost(system, result, boost, sysfs_wanted, unit_lines):
    for path, on, off in BOOST_FILES:
        if system.exists(path):
            if not system.writable(path):
                result.unsupported.append({'name': 'cpu_boost', 'reason': '%s is read-only here' % path})
                return
            value = on if boost == 'on' else off
            sysfs_wanted[path] = (system.read(path), value, 'cpu boost')
            unit_lines.append('echo %s > %s' % (value, path))
            return
    result.unsupported.append({'name': 'cpu_boost', 'reason': 'no boost control (cpufreq/boost or intel_pstate/no_turbo)'})


def block_device_names(system, pattern, exclude):
    names = []
    for path in system.glob('/sys/block/*'):
        dev = os.path.basename(path)
        if fnmatch.fnmatchcase(dev, pattern) and not any(fnmatch.fnmatchcase(dev, ex) for ex in exclude):
            names.append(dev)
    return names


def _plan_block(system, result, scheduler, read_ahead, pattern, exclude, sysfs_wanted, udev_lines, page_kb):
    if scheduler is not None and scheduler not in KNOWN_SCHEDULERS:
        raise TuneError('io_scheduler: %r is not an I/O scheduler the kernel knows (%s)'
                        % (scheduler, ', '.join(KNOWN_SCHEDULERS)))
    if read_ahead is not None:
        if isinstance(read_ahead, bool) or not isinstance(read_ahead, int) or read_ahead < 0:
            raise TuneError('read_ahead_kb: %r is not a non-negative integer' % (read_ahead,))
        page_kb = page_kb or max(1, os.sysconf('SC_PAGE_SIZE') // 1024)
        if read_ahead > MAX_READ_AHEAD_KB:
            raise TuneError('read_ahead_kb: %r is more than %d (4 GiB)' % (read_ahead, MAX_READ_AHEAD_KB))
        if read_ahead % page_kb:
            raise TuneError('read_ahead_kb: %r is not a multiple of the page size (%d KiB); the kernel would round it'
                            % (read_ahead, page_kb))
    devices = block_device_names(system, pattern, exclude)
    if not devices:
        if pattern != '*':
            raise TuneError('block_devices: %r matches no block device (excluding %s)' % (pattern, ', '.join(exclude)))
        result.unsupported.append({'name': 'block_devices', 'reason': 'no block device to tune'})
        return
    for dev in devices:
        queue = '/sys/block/%s/queue' % dev
        attrs = []
        if scheduler is not None:
            path = queue + '/scheduler'
            if not system.exists(path):
                result.notes.append('%s: no I/O scheduler, skipped' % dev)
            else:
                current, offered = parse_scheduler(system.read(path))
                target = scheduler
                if target not in offered and SCHEDULER_ALIASES.get(target) in offered:
                    target = SCHEDULER_ALIASES[scheduler]
                    result.notes.append('%s: %s is not offered, using its equivalent %s' % (dev, scheduler, target))
                if target not in offered:
                    if offered in (['none'], []):
                        result.notes.append('%s: offers no I/O scheduler choice (stacked device), skipped' % dev)
                    else:
                        raise TuneError('io_scheduler: %r is not offered by %s (offered: %s)'
                                        % (scheduler, dev, ', '.join(offered)))
                elif not system.writable(path):
                    result.unsupported.append({'name': '%s scheduler' % dev, 'reason': '%s is read-only here' % path})
                else:
                    sysfs_wanted[path] = (current, target, '%s scheduler' % dev)
                    attrs.append('ATTR{queue/scheduler}="%s"' % target)
        if read_ahead is not None:
            path = queue + '/read_ahead_kb'
            if not system.exists(path):
                result.notes.append('%s: no read_ahead_kb, skipped' % dev)
            elif not system.writable(path):
                result.unsupported.append({'name': '%s read_ahead_kb' % dev, 'reason': '%s is read-only here' % path})
            else:
                sysfs_wanted[path] = (system.read(path), str(read_ahead), '%s read_ahead_kb' % dev)
                attrs.append('ATTR{queue/read_ahead_kb}="%d"' % read_ahead)
        if attrs:
            udev_lines.append('ACTION=="add|change", SUBSYSTEM=="block", KERNEL=="%s", %s' % (dev, ', '.join(attrs)))


# --------------------------------------------------------------------------- render

def render_sysctl_file(values):
    lines = [HEADER]
    for name in sorted(values):
        lines.append('%s = %s\n' % (name, values[name]))
    return ''.join(lines)


def render_udev_rules(lines):
    return HEADER + ''.join(line + '\n' for line in lines)


def render_unit(lines):
    execs = ''.join("ExecStart=/bin/sh -c '%s'\n" % line for line in lines)
    return (HEADER +
            '[Unit]\n'
            'Description=CPU tuning from cloudos.ops (governor, boost)\n'
            'After=systemd-modules-load.service\n'
            'ConditionPathExists=%s\n\n'
            '[Service]\n'
            'Type=oneshot\n'
            'RemainAfterExit=yes\n'
            '%s\n'
            '[Install]\n'
            'WantedBy=multi-user.target\n' % (CPU_DIR, execs))


# --------------------------------------------------------------------------- revert

def plan_revert(system, strict=False, sysctl_file=DEFAULT_SYSCTL_FILE, state_file=DEFAULT_STATE_FILE,
                udev_rules_file=DEFAULT_UDEV_FILE, systemd_unit=DEFAULT_UNIT_NAME):
    """Restore every recorded value and remove our persistence files."""
    result = Plan()
    result.state_file = state_file
    state = load_state(system, state_file)
    result.state_before = state
    new_state = _new_state(state)
    for name in sorted(new_state['sysctl']):
        _restore_entry(system, result, new_state, 'sysctl', name, strict)
    for path in sorted(new_state['sysfs']):
        _restore_entry(system, result, new_state, 'sysfs', path, strict)
    if strict and result.unsupported:
        raise TuneError('strict: cannot revert %s' % '; '.join('%s (%s)' % (u['name'], u['reason']) for u in result.unsupported))
    unit_path = UNIT_DIR + '/' + systemd_unit
    for path in (sysctl_file, udev_rules_file, unit_path):
        result.files.append(_file(system, path, None))
    link = UNIT_WANTS + '/' + systemd_unit
    result.links.append((link, None, system.readlink(link)))
    result.reload_systemd = system.read_file(unit_path) is not None
    result.state_after = new_state
    return result


# --------------------------------------------------------------------------- apply

class Transaction:
    """Apply changes in order; on failure put back everything already done."""

    def __init__(self, system):
        self.system = system
        self.undo = []

    def set_value(self, change):
        try:
            self.system.write(change.path, change.after)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EINVAL:
                reason = 'the kernel rejected it: %s' % reason
            raise TuneError('%s = %r could not be set (%s)' % (change.name, change.after, reason))
        self.undo.append(('value', change))
        now = self.system.read(change.path)
        if change.path.endswith('/scheduler'):
            now = parse_scheduler(now)[0]
        if not same_value(now, change.after):
            raise TuneError('%s = %r was accepted but reads back as %r (the kernel adjusted it); '
                            'give the value the kernel keeps' % (change.name, change.after, ' '.join(fields(now))))

    def set_file(self, path, content, mode, old, dir_mode=0o755):
        if content is None:
            if self.system.remove(path):
                self.undo.append(('file', (path, old, mode, dir_mode)))
        else:
            self.system.put_file(path, content, mode, dir_mode)
            self.undo.append(('file', (path, old, mode, dir_mode)))

    def set_link(self, path, target, old):
        if target is None:
            self.system.remove(path)
        else:
            self.system.symlink(target, path)
        self.undo.append(('link', (path, old)))

    def rollback(self):
        errors = []
        for kind, item in reversed(self.undo):
            try:
                if kind == 'value':
                    self.system.write(item.path, item.before)
                elif kind == 'file':
                    path, old, mode, dir_mode = item
                    if old is None:
                        self.system.remove(path)
                    else:
                        self.system.put_file(path, old, mode, dir_mode)
                else:
                    path, old = item
                    if old is None:
                        self.system.remove(path)
                    else:
                        self.system.symlink(old, path)
            except (OSError, TuneError) as exc:
                errors.append('%s: %s' % (item.name if kind == 'value' else item[0], exc))
        self.undo = []
        return errors


def apply(system, result):
    """Carry out a plan; all or nothing. Raises TuneError after rolling back."""
    txn = Transaction(system)
    try:
        # Originals are recorded before the first write so that a crash half-way
        # still leaves what is needed to revert.
        state_text = _state_content(result.state_after)
        if result.state_changed and state_text is not None:
            txn.set_file(result.state_file, state_text, 0o600, _state_content(result.state_before), dir_mode=0o700)
        for change in result.changes:
            txn.set_value(change)
        for path, content, mode, old in result.files:
            if content != old:
                txn.set_file(path, content, mode, old)
        for path, target, old in result.links:
            if target != old:
                txn.set_link(path, target, old)
        if result.state_changed and state_text is None:
            txn.set_file(result.state_file, None, 0o600, _state_content(result.state_before), dir_mode=0o700)
    except (TuneError, OSError) as exc:
        errors = txn.rollback()
        msg = str(exc) if isinstance(exc, TuneError) else 'write failed: %s' % exc
        if errors:
            msg += '; rolling back also failed for: %s' % '; '.join(errors)
        else:
            msg += '; every value already written was put back, nothing changed'
        raise TuneError(msg)


def diff(result):
    """Ansible diff list: live values, then each persistence file."""
    out = []
    if result.changes:
        out.append({
            'before_header': 'live values',
            'after_header': 'live values',
            'before': ''.join('%s = %s\n' % (c.name, c.before) for c in result.changes),
            'after': ''.join('%s = %s\n' % (c.name, c.after) for c in result.changes),
        })
    for path, content, _mode, old in result.files:
        if content != old:
            out.append({'before_header': path, 'after_header': path,
                        'before': old or '', 'after': content or ''})
    return out


# --------------------------------------------------------------------------- module

# The module's options that name our persistence files (passed on to plan and plan_revert).
FILE_OPTIONS = ('sysctl_file', 'state_file', 'udev_rules_file', 'systemd_unit')
PLAN_OPTIONS = ('settings', 'profile', 'cpu_governor', 'cpu_boost', 'io_scheduler', 'read_ahead_kb',
                'block_devices', 'block_devices_exclude', 'persist', 'strict', 'allow_host_wide')


def plan_from_params(system, params):
    """The module's one decision: validate ``params`` beyond the argument spec and plan. Touches nothing."""
    for name in FILE_OPTIONS + ('root', 'cpu_governor', 'io_scheduler', 'block_devices'):
        if params.get(name) and has_control(params[name], allow=''):
            raise TuneError('%s: %r holds a NUL or control character' % (name, params[name]))
    for name in ('sysctl_file', 'state_file', 'udev_rules_file'):
        if not os.path.isabs(params[name]):
            raise TuneError('%s: %r must be an absolute path' % (name, params[name]))
    unit = params['systemd_unit']
    if '/' in unit or not unit.endswith('.service'):
        raise TuneError('systemd_unit: %r must be a unit file name ending in .service' % unit)
    files = dict((name, params[name]) for name in FILE_OPTIONS)
    if params['state'] == 'reverted':
        return plan_revert(system, strict=params['strict'], **files)
    return plan(system, **dict(files, **dict((name, params[name]) for name in PLAN_OPTIONS)))


def needs_daemon_reload(system, result):
    """Whether systemd must re-read its unit files after ``apply`` (only on a real root with systemd running)."""
    return bool(result.reload_systemd and system.root == '/' and system.exists('/run/systemd/system'))


def module_result(result):
    """What the module returns for a plan (applied or, in check mode, predicted)."""
    out = dict(
        changed=result.changed,
        sysctl=result.sysctl,
        sysfs=result.sysfs,
        unsupported=result.unsupported,
        notes=result.notes,
        files=[path for path, content, _mode, _old in result.files if content is not None],
    )
    if result.changed:
        out['diff'] = diff(result)
    return out
