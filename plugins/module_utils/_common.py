# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small primitives every part of the collection shares: times, durations, statuses, sizes,
the command environment and atomic file writes.

Private to this collection (the leading underscore): no compatibility promise. Plain Python
(no Ansible import except ansible-core's own size formatter), safe on the managed host and on
the controller alike.
"""

from __future__ import annotations

import os
import re
import stat as _stat
import tempfile

from datetime import datetime, timedelta, timezone

from ansible.module_utils.common.text.formatters import bytes_to_human

# --------------------------------------------------------------------------- statuses

OK, WARNING, CRITICAL = 'ok', 'warning', 'critical'
ABSENT, SKIPPED = 'absent', 'skipped'
ERROR, UNREACHABLE = 'error', 'unreachable'

# How bad a status is. ``absent`` and ``skipped`` are as good as ``ok``; a host that failed or
# could not be reached is as bad as ``critical``.
STATUS_RANK = {OK: 0, ABSENT: 0, SKIPPED: 0, WARNING: 1, CRITICAL: 2, ERROR: 2, UNREACHABLE: 2}


def status_rank(status, unknown=1):
    """Rank of ``status`` (see :data:`STATUS_RANK`); ``unknown`` for a status not listed there."""
    return STATUS_RANK.get(status, unknown)


def worst_status(statuses, unknown=1):
    """The worst of ``statuses`` (``ok`` for none). Among equal ranks the first one seen wins."""
    result, best = OK, 0
    for status in statuses:
        rank = status_rank(status, unknown)
        if rank > best:
            result, best = status, rank
    return result


# --------------------------------------------------------------------------- times

_TIME_RE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:?\d\d)?$')


def parse_time(value, naive_zone=timezone.utc):
    """An aware UTC :class:`datetime` from an RFC 3339 / ISO 8601 time, or ``None``.

    Accepts what the systems we talk to write: any number of fractional digits (Docker and
    Kubernetes write nanoseconds), ``Z``, ``+02:00`` or ``+0200``, a space instead of ``T``, an
    aware or naive :class:`datetime` and a Unix timestamp. Go's zero time (``0001-01-01...``),
    empty values and anything unparsable give ``None``; a time without a zone is taken in
    ``naive_zone`` (UTC by default), or refused with ``naive_zone=None``.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            return None
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        found = _TIME_RE.match(value.strip())
        if not found or found.group(1) == '0001':
            return None
        year, month, day, hour, minute, second, frac, zone = found.groups()
        micro = int((frac[1:] + '000000')[:6]) if frac else 0
        tzinfo = None
        if zone in ('Z', 'z'):
            tzinfo = timezone.utc
        elif zone:
            digits = zone.replace(':', '')
            offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
            if offset >= timedelta(hours=24):
                return None
            tzinfo = timezone(offset if digits[0] == '+' else -offset)
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        if naive_zone is None:
            return None
        moment = moment.replace(tzinfo=naive_zone)
    try:
        return moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def rfc3339(moment, millis=False):
    """``2026-12-01T07:00:00Z`` (``...00.000Z`` with ``millis``) for an aware datetime; ``None`` for ``None``."""
    if moment is None:
        return None
    moment = moment.astimezone(timezone.utc)
    if millis:
        return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def utcnow():
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- durations

_DURATION_UNITS = (('w', 7 * 86400), ('d', 86400), ('h', 3600), ('m', 60), ('s', 1))
_DURATION_RE = re.compile(r'(\d+)\s*(w|d|h|ms|m|s)')
# Nothing this collection schedules is meant to last longer than this; larger values are typos
# (and would overflow datetime arithmetic).
MAX_DURATION = 100 * 365 * 86400


class DurationError(ValueError):
    """A duration that cannot be parsed; the message names the parameter and the value."""


def parse_duration(value, name='duration', allow_zero=False, maximum=MAX_DURATION):
    """Seconds (an ``int``) in a duration such as ``90m``, ``2h``, ``7d``, ``1w2d`` or ``1h30m``.

    A bare number is seconds. Raises :class:`DurationError` naming ``name`` for anything else,
    for zero unless ``allow_zero``, and for more than ``maximum`` seconds.
    """
    if isinstance(value, bool):
        raise DurationError('%s must be a duration such as 90m, 2h, 7d or 1w2d, got %r' % (name, value))
    if isinstance(value, int):
        seconds = value
    else:
        text = str(value if value is not None else '').strip().lower()
        if text.isdigit():
            seconds = int(text)
        else:
            seconds, pos = 0, 0
            for part in _DURATION_RE.finditer(text):
                if text[pos:part.start()].strip():
                    break
                unit = part.group(2)
                factor = 0.001 if unit == 'ms' else dict(_DURATION_UNITS)[unit]
                seconds += int(part.group(1)) * factor
                pos = part.end()
            if not text or pos == 0 or text[pos:].strip():
                raise DurationError('%s must be a duration such as 90m, 2h, 7d or 1w2d, got %r' % (name, value))
            seconds = int(seconds)
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise DurationError('%s must be longer than zero, got %r' % (name, value))
    if seconds > maximum:
        raise DurationError('%s=%r is too long (more than %s)' % (name, value, format_duration(maximum)))
    return seconds


def format_duration(seconds):
    """``1w2d``, ``2h30m``, ``45s`` (``0s`` for zero) for a whole number of seconds."""
    seconds = int(seconds)
    if seconds <= 0:
        return '0s'
    out = []
    for unit, size in _DURATION_UNITS:
        if seconds >= size:
            out.append('%d%s' % (seconds // size, unit))
            seconds %= size
    return ''.join(out)


# --------------------------------------------------------------------------- sizes

def human_size(value):
    """A byte count as people read it, in ansible-core's binary units (``1.50 KB`` is 1536 bytes).

    Every report of this collection uses this one function, so sizes side by side never mix
    unit systems.
    """
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return str(value)
    if number < 0:
        return '-' + bytes_to_human(-number)
    return bytes_to_human(number)


# --------------------------------------------------------------------------- commands

# The environment every command of this collection runs with: untranslated, uncoloured output
# without a pager, so that parsers see what their tests saw.
C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C', 'SYSTEMD_PAGER': '', 'SYSTEMD_COLORS': '0',
            'PAGER': 'cat'}


def set_c_locale(module, **extra):
    """Make every ``module.run_command`` of this run use :data:`C_LOCALE` (plus ``extra``).

    ``AnsibleModule.run_command`` merges ``run_command_environ_update`` into each command's
    environment, so setting it once here covers every call site, also those in module_utils.
    """
    environ = dict(C_LOCALE)
    environ.update(extra)
    module.run_command_environ_update = environ
    return environ


# --------------------------------------------------------------------------- files

def write_atomic(path, data, mode=0o644, move=None, tmpdir=None):
    """Write ``data`` (bytes or str) to ``path`` so that readers see the old or the new file, never a part.

    The data goes to a temporary file in the target's directory (same file system), is flushed
    to disk, gets ``mode``, and is moved over ``path`` by ``move(src, dest)``: pass
    ``module.atomic_move`` in a module (it keeps SELinux contexts and owners), ``os.replace``
    is the default elsewhere. ``atomic_move`` gives a new file the umask's mode, so ``mode`` is
    applied again after it; an existing file keeps its own mode and owner. A failure leaves
    ``path`` as it was and no temporary file behind.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    directory = tmpdir or os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        creating = not os.path.exists(path)
        (move or os.replace)(tmp, path)
        if creating and move is not None:
            os.chmod(path, mode)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return path


# --------------------------------------------------------------------------- files we are pointed at

MAX_CONFIG_BYTES = 1024 * 1024


_MOUNT_ESCAPE_RE = re.compile(r'\\([0-7]{3})')


def parse_mounts(text):
    """``[(mount point, fs type)]`` from the text of ``/proc/self/mounts``.

    The kernel writes a space, a tab, a newline and a backslash in a path as an octal escape
    (``\\040``); only those are decoded, so a path with non-ASCII characters (written as they
    are) comes back unchanged.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append((_MOUNT_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 8)), fields[1]), fields[2]))
    return mounts


class FileCheckError(ValueError):
    """A file we were pointed at is not what it must be; the message names it."""


def has_control(text, allow='\t'):
    """Whether ``text`` holds a NUL or a control character (other than those in ``allow``)."""
    return any((ord(ch) < 32 or ord(ch) == 127) and ch not in allow for ch in str(text))


def check_file(path, kinds=('file',), max_bytes=MAX_CONFIG_BYTES, under=None, name=None):
    """``os.stat`` of ``path`` after checking it is what we may read or replace; ``None`` when missing.

    ``kinds``: ``'file'`` (a regular file) and/or ``'link'`` (a symbolic link to a regular
    file, checked through the link: the result is the target's stat). A directory, a device, a
    FIFO, a dangling link, a link where ``'link'`` is not allowed, a file larger than
    ``max_bytes`` or (with ``under``) a path that resolves outside the directory ``under`` raises
    :class:`FileCheckError` naming ``name`` (the option) and the path.
    """
    label = '%s %s' % (name, path) if name else str(path)
    if has_control(path, allow=''):
        raise FileCheckError('%s: the path holds a NUL or control character' % label)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileCheckError('%s: cannot be read (%s)' % (label, exc.strerror or exc))
    if _stat.S_ISLNK(st.st_mode):
        if 'link' not in kinds:
            raise FileCheckError('%s is a symbolic link (to %s); refusing to follow it' % (label, os.readlink(path)))
        try:
            st = os.stat(path)
        except OSError:
            raise FileCheckError('%s is a symbolic link to %s, which does not exist' % (label, os.readlink(path)))
    if _stat.S_ISDIR(st.st_mode):
        raise FileCheckError('%s is a directory, not a file' % label)
    if not _stat.S_ISREG(st.st_mode):
        raise FileCheckError('%s is not a regular file' % label)
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileCheckError('%s is %s, more than the %s such a file may have' % (
            label, human_size(st.st_size), human_size(max_bytes)))
    if under is not None:
        real, base = os.path.realpath(path), os.path.realpath(under)
        if os.path.commonpath([real, base]) != base:
            raise FileCheckError('%s resolves to %s, outside %s' % (label, real, base))
    return st


def read_checked(path, kinds=('file',), max_bytes=MAX_CONFIG_BYTES, under=None, name=None):
    """The UTF-8 text of a file :func:`check_file` accepts (``None`` when missing); never more than ``max_bytes``."""
    if check_file(path, kinds, max_bytes, under, name) is None:
        return None
    label = '%s %s' % (name, path) if name else str(path)
    try:
        with open(path, 'rb') as handle:
            data = handle.read(max_bytes + 1 if max_bytes is not None else -1)
    except OSError as exc:
        raise FileCheckError('%s: cannot be read (%s)' % (label, exc.strerror or exc))
    if max_bytes is not None and len(data) > max_bytes:
        raise FileCheckError('%s grew past %s while it was read' % (label, human_size(max_bytes)))
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise FileCheckError('%s is not UTF-8 text (byte %d)' % (label, exc.start))
