# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup set names, layout and manifests.

A set is the directory ``<dest>/<backup_id>/`` holding one archive (plus one file index)
per source and ``MANIFEST.json``. It is built as ``<dest>/.incomplete-<backup_id>-<pid>``
and renamed into place as the very last step, so a directory with a plain name and a
readable manifest of our format is, by construction, complete.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import re
import stat

from ansible_collections.cloudos.ops.plugins.module_utils import _common

FORMAT = 'cloudos-backup'
FORMAT_VERSION = 1
TOOL_NAME = 'cloudos.ops.cloudos_backup'
TOOL_VERSION = '0.1.0'
MANIFEST = 'MANIFEST.json'
INCOMPLETE_PREFIX = '.incomplete-'
REPLACED_PREFIX = '.replaced-'
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'

_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$')
_SHA_RE = re.compile(r'^[0-9a-f]{64}$')
_VOLUME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')
# Ids with a meaning of their own in backup_id: a set may not be written under them.
RESERVED_IDS = ('latest', 'all')
# A manifest is a few KiB per source; anything bigger than this is not one of ours.
MAX_MANIFEST_BYTES = 8 << 20
SOURCE_KINDS = ('path', 'volume', 'system_state')
# A set dated more than this many seconds after now is "in the future" (clock or edit).
FUTURE_SLACK = 300
_LEFTOVER_RE = re.compile(r'^\.(?:incomplete|replaced|deleting)-(?P<id>.+)-(?P<pid>[0-9]+)$')


class BackupError(Exception):
    """An error to report to the user as is (the message names what is wrong)."""


def default_backup_id(now=None):
    now = now or utcnow()
    return now.strftime('%Y%m%dT%H%M%SZ')


def utcnow():
    """Now in UTC to the second (manifest times carry no fraction)."""
    return _common.utcnow().replace(microsecond=0)


def format_time(when):
    """A manifest time: RFC 3339 in UTC, whole seconds (:data:`TIME_FORMAT`)."""
    return _common.rfc3339(when)


def parse_time(text):
    """A manifest time back to an aware datetime; anything but :data:`TIME_FORMAT` raises ValueError.

    Deliberately stricter than ``_common.parse_time``: a manifest is untrusted input, and a time
    this code never writes (another zone, a fraction) means it is not one of our manifests.
    """
    return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)


def validate_backup_id(backup_id, writing=False):
    """Raise BackupError unless ``backup_id`` is a safe single path component.

    ``writing``: the id names a set to write (state=present), so the reserved ids
    (:data:`RESERVED_IDS`, in any case) are refused as well.
    """
    if not isinstance(backup_id, str) or not backup_id:
        raise BackupError('backup_id: must be a non-empty string, got %r' % (backup_id,))
    if '/' in backup_id or '\\' in backup_id or '\0' in backup_id:
        raise BackupError('backup_id: %r contains a path separator; use a single name such as 20240131' % backup_id)
    if backup_id in ('.', '..') or not _ID_RE.match(backup_id):
        raise BackupError('backup_id: %r is not allowed; use letters, digits, ".", "_", "+" or "-" '
                          '(at most 128, not starting with "." or "-")' % backup_id)
    if writing and backup_id.lower() in RESERVED_IDS:
        raise BackupError('backup_id: %r is reserved (it selects sets for verified and restored); '
                          'choose another name for a new set' % backup_id)
    return backup_id


def slug(text):
    cleaned = re.sub(r'[^A-Za-z0-9._-]+', '_', text.strip('/')) or 'root'
    return cleaned.strip('._') or 'root'


def archive_names(kind, name, taken):
    """Return unique ``(archive, index)`` file names for a source."""
    base = '%s-%s' % (kind, slug(name))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = '%s-%d' % (base, number)
    taken.add(candidate)
    return candidate + '.tar.gz', candidate + '.index.jsonl'


def incomplete_name(backup_id, pid=None):
    return '%s%s-%d' % (INCOMPLETE_PREFIX, backup_id, os.getpid() if pid is None else pid)


def parse_leftover(name):
    """``(backup_id, pid)`` for names of interrupted work, else None."""
    match = _LEFTOVER_RE.match(name)
    if not match:
        return None
    return match.group('id'), int(match.group('pid'))


def pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def build_manifest(backup_id, host, started, finished, compression, sources, archives, warnings):
    return {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'backup_id': backup_id,
        'host': host,
        'created_at': format_time(started),
        'finished_at': format_time(finished),
        'duration_s': round((finished - started).total_seconds(), 3),
        'tool': {'name': TOOL_NAME, 'version': TOOL_VERSION},
        'compression': compression,
        'sources': sources,
        'archives': archives,
        'warnings': warnings,
    }


def safe_file_name(name):
    """True for a plain file name inside a set directory (no separator, no ``..``, not hidden)."""
    return (isinstance(name, str) and 0 < len(name) <= 255 and '/' not in name and '\0' not in name
            and not name.startswith('.') and name != MANIFEST)


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def normal_path(path):
    """True when ``path`` is an absolute, normalised path without NUL (what we write as a source name)."""
    return (isinstance(path, str) and path.startswith('/') and '\0' not in path
            and os.path.normpath(path) == path and not path.startswith('//'))


def _check_source(number, src, archives, taken):
    """Check one entry of ``sources`` against the archives of the set; raise ValueError naming it."""
    where = 'sources[%d]' % number
    if not isinstance(src, dict):
        raise ValueError('%s is not an object' % where)
    kind = src.get('kind')
    if kind not in SOURCE_KINDS:
        raise ValueError('%s has an unknown kind %r' % (where, kind))
    name = src.get('name')
    if not isinstance(name, str) or not name:
        raise ValueError('%s has no name' % where)
    for key in ('archive', 'index'):
        if not safe_file_name(src.get(key)):
            raise ValueError('%s.%s %r is not a file name inside the set' % (where, key, src.get(key)))
        if src[key] not in archives:
            raise ValueError('%s.%s %r is not listed (with its checksum) in archives' % (where, key, src[key]))
    root = src.get('root')
    if not safe_file_name(root) and root != 'system-state':
        raise ValueError('%s.root %r is not a single name' % (where, root))
    if kind == 'path':
        if not normal_path(name):
            raise ValueError('%s.name %r is not an absolute, normalised path' % (where, name))
        if root != (os.path.basename(name) or 'root'):
            raise ValueError('%s.root %r does not match its name %r' % (where, root, name))
    elif kind == 'volume':
        if not _VOLUME_RE.match(name):
            raise ValueError('%s.name %r is not a Docker volume name' % (where, name))
        if not isinstance(src.get('driver'), (str, type(None))):
            raise ValueError('%s.driver %r is not a string' % (where, src.get('driver')))
        for key in ('labels', 'options'):
            value = src.get(key) or {}
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in value.items()):
                raise ValueError('%s.%s is not an object of strings' % (where, key))
    # Archive names follow from the source names (archive_names): an edited name no longer matches.
    expected = archive_names('system', 'state', taken) if kind == 'system_state' else archive_names(kind, name, taken)
    if (src['archive'], src['index']) != expected:
        raise ValueError('%s (%s %r) does not match its archive %r (a set written for it has %r)'
                         % (where, kind, name, src['archive'], expected[0]))


def check_manifest(data):
    """Check the structure of a parsed manifest; raise ValueError naming the first bad field."""
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise ValueError('not a %s manifest' % FORMAT)
    version = data.get('format_version')
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError('format_version is %r; this version reads %d' % (version, FORMAT_VERSION))
    for key in ('backup_id', 'created_at', 'sources', 'archives'):
        if key not in data:
            raise ValueError('lacks %r' % key)
    if not isinstance(data['backup_id'], str):
        raise ValueError('backup_id %r is not a string' % (data['backup_id'],))
    try:
        parse_time(data['created_at'])
    except (TypeError, ValueError):
        raise ValueError('has a bad created_at %r' % (data['created_at'],))
    archives = data['archives']
    if not isinstance(archives, dict):
        raise ValueError('archives is not an object')
    for name, meta in archives.items():
        if not safe_file_name(name) or not isinstance(meta, dict) or not _count(meta.get('size')) \
                or not isinstance(meta.get('sha256'), str) or not _SHA_RE.match(meta['sha256']):
            raise ValueError('has a bad archive entry %r' % (name,))
    if not isinstance(data['sources'], list):
        raise ValueError('sources is not a list')
    taken, seen = set(), set()
    for number, src in enumerate(data['sources']):
        key = (src.get('kind'), src.get('name')) if isinstance(src, dict) else None
        if key in seen:
            raise ValueError('sources[%d] repeats %s %r' % (number, key[0], key[1]))
        _check_source(number, src, archives, taken)
        seen.add(key)
    for key in ('warnings', 'skipped'):
        if not isinstance(data.get(key, []), list):
            raise ValueError('%s is not a list' % key)
    return data


def parse_manifest(text, where=MANIFEST):
    """Parse and check a manifest; raise BackupError (naming ``where``) when it is not a complete one of ours."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BackupError('%s is not valid JSON: %s' % (where, exc))
    except RecursionError:
        raise BackupError('%s is nested too deeply to be a manifest' % where)
    try:
        return check_manifest(data)
    except ValueError as exc:
        raise BackupError('%s %s' % (where, exc))


def read_manifest(set_dir):
    """Read and check ``<set_dir>/MANIFEST.json`` (a regular file, at most MAX_MANIFEST_BYTES, UTF-8)."""
    path = os.path.join(set_dir, MANIFEST)
    with open_regular(path) as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise BackupError('%s is larger than %d bytes; not a manifest of ours' % (path, MAX_MANIFEST_BYTES))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise BackupError('%s is not UTF-8 text: %s' % (path, exc))
    return parse_manifest(text, path)


def open_regular(path):
    """Open ``path`` for binary reading; refuse a symlink (never followed) or anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BackupError('%s is a symlink, not a file of the set' % path)
        raise BackupError('%s is unreadable: %s' % (path, exc.strerror or exc))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BackupError('%s is not a regular file' % path)
    return os.fdopen(fd, 'rb')


def has_manifest(set_dir):
    return os.path.lexists(os.path.join(set_dir, MANIFEST))


def split_future(complete, now=None):
    """``(usable, future)``: sets dated more than FUTURE_SLACK seconds after ``now`` go to ``future``."""
    limit = (now or utcnow()) + datetime.timedelta(seconds=FUTURE_SLACK)
    usable = [item for item in complete if item['time'] <= limit]
    future = [item for item in complete if item['time'] > limit]
    return usable, future


def printable(value):
    """``value`` with every string made valid UTF-8 (a non-UTF-8 file name's bytes shown as ``\\xNN``).

    File names are read with surrogateescape; a result carrying them could not be sent back
    to the controller.
    """
    if isinstance(value, str):
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:
            return value.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
        return value
    if isinstance(value, dict):
        return dict((printable(k), printable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def list_sets(dest):
    """Scan ``dest``. Returns ``(complete, others)``.

    ``complete``: list of dicts ``{id, path, time, manifest}`` oldest first.
    ``others``: names that look like sets but are not complete (reason given), and leftovers.
    """
    complete, others = [], []
    try:
        names = sorted(os.listdir(dest))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return complete, others
        raise BackupError('dest: cannot list %s: %s' % (dest, exc.strerror))
    for name in names:
        path = os.path.join(dest, name)
        if name.startswith('.'):
            leftover = parse_leftover(name)
            if leftover:
                others.append({'name': name, 'path': path, 'leftover': True, 'pid': leftover[1],
                               'reason': 'left over by an interrupted run'})
            continue
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        try:
            manifest = read_manifest(path)
        except BackupError as exc:
            # A directory without MANIFEST.json is no set (lost+found, an operator's copy); one
            # with a manifest that does not pass the checks is a damaged set ("malformed").
            others.append({'name': name, 'path': path, 'leftover': False, 'reason': str(exc),
                           'malformed': has_manifest(path)})
            continue
        if manifest['backup_id'] != name:
            others.append({'name': name, 'path': path, 'leftover': False, 'malformed': True,
                           'reason': '%s names set %r' % (os.path.join(path, MANIFEST), manifest['backup_id'])})
            continue
        complete.append({'id': name, 'path': path, 'time': parse_time(manifest['created_at']), 'manifest': manifest})
    complete.sort(key=lambda item: (item['time'], item['id']))
    return complete, others
