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


def validate_backup_id(backup_id):
    """Raise BackupError unless ``backup_id`` is a safe single path component."""
    if not isinstance(backup_id, str) or not backup_id:
        raise BackupError('backup_id: must be a non-empty string, got %r' % (backup_id,))
    if '/' in backup_id or '\\' in backup_id or '\0' in backup_id:
        raise BackupError('backup_id: %r contains a path separator; use a single name such as 20240131' % backup_id)
    if backup_id in ('.', '..') or not _ID_RE.match(backup_id):
        raise BackupError('backup_id: %r is not allowed; use letters, digits, ".", "_", "+" or "-" '
                          '(at most 128, not starting with "." or "-")' % backup_id)
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


def parse_manifest(text):
    """Parse and check a manifest; raise BackupError when it is not a complete one of ours."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BackupError('MANIFEST.json is not valid JSON: %s' % exc)
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise BackupError('MANIFEST.json is not a %s manifest' % FORMAT)
    if data.get('format_version') != FORMAT_VERSION:
        raise BackupError('MANIFEST.json has format_version %r; this version reads %d'
                          % (data.get('format_version'), FORMAT_VERSION))
    for key in ('backup_id', 'created_at', 'sources', 'archives'):
        if key not in data:
            raise BackupError('MANIFEST.json lacks %r' % key)
    try:
        parse_time(data['created_at'])
    except (TypeError, ValueError):
        raise BackupError('MANIFEST.json has a bad created_at %r' % (data['created_at'],))
    for name, meta in data['archives'].items():
        if '/' in name or name.startswith('.') or not isinstance(meta, dict) \
                or not re.match(r'^[0-9a-f]{64}$', str(meta.get('sha256', ''))):
            raise BackupError('MANIFEST.json has a bad archive entry %r' % name)
    return data


def read_manifest(set_dir):
    path = os.path.join(set_dir, MANIFEST)
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return parse_manifest(handle.read())
    except (IOError, OSError) as exc:
        raise BackupError('cannot read %s: %s' % (path, exc.strerror or exc))


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
            others.append({'name': name, 'path': path, 'leftover': False, 'reason': str(exc)})
            continue
        if manifest['backup_id'] != name:
            others.append({'name': name, 'path': path, 'leftover': False,
                           'reason': 'manifest names set %r' % manifest['backup_id']})
            continue
        complete.append({'id': name, 'path': path, 'time': parse_time(manifest['created_at']), 'manifest': manifest})
    complete.sort(key=lambda item: (item['time'], item['id']))
    return complete, others
