# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a live tree with a backup's file index.

Used for ``--check``/``--diff`` of a restore (what would be created, changed, removed),
for restore idempotence, and by the restore drill (restored files against the index and
against the live data).
"""

from __future__ import annotations

import hashlib
import os
import stat

from ansible_collections.cloudos.ops.plugins.module_utils._backup.archive import walk_source

DIFF_LIMIT = 500


def file_sha256(path):
    sha = hashlib.sha256()
    with open(path, 'rb', buffering=0) as handle:
        while True:
            data = handle.read(1 << 20)
            if not data:
                break
            sha.update(data)
    return sha.hexdigest()


def _kind(mode):
    if stat.S_ISREG(mode):
        return 'file'
    if stat.S_ISDIR(mode):
        return 'dir'
    if stat.S_ISLNK(mode):
        return 'symlink'
    if stat.S_ISFIFO(mode):
        return 'fifo'
    return 'special'


def describe(record):
    """One line describing an index record or a live entry."""
    text = '%s %s %s %s:%s' % (record['path'], record['type'], record.get('mode', '-'), record.get('uid', '-'),
                               record.get('gid', '-'))
    if record['type'] == 'file':
        text += ' %s bytes' % record.get('size', '?')
        if record.get('sha256'):
            text += ' sha256:%s' % record['sha256'][:16]
    if record.get('link'):
        text += ' -> %s' % record['link']
    return text


def live_record(full, arc, st=None, with_hash=False):
    st = st or os.lstat(full)
    record = {'path': arc, 'type': _kind(st.st_mode), 'mode': '%04o' % stat.S_IMODE(st.st_mode),
              'uid': st.st_uid, 'gid': st.st_gid, 'mtime': int(st.st_mtime)}
    if record['type'] == 'file':
        record['size'] = st.st_size
        if with_hash:
            record['sha256'] = file_sha256(full)
    elif record['type'] == 'symlink':
        record['link'] = os.readlink(full)
    return record


def differences(full, st, record, always_hash=False, owners=True):
    """List what differs between the live entry and the index record ([] when equal)."""
    kind = _kind(st.st_mode)
    wanted = 'file' if record['type'] == 'hardlink' else record['type']
    if kind != wanted:
        return ['type %s -> %s' % (kind, wanted)]
    found = []
    mode = '%04o' % stat.S_IMODE(st.st_mode)
    if record['type'] != 'hardlink':
        if kind != 'symlink' and mode != record['mode']:
            found.append('mode %s -> %s' % (mode, record['mode']))
        if owners and (st.st_uid, st.st_gid) != (record['uid'], record['gid']):
            found.append('owner %d:%d -> %d:%d' % (st.st_uid, st.st_gid, record['uid'], record['gid']))
    if kind == 'symlink':
        link = os.readlink(full)
        if link != record.get('link'):
            found.append('link %s -> %s' % (link, record.get('link')))
    elif kind == 'file' and record['type'] == 'file':
        if st.st_size != record['size']:
            found.append('content (size %d -> %d)' % (st.st_size, record['size']))
        elif always_hash or int(st.st_mtime) != record['mtime']:
            if file_sha256(full) != record['sha256']:
                found.append('content')
    if kind not in ('symlink',) and record['type'] != 'hardlink' and int(st.st_mtime) != record['mtime'] \
            and not any(item.startswith('content') for item in found) and kind != 'dir':
        found.append('mtime')
    return found


def walk_key(arc):
    """Sort key giving exactly the order in which ``walk_source`` yields ``arc``.

    ``walk_source`` lists all entries of a directory (by name) before it descends into its
    subdirectories (in the same order), so an entry's last component sorts before any
    directory component at the same depth.
    """
    parts = arc.split('/')[1:]
    if not parts:
        return ()
    return tuple((1, part) for part in parts[:-1]) + ((0, parts[-1]),)


class _Unordered(Exception):
    pass


class _Result(object):
    """Counts everything, keeps the first ``limit`` paths of each kind (memory stays bounded)."""

    def __init__(self, limit):
        self.limit = limit
        self.data = {'created': [], 'changed': [], 'removed': [], 'same': 0,
                     'counts': {'created': 0, 'changed': 0, 'removed': 0}, 'records': {}}

    def add(self, kind, path, value, record=None):
        self.data['counts'][kind] += 1
        if len(self.data[kind]) < self.limit:
            self.data[kind].append(value)
            if record is not None:
                self.data['records'][path] = record


def _merge(target, top, records, always_hash, owners, limit, strict):
    result = _Result(limit)
    live = walk_source(target, top) if target and os.path.lexists(target) else iter(())
    pending = iter(records)
    last = None

    def advance():
        nonlocal last
        record = next(pending, None)
        if record is None:
            return None, None
        key = walk_key(record['path'])
        if strict and last is not None and key <= last:
            raise _Unordered(record['path'])
        last = key
        return record, key

    record, rkey = advance()
    for full, arc, _rel in live:
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            continue
        key = walk_key(arc)
        while record is not None and rkey < key:
            result.add('created', record['path'], record['path'], record)
            record, rkey = advance()
        if record is None or rkey != key:
            result.add('removed', arc, arc)
            continue
        found = differences(full, st, record, always_hash=always_hash, owners=owners)
        if found:
            result.add('changed', arc, {'path': arc, 'changes': found}, record)
        else:
            result.data['same'] += 1
        record, rkey = advance()
    while record is not None:
        result.add('created', record['path'], record['path'], record)
        record, rkey = advance()
    return result.data


def compare_tree(target, top, records, always_hash=False, owners=True, limit=DIFF_LIMIT):
    """Compare the tree at ``target`` (archived as ``top``; None: nothing live) with index ``records``.

    ``records`` is a list or a callable returning a fresh iterator of index records (so an
    index file is streamed: memory does not grow with the number of files). The index is
    written in walk order, so the comparison is a merge of two sorted streams.

    Returns ``{'created', 'changed', 'removed'}`` (the first ``limit`` of each), ``same``,
    ``counts`` (all of them) and ``records`` (index records of the listed paths), from the
    point of view of a restore (created = in the backup, missing live).
    """
    opener = records if callable(records) else (lambda: records)
    try:
        return _merge(target, top, opener(), always_hash, owners, limit, strict=True)
    except _Unordered:
        # Not in walk order (not written by this collection): sort it in memory instead.
        unique = dict((record['path'], record) for record in opener())
        ordered = sorted(unique.values(), key=lambda record: walk_key(record['path']))
        return _merge(target, top, ordered, always_hash, owners, limit, strict=False)


def has_changes(result):
    return any(result['counts'].values())


def summary(result):
    return dict(result['counts'], same=result['same'])


def render_diff(target, result):
    """Ansible ``diff`` dict for one restored tree (the listed paths, then how many more)."""
    records_by_path = result['records']
    before, after = [], []
    for path in result['removed']:
        before.append('%s (only live: removed by the restore)' % path)
    for item in result['changed']:
        before.append('%s: %s' % (item['path'], ', '.join(item['changes'])))
        after.append(describe(records_by_path[item['path']]))
    for path in result['created']:
        after.append(describe(records_by_path[path]))

    counts = result['counts']
    hidden_before = counts['removed'] - len(result['removed']) + counts['changed'] - len(result['changed'])
    hidden_after = counts['created'] - len(result['created']) + counts['changed'] - len(result['changed'])

    def clip(lines, hidden):
        if len(lines) > DIFF_LIMIT:
            hidden += len(lines) - DIFF_LIMIT
            lines = lines[:DIFF_LIMIT]
        if hidden:
            lines = lines + ['... %d more' % hidden]
        return '\n'.join(lines) + ('\n' if lines else '')

    return {'before_header': '%s (live)' % target, 'after_header': '%s (backup)' % target,
            'before': clip(before, hidden_before), 'after': clip(after, hidden_after)}
