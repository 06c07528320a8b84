# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd journal vacuum: which archived files ``journalctl --vacuum-*`` removes, and how much that frees.

Private to this collection: no compatibility promise.

:func:`plan` follows journald's own vacuum rules, per journal directory: only archived files
(``<name>@<seqnum-id>-<seqnum>-<realtime>.journal``) and corrupted ones (``*.journal~``) are
candidates, never the active ``system.journal`` / ``user-*.journal``; candidates are taken
oldest first (by sequence number within one sequence, else by the head time in the name) and
removed until the first file that is within every limit - newer than ``vacuum_time``, total
usage of the directory (active files included) at most ``vacuum_size``, at most
``vacuum_files`` files left. Usage is the allocated size (``st_blocks * 512``), as journald counts.
Archived files without entries (shorter than a header, or ``n_entries`` 0) are removed
whatever the limits, as journald does. The real run is journalctl's, one
``journalctl --directory=<dir>`` per directory the plan measured (so it acts on exactly what
was previewed, never on the system journal instead); the module compares the files before
and after to report what was actually removed.
"""

from __future__ import annotations

import os
import re

from ansible_collections.cloudos.ops.plugins.module_utils._common import MAX_DURATION, has_control, human_size

_ARCHIVED = re.compile(r'^(?P<prefix>.+)@(?P<seqid>[0-9a-f]{32})-(?P<seqnum>[0-9a-f]{16})-(?P<realtime>[0-9a-f]{16})\.journal$')
_CORRUPTED = re.compile(r'^(?P<prefix>.+)@(?P<realtime>[0-9a-f]{16})-(?P<random>[0-9a-f]{16})\.journal~$')
_SIZE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([KMGTPE]?)(i?B?)?\s*$', re.I)
_SPAN_UNITS = [
    (('us', 'usec'), 1e-6), (('ms', 'msec'), 1e-3), (('s', 'sec', 'second', 'seconds', ''), 1),
    (('m', 'min', 'minute', 'minutes'), 60), (('h', 'hr', 'hour', 'hours'), 3600),
    (('d', 'day', 'days'), 86400), (('w', 'week', 'weeks'), 604800),
    (('M', 'month', 'months'), 2629800), (('y', 'year', 'years'), 31557600),
]
_SPAN = re.compile(r'(\d+(?:\.\d+)?)\s*([A-Za-z]*)')
DIRECTORIES = ('/var/log/journal', '/run/log/journal')
MAX_SIZE = 2 ** 63 - 1
MAX_FILES = 2 ** 31 - 1
MAX_SPAN = MAX_DURATION


class JournalError(Exception):
    """Bad input or a failed vacuum; the message names the parameter and the value.

    ``result`` holds what the module returns with the failure (empty for bad input).
    """

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.result = result or {}


def parse_size(text, name='vacuum_size'):
    """journalctl sizes (``500M``, ``1G``, ``4096``, base 1024) -> bytes; empty -> None."""
    if text in (None, ''):
        return None
    match = _SIZE.match(str(text))
    if not match:
        raise JournalError('%s must be a size such as 500M or 1G, got %r' % (name, text))
    number, unit = float(match.group(1)), match.group(2).upper()
    power = 'KMGTPE'.index(unit) + 1 if unit else 0
    return int(number * (1024 ** power))


def _unit_factor(unit):
    """Seconds per unit; ``m`` is minutes and ``M`` months, as in systemd."""
    if unit in ('m', 'M'):
        return 60 if unit == 'm' else 2629800
    for names, factor in _SPAN_UNITS:
        if unit.lower() in [n.lower() for n in names if n not in ('m', 'M')]:
            return factor
    return None


def parse_timespan(text, name='vacuum_time'):
    """journalctl time spans (``7d``, ``2weeks``, ``1h 30min``, ``1s``) -> seconds; empty -> None."""
    if text in (None, ''):
        return None
    rest = str(text).strip()
    total = 0.0
    pos = 0
    found = False
    for match in _SPAN.finditer(rest):
        if rest[pos:match.start()].strip():
            raise JournalError('%s must be a time span such as 7d, 2weeks or 12h, got %r' % (name, text))
        number, unit = float(match.group(1)), match.group(2)
        factor = _unit_factor(unit)
        if factor is None:
            raise JournalError('%s: unknown unit %r in %r' % (name, unit, text))
        total += number * factor
        pos = match.end()
        found = True
    if not found or rest[pos:].strip():
        raise JournalError('%s must be a time span such as 7d, 2weeks or 12h, got %r' % (name, text))
    return total


def classify(name):
    """``('active'|'archived'|'corrupted'|None, info)`` for a file name of a journal directory."""
    match = _ARCHIVED.match(name)
    if match:
        return 'archived', {'seqid': match.group('seqid'), 'seqnum': int(match.group('seqnum'), 16),
                            'realtime': int(match.group('realtime'), 16)}
    match = _CORRUPTED.match(name)
    if match:
        return 'corrupted', {'seqid': None, 'seqnum': None, 'realtime': int(match.group('realtime'), 16)}
    if name.endswith('.journal') and '@' not in name:
        return 'active', {}
    return None, {}


def _sort_key(item):
    return (item['realtime'], item['name'])


def _older(a, b):
    """journald's order: by sequence number within one sequence, else by head time."""
    if a['seqid'] and a['seqid'] == b['seqid']:
        return a['seqnum'] < b['seqnum'] if a['seqnum'] != b['seqnum'] else a['name'] < b['name']
    if a['realtime'] != b['realtime']:
        return a['realtime'] < b['realtime']
    return a['name'] < b['name']


def _sorted(items):
    import functools

    def cmp(first, second):
        if _older(first, second):
            return -1
        if _older(second, first):  # pylint: disable=arguments-out-of-order
            return 1
        return 0
    return sorted(items, key=functools.cmp_to_key(cmp))


def plan_directory(files, now_usec, vacuum_size=None, vacuum_files=None, vacuum_time=None):
    """Files journald removes from one directory. ``files``: ``[{name, path, bytes}]``.

    Returns ``(remove, keep_usage)``: the files to remove (oldest first) and the usage left.
    """
    active = []
    candidates = []
    for item in files:
        kind, info = classify(item['name'])
        if kind == 'active':
            active.append(item)
        elif kind in ('archived', 'corrupted'):
            entry = dict(item)
            entry.update(info)
            entry['kind'] = kind
            candidates.append(entry)
    if not vacuum_size and not vacuum_files and not vacuum_time:
        return [], sum(i['bytes'] for i in active) + sum(i['bytes'] for i in candidates)
    # journald always removes an archived file without entries, whatever the limits.
    empty = [i for i in candidates if i.get('empty')]
    candidates = [i for i in candidates if not i.get('empty')]
    total = sum(i['bytes'] for i in active) + sum(i['bytes'] for i in candidates)
    limit_usec = now_usec - int(vacuum_time * 1000000) if vacuum_time else None
    ordered = _sorted(candidates)
    remove = _sorted(empty)
    for index, item in enumerate(ordered):
        left = len(active) + len(ordered) - index
        if ((limit_usec is None or item['realtime'] >= limit_usec)
                and (not vacuum_size or total <= vacuum_size)
                and (not vacuum_files or left <= vacuum_files)):
            break
        remove.append(item)
        total -= item['bytes']
    return remove, total


def plan(directories, now_usec, vacuum_size=None, vacuum_files=None, vacuum_time=None):
    """``directories``: ``{path: [{name, path, bytes}]}`` -> the whole plan."""
    out = {'directories': [], 'remove': [], 'bytes': 0, 'usage': 0, 'usage_after': 0}
    for path in sorted(directories):
        files = directories[path]
        usage = sum(f['bytes'] for f in files)
        remove, left = plan_directory(files, now_usec, vacuum_size, vacuum_files, vacuum_time)
        out['directories'].append({'path': path, 'usage': usage, 'files': len(files), 'remove': len(remove),
                                   'usage_after': left})
        for item in remove:
            out['remove'].append({'path': item['path'], 'bytes': item['bytes'], 'kind': item['kind'],
                                  'head_realtime_usec': item['realtime']})
        out['bytes'] += usage - left
        out['usage'] += usage
        out['usage_after'] += left
    return out


# Where journald reads a file's entry count (``Header.n_entries``), and the smallest header.
_N_ENTRIES_OFFSET = 152
_HEADER_BYTES = 264


def _empty(path, st):
    """Whether journald counts an archived file as empty (and removes it whatever the limits)."""
    if st.st_size < _HEADER_BYTES:
        return True
    try:
        with open(path, 'rb') as handle:
            handle.seek(_N_ENTRIES_OFFSET)
            count = handle.read(8)
    except OSError:
        return False
    return len(count) == 8 and count == b'\0' * 8


def scan(roots=DIRECTORIES):
    """``{directory: [{name, path, bytes}]}`` for every journal directory under ``roots``.

    Like journalctl, the machine-id subdirectories (and any namespace ones) are separate
    directories, each vacuumed on its own; files directly under a root count too.
    """
    found = {}
    for root in roots:
        if not os.path.isdir(root):
            continue
        candidates = [root] + [os.path.join(root, d) for d in sorted(os.listdir(root))
                               if os.path.isdir(os.path.join(root, d)) and not os.path.islink(os.path.join(root, d))]
        for directory in candidates:
            files = []
            for name in sorted(os.listdir(directory)):
                path = os.path.join(directory, name)
                if not (name.endswith('.journal') or name.endswith('.journal~')):
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                entry = {'name': name, 'path': path, 'bytes': st.st_blocks * 512}
                if classify(name)[0] in ('archived', 'corrupted') and _empty(path, st):
                    entry['empty'] = True
                files.append(entry)
            if files:
                found[directory] = files
    return found


def vacuum_args(vacuum_size=None, vacuum_files=None, vacuum_time=None):
    args = []
    if vacuum_size:
        args.append('--vacuum-size=%s' % vacuum_size)
    if vacuum_files:
        args.append('--vacuum-files=%d' % int(vacuum_files))
    if vacuum_time:
        args.append('--vacuum-time=%s' % vacuum_time)
    return args


def vacuum_commands(journalctl, found, params):
    """One ``journalctl --directory=<dir> --vacuum-*`` per journal directory :func:`scan` found.

    The real run acts on exactly the directories the plan measured (``found``), never on the
    system journal when other ``directories`` were given; nothing found, nothing run.
    """
    limits = vacuum_args(params['vacuum_size'], params['vacuum_files'], params['vacuum_time'])
    return [[journalctl, '--directory=%s' % directory] + limits for directory in sorted(found)]


def check_params(params):
    """``(size, span)`` from the module's options, or JournalError naming the bad one."""
    for name in ('vacuum_size', 'vacuum_time'):
        if params[name] is not None and has_control(params[name], allow=''):
            raise JournalError('%s: %r holds a NUL or control character' % (name, params[name]))
    for directory in params.get('directories') or []:
        if has_control(directory, allow='') or not os.path.isabs(directory):
            raise JournalError('directories: %r must be an absolute path without control characters' % (directory,))
    size = parse_size(params['vacuum_size'])
    span = parse_timespan(params['vacuum_time'])
    if params['vacuum_files'] is not None and params['vacuum_files'] < 1:
        raise JournalError('vacuum_files must be at least 1, got %r' % params['vacuum_files'])
    if params['vacuum_files'] is not None and params['vacuum_files'] > MAX_FILES:
        raise JournalError('vacuum_files must be at most %d, got %r' % (MAX_FILES, params['vacuum_files']))
    if size is not None and size <= 0:
        raise JournalError('vacuum_size must be more than 0, got %r' % params['vacuum_size'])
    if size is not None and size > MAX_SIZE:
        raise JournalError('vacuum_size must be at most 8E (journald\'s limit), got %r' % params['vacuum_size'])
    if span is not None and span > MAX_SPAN:
        raise JournalError('vacuum_time must be at most 100 years, got %r' % params['vacuum_time'])
    return size, span


def listing(found):
    """Diff text of ``{directory: [{path, bytes}]}``: one ``path size`` line per file."""
    lines = []
    for directory in sorted(found):
        for item in found[directory]:
            lines.append('%s %s' % (item['path'], human_size(item['bytes'])))
    return '\n'.join(lines) + ('\n' if lines else '')


def _removed(before, after):
    paths_after = set(f['path'] for files in after.values() for f in files)
    return [dict(path=f['path'], bytes=f['bytes']) for files in before.values() for f in files
            if f['path'] not in paths_after]


def vacuum(params, limits, journalctl, run, now_usec, check_mode=False, diff_mode=False):
    """The module's run: plan, then (unless ``check_mode``) let journalctl vacuum and report what went.

    ``limits``: :func:`check_params`' answer; ``run(argv) -> (rc, stdout, stderr)``. Raises
    JournalError (with the result so far) when journalctl fails.
    """
    size, span = limits
    before = scan(params['directories'])
    planned = plan(before, now_usec, size, params['vacuum_files'], span)
    out = dict(changed=False, usage_before=planned['usage'], directories=planned['directories'])
    if not check_mode:
        output = []
        for argv in vacuum_commands(journalctl, before, params):
            rc, stdout, stderr = run(argv)
            output.append((stderr or '') + (stdout or ''))
            if rc != 0:
                raise JournalError('%s failed (rc %d): %s' % (' '.join(argv), rc, (stderr or stdout).strip()), out)
        after = scan(params['directories'])
        removed = _removed(before, after)
        out.update(removed=removed, bytes_freed=sum(r['bytes'] for r in removed),
                   usage_after=sum(f['bytes'] for files in after.values() for f in files),
                   journalctl_output=''.join(output))
    else:
        planned_paths = set(r['path'] for r in planned['remove'])
        after = dict((d, [f for f in files if f['path'] not in planned_paths]) for d, files in before.items())
        removed = planned['remove']
        out.update(removed=removed, bytes_freed=planned['bytes'], usage_after=planned['usage_after'])
    out['changed'] = bool(removed)
    if removed and diff_mode:
        out['diff'] = {'before': listing(before), 'after': listing(after)}
    rc, stdout, stderr = run([journalctl, '--disk-usage'])
    out['disk_usage'] = (stdout or stderr).strip()
    out['msg'] = '%s %d archived journal file(s), %s' % (
        'would remove' if check_mode else 'removed', len(out['removed']), human_size(out['bytes_freed']))
    return out
