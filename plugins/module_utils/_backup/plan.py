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


def compare_tree(target, top, records, always_hash=False, owners=True):
    """Compare the tree at ``target`` (archived as ``top``) with index ``records``.

    Returns ``{'created': [...], 'changed': [{'path', 'changes'}], 'removed': [...], 'same': n}``
    from the point of view of a restore (created = in the backup, missing live).
    """
    backup = {}
    order = []
    for record in records:
        backup[record['path']] = record
        order.append(record['path'])
    result = {'created': [], 'changed': [], 'removed': [], 'same': 0}
    present = set()
    if os.path.lexists(target):
        for full, arc, _rel in walk_source(target, top):
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue
            present.add(arc)
            record = backup.get(arc)
            if record is None:
                result['removed'].append(arc)
                continue
            found = differences(full, st, record, always_hash=always_hash, owners=owners)
            if found:
                result['changed'].append({'path': arc, 'changes': found})
            else:
                result['same'] += 1
    result['created'] = [path for path in order if path not in present]
    return result


def has_changes(result):
    return bool(result['created'] or result['changed'] or result['removed'])


def summary(result):
    return {'created': len(result['created']), 'changed': len(result['changed']),
            'removed': len(result['removed']), 'same': result['same']}


def render_diff(target, result, records_by_path):
    """Ansible ``diff`` dict for one restored tree."""
    before, after = [], []
    for path in result['removed']:
        before.append('%s (only live: removed by the restore)' % path)
    for item in result['changed']:
        before.append('%s: %s' % (item['path'], ', '.join(item['changes'])))
        after.append(describe(records_by_path[item['path']]))
    for path in result['created']:
        after.append(describe(records_by_path[path]))

    def clip(lines):
        if len(lines) > DIFF_LIMIT:
            lines = lines[:DIFF_LIMIT] + ['... %d more' % (len(lines) - DIFF_LIMIT)]
        return '\n'.join(lines) + ('\n' if lines else '')

    return {'before_header': '%s (live)' % target, 'after_header': '%s (backup)' % target,
            'before': clip(before), 'after': clip(after)}
