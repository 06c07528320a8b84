# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create, verify, prune and restore backup sets (the module calls these)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import tarfile
import time

from ansible_collections.cloudos.ops.plugins.module_utils._backup import archive as arch
from ansible_collections.cloudos.ops.plugins.module_utils._backup import plan as planmod
from ansible_collections.cloudos.ops.plugins.module_utils._backup import retention as ret
from ansible_collections.cloudos.ops.plugins.module_utils._backup import sets
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError
from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_mounts

SYSTEM_STATE_ITEMS = ('units', 'crontabs', 'packages', 'docker_volumes')
RESTORE_PREFIX = '.cloudos-restore-'


def _os_error(exc, what, dest):
    """Turn an OSError into a message that says what happened and where."""
    code = getattr(exc, 'errno', None)
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return 'dest %s is full (%s) while %s; the incomplete set was removed' % (dest, exc.strerror, what)
    if code == errno.EROFS:
        return 'dest %s is on a read-only file system (%s)' % (dest, what)
    if code in (errno.EACCES, errno.EPERM):
        return 'permission denied while %s: %s' % (what, exc)
    return '%s failed: %s' % (what, exc)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _root_only(path, is_dir):
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
    os.chmod(path, 0o700 if is_dir else 0o600)


class DestLock(object):
    """An exclusive, non-blocking lock on ``<dest>/.lock`` for the duration of a write."""

    def __init__(self, dest):
        self.path = os.path.join(dest, '.lock')
        self._fd = None

    def __enter__(self):
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise BackupError('another cloudos_backup run holds %s; try again when it has finished' % self.path)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        return False


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------
# Never sources: kernel and runtime views, not data (their content is made up on reading).
PSEUDO_ROOTS = ('/proc', '/sys', '/dev', '/run')
PSEUDO_FS = frozenset(('proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'securityfs', 'debugfs',
                       'tracefs', 'pstore', 'bpf', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'efivarfs',
                       'autofs', 'binfmt_misc', 'rpc_pipefs', 'nsfs', 'selinuxfs', 'ramfs'))
MOUNTS = '/proc/self/mounts'


def read_mounts(path=MOUNTS):
    """``[(mount point, fs type)]`` of this host ([] when the table cannot be read)."""
    try:
        with open(path, 'r', encoding='utf-8', errors='surrogateescape') as handle:
            return parse_mounts(handle.read())
    except (IOError, OSError):
        return []


def _under(path, top):
    return path == top or path.startswith(top.rstrip('/') + '/')


def pseudo_filesystem(real, mounts):
    """Why ``real`` (a resolved path) is or holds a pseudo-filesystem, or None."""
    for top in PSEUDO_ROOTS:
        if _under(real, top):
            return 'it is under %s' % top
    found = None
    for point, fstype in mounts:
        if _under(real, point) and (found is None or len(point) >= len(found[0])):
            found = (point, fstype)
    if found and found[1] in PSEUDO_FS:
        return 'it is on %s, a %s file system' % (found[0], found[1])
    for point, fstype in mounts:
        if fstype in PSEUDO_FS and point != real and _under(point, real):
            return 'it holds %s, a %s file system (back up the directories beside it instead)' % (point, fstype)
    return None


def check_source_location(option, name, location, dest, mounts):
    """Refuse a source that is a pseudo-filesystem or overlaps ``dest`` (raises BackupError)."""
    real = os.path.realpath(location)
    why = pseudo_filesystem(real, mounts)
    if why:
        raise BackupError('%s: %s is not a source to back up: %s' % (option, name, why))
    real_dest = os.path.realpath(dest)
    if _under(real_dest, real):
        raise BackupError('%s: %s holds dest %s; each set would contain the sets before it '
                          '(put dest elsewhere or back up the directories beside it)' % (option, name, dest))
    if _under(real, real_dest):
        raise BackupError('%s: %s is inside dest %s; back up data, not the sets' % (option, name, dest))
    return real


def resolve_sources(params, host, mounts=None):
    """Check every source before anything is written. Returns ``(sources, skipped)``."""
    sources, skipped = [], []
    dest = params.get('dest') or '/backup/cloudos'
    mounts = read_mounts() if mounts is None else mounts
    seen = set()
    for path in params.get('paths') or []:
        if not os.path.isabs(path):
            raise BackupError('paths: %r is not an absolute path' % path)
        norm = os.path.normpath(path)
        if norm.startswith('//'):
            norm = '/' + norm.lstrip('/')
        if norm in seen:
            raise BackupError('paths: %s is given twice' % norm)
        seen.add(norm)
        if not os.path.lexists(norm):
            if params.get('missing_source', 'fail') == 'skip':
                skipped.append({'kind': 'path', 'name': norm, 'reason': 'does not exist'})
                continue
            raise BackupError('paths: %s does not exist (set missing_source: skip to back up the rest)' % norm)
        real = check_source_location('paths', norm, norm, dest, mounts)
        src = {'kind': 'path', 'name': norm, 'location': norm, 'root': os.path.basename(norm) or 'root',
               'type': 'dir' if os.path.isdir(norm) else 'file'}
        if os.path.islink(norm) and os.path.isdir(norm):
            # Backed up as the directory it points to (its content), under the name given.
            src['location'] = real
            src['symlink_to'] = real
        sources.append(src)
    for name in params.get('docker_volumes') or []:
        info = host.volume(name)
        mountpoint = info['mountpoint']
        if not mountpoint or not os.path.isdir(mountpoint):
            raise BackupError('docker_volumes: the mountpoint %r of volume %r is not a directory on this host '
                              '(remote or rootless engine?)' % (mountpoint, name))
        check_source_location('docker_volumes', '%s (%s)' % (name, mountpoint), mountpoint, dest, mounts)
        sources.append({'kind': 'volume', 'name': name, 'location': mountpoint, 'root': os.path.basename(mountpoint),
                        'type': 'dir', 'driver': info['driver'], 'labels': info['labels'], 'options': info['options']})
    return sources, skipped


def _check_dest(dest):
    if not os.path.isabs(dest):
        raise BackupError('dest: %r is not an absolute path' % dest)
    probe = dest
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        vfs = os.statvfs(probe)
    except OSError as exc:
        raise BackupError('dest: cannot inspect %s: %s' % (probe, exc.strerror))
    if vfs.f_flag & os.ST_RDONLY:
        raise BackupError('dest %s is on a read-only file system (%s)' % (dest, probe))
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise BackupError('dest: %s exists and is not a directory' % dest)
    return vfs.f_bavail * vfs.f_frsize


def clean_leftovers(dest, others, check_mode):
    """Remove work directories of interrupted runs whose process is gone."""
    removed = []
    for item in others:
        if not item.get('leftover') or sets.pid_alive(item['pid']):
            continue
        removed.append(item['name'])
        if not check_mode:
            shutil.rmtree(item['path'], ignore_errors=True)
    return removed


def _system_state_archive(sink, files):
    tar = tarfile.open(fileobj=sink, mode='w|', format=tarfile.PAX_FORMAT, bufsize=arch.CHUNK)
    now = int(time.time())
    records = []
    try:
        dirs = set()
        for name in sorted(files):
            parts = name.split('/')
            for depth in range(1, len(parts)):
                sub = 'system-state/' + '/'.join(parts[:depth])
                if sub not in dirs:
                    dirs.add(sub)
        for name in ['system-state'] + sorted(dirs):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o700, now
            tar.addfile(info)
            records.append({'path': name, 'type': 'dir', 'mode': '0700', 'uid': 0, 'gid': 0, 'mtime': now})
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo('system-state/' + name)
            info.size, info.mode, info.mtime = len(data), 0o600, now
            import io
            tar.addfile(info, io.BytesIO(data))
            records.append({'path': info.name, 'type': 'file', 'mode': '0600', 'uid': 0, 'gid': 0, 'mtime': now,
                            'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()})
    finally:
        tar.close()
    return records


def _stop_containers(host, names, timeout, stopped):
    """Stop the running ones of ``names``; each one stopped is added to ``stopped`` at once."""
    for name in names:
        if host.container_state(name):
            host.stop_container(name, timeout)
            stopped.append(name)


def _start_again(host, stopped, result):
    """Start every container in ``stopped`` (also after a failure) and say in ``result`` how it went."""
    restart_errors = []
    for name in stopped:
        try:
            host.start_container(name)
        except Exception as exc:  # pylint: disable=broad-except
            restart_errors.append('%s: %s' % (name, exc))
    result['containers'] = {'stopped': stopped, 'restart_errors': restart_errors}
    if restart_errors:
        result['warnings'].append('could not start again: %s' % '; '.join(restart_errors))


# --------------------------------------------------------------------------------------------
# state: present
# --------------------------------------------------------------------------------------------
def create_set(params, host, check_mode=False):
    dest = params.get('dest') or '/backup/cloudos'
    backup_id = sets.validate_backup_id(params.get('backup_id') or sets.default_backup_id(), writing=True)
    policy = ret.validate_policy(params.get('retention'))
    level = int(params.get('compression_level', 6))
    if not 1 <= level <= 9:
        raise BackupError('compression_level: %r is not between 1 and 9' % level)
    items = params.get('system_state')
    items = list(SYSTEM_STATE_ITEMS) if items is None else list(items)
    for item in items:
        if item not in SYSTEM_STATE_ITEMS:
            raise BackupError('system_state: unknown item %r (expected some of %s)' % (item, ', '.join(SYSTEM_STATE_ITEMS)))
    sources, skipped = resolve_sources(params, host)
    containers = list(params.get('stop_containers') or [])
    for name in containers:
        host.container_state(name)
    if not sources and not items:
        raise BackupError('nothing to back up: paths and docker_volumes are empty (or all skipped) and system_state is []')
    free = _check_dest(dest)
    result = {'changed': False, 'backup_id': backup_id, 'dest': dest, 'path': os.path.join(dest, backup_id),
              'skipped_sources': skipped, 'warnings': []}
    complete, others = sets.list_sets(dest)
    existing = [item for item in complete if item['id'] == backup_id]
    exists_as_other = [item for item in others if item['name'] == backup_id]
    if exists_as_other and not params.get('force'):
        raise BackupError('%s exists but is not a complete set (%s); remove it or use force: true'
                          % (exists_as_other[0]['path'], exists_as_other[0]['reason']))
    create = not existing or params.get('force')
    result['cleaned'] = clean_leftovers(dest, others, check_mode=True)
    if check_mode:
        estimate = []
        total = 0
        for src in sources:
            size, count = arch.estimate_size(src['location'], params.get('exclude'))
            estimate.append(dict({'kind': src['kind'], 'name': src['name'], 'bytes': size, 'entries': count},
                                 **({'symlink_to': src['symlink_to']} if src.get('symlink_to') else {})))
            total += size
        result['sources'] = estimate
        result['estimated_bytes'] = total
        if create and total > free:
            result['warnings'].append('dest %s has %d bytes free; the sources hold %d bytes before compression'
                                      % (dest, free, total))
        result['changed'] = bool(create or result['cleaned'])
        if existing and not create:
            result['backup'] = _summary(existing[0]['manifest'], existing[0]['path'])
        if policy:
            now = sets.utcnow()
            after = [c for c in complete if c['id'] != backup_id] + [{'id': backup_id, 'time': now}] \
                if create else complete
            result['retention'] = plan_retention(after, others, policy, now, protect=[backup_id] if create else ())
            result['changed'] = result['changed'] or bool(result['retention']['delete'])
            result['warnings'].extend(_retention_warnings(result['retention']))
        return result
    try:
        if not os.path.isdir(dest):
            os.makedirs(dest, 0o700)
            _root_only(dest, True)
    except OSError as exc:
        raise BackupError(_os_error(exc, 'creating %s' % dest, dest))
    with DestLock(dest):
        complete, others = sets.list_sets(dest)
        result['cleaned'] = clean_leftovers(dest, others, check_mode=False)
        existing = [item for item in complete if item['id'] == backup_id]
        if existing and not params.get('force'):
            result['backup'] = _summary(existing[0]['manifest'], existing[0]['path'])
            result['msg'] = 'set %s already exists (use force: true to replace it)' % backup_id
        else:
            manifest = _write_set(params, host, dest, backup_id, sources, skipped, items, containers, level, result)
            result['backup'] = _summary(manifest, os.path.join(dest, backup_id))
            result['changed'] = True
            complete, others = sets.list_sets(dest)
        if policy:
            written = [backup_id] if result['changed'] and 'msg' not in result else ()
            result['retention'] = apply_retention(dest, complete, others, policy, protect=written)
            result['warnings'].extend(_retention_warnings(result['retention']))
        result['changed'] = bool(result['changed'] or result['cleaned'] or (result.get('retention') or {}).get('delete'))
    return result


def _summary(manifest, path):
    return {'backup_id': manifest['backup_id'], 'path': path, 'created_at': manifest['created_at'],
            'duration_s': manifest.get('duration_s'), 'host': manifest.get('host'),
            'size': sum(meta['size'] for meta in manifest['archives'].values()),
            'sources': [dict({'kind': s['kind'], 'name': s['name'], 'archive': s.get('archive'), 'bytes': s.get('bytes'),
                              'files': s.get('files')}, **({'symlink_to': s['symlink_to']} if s.get('symlink_to') else {}))
                        for s in manifest['sources']],
            'warnings': manifest.get('warnings', [])}


def _write_set(params, host, dest, backup_id, sources, skipped, items, containers, level, result):
    compressor = arch.find_compressor(params.get('compressor') or 'auto')
    durable = params.get('fsync', True)
    work = os.path.join(dest, sets.incomplete_name(backup_id))
    started = sets.utcnow()
    clock = time.time()
    warnings = []
    stopped = []
    try:
        os.mkdir(work, 0o700)
        _root_only(work, True)
        _stop_containers(host, containers, params.get('stop_timeout', 30), stopped)
        taken = set()
        manifest_sources, archives = [], {}
        for src in sources:
            archive_name, index_name = sets.archive_names(src['kind'], src['name'], taken)
            counts = _write_archive(os.path.join(work, archive_name), os.path.join(work, index_name), level,
                                    compressor, durable, archives,
                                    _tree_filler(src['location'], src['root'], params.get('exclude'), warnings))
            entry = dict((k, v) for k, v in src.items() if k != 'location')
            entry.update({'archive': archive_name, 'index': index_name, 'path': src['location']})
            entry.update(counts)
            manifest_sources.append(entry)
        if items:
            files, status = host.system_state(items)
            archive_name, index_name = sets.archive_names('system', 'state', taken)
            _write_archive(os.path.join(work, archive_name), os.path.join(work, index_name), level,
                           compressor, durable, archives, _system_state_filler(files))
            manifest_sources.append({'kind': 'system_state', 'name': 'system_state', 'archive': archive_name,
                                     'index': index_name, 'root': 'system-state', 'items': status,
                                     'files': len(files), 'bytes': sum(len(v) for v in files.values())})
        if compressor:
            program = os.path.basename(compressor)
        else:
            program = 'python-gzip'
        manifest = sets.build_manifest(backup_id, socket.gethostname(), started, sets.utcnow(),
                                       {'format': 'gzip', 'level': level, 'program': program},
                                       manifest_sources, archives, warnings)
        manifest['duration_s'] = round(time.time() - clock, 3)
        if skipped:
            manifest['skipped'] = skipped
        manifest_path = os.path.join(work, sets.MANIFEST)
        fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.write('\n')
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        for name in os.listdir(work):
            _root_only(os.path.join(work, name), False)
        if durable:
            _fsync_dir(work)
        final = os.path.join(dest, backup_id)
        if os.path.lexists(final):
            old = os.path.join(dest, '%s%s-%d' % (sets.REPLACED_PREFIX, backup_id, os.getpid()))
            os.rename(final, old)
            os.rename(work, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, final)
        if durable:
            _fsync_dir(dest)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(_os_error(exc, 'writing set %s' % backup_id, dest))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        _start_again(host, stopped, result)
    result['warnings'].extend(warnings)
    return manifest


def _write_archive(archive_path, index_path, level, compressor, durable, archives, fill):
    """One archive and its file index, filled by ``fill(sink, index)`` (its answer is returned).

    Both files are recorded in ``archives`` (size and SHA-256) when complete, and removed again
    on any failure.
    """
    sink = arch.CompressedWriter(archive_path, level, compressor)
    index = arch._HashingFile(index_path)  # pylint: disable=protected-access
    try:
        answer = fill(sink, index)
        archives[os.path.basename(archive_path)] = sink.close(durable)
        archives[os.path.basename(index_path)] = index.finish(durable)
    except BaseException:
        sink.abort()
        index.abort()
        raise
    return answer


def _tree_filler(location, top, exclude, warnings):
    def fill(sink, index):
        buffered = _Buffered(index)
        counts = arch.write_tree(sink, buffered, location, exclude, warnings, top=top)
        buffered.flush()
        return counts
    return fill


def _system_state_filler(files):
    def fill(sink, index):
        for record in _system_state_archive(sink, files):
            index.write((json.dumps(record, sort_keys=True, separators=(',', ':')) + '\n').encode())
    return fill


class _Buffered(object):
    """Small write buffer in front of an unbuffered hashing file (index lines are tiny)."""

    def __init__(self, target, size=1 << 16):
        self._target = target
        self._parts = []
        self._len = 0
        self._size = size

    def write(self, data):
        self._parts.append(data)
        self._len += len(data)
        if self._len >= self._size:
            self.flush()

    def flush(self):
        if self._parts:
            self._target.write(b''.join(self._parts))
            self._parts, self._len = [], 0


# --------------------------------------------------------------------------------------------
# retention
# --------------------------------------------------------------------------------------------
def plan_retention(complete, others, policy, now, protect=()):
    """The retention plan of the complete sets, with the damaged sets listed as ``ignored``.

    A set whose manifest does not pass the checks has no trustworthy date: it is never
    counted and never deleted (it is reported, for an operator to look at).
    """
    planned = ret.plan_retention([(c['id'], c['time']) for c in complete], policy, now, protect=protect,
                                 future_slack=sets.FUTURE_SLACK)
    ignored = [{'id': o['name'], 'reason': o['reason']} for o in others if o.get('malformed')]
    if ignored:
        planned['ignored'] = ignored
    return planned


def _retention_warnings(planned):
    warnings = ['set %s is dated in the future; retention keeps it and does not count it (check its '
                'MANIFEST.json and the clock)' % set_id for set_id in planned.get('future', [])]
    warnings += ['set %s was left alone by retention: %s' % (o['id'], o['reason']) for o in planned.get('ignored', [])]
    return warnings


def apply_retention(dest, complete, others, policy, protect=()):
    planned = plan_retention(complete, others, policy, sets.utcnow(), protect=protect)
    for item in planned['delete']:
        path = os.path.join(dest, item['id'])
        doomed = os.path.join(dest, '.deleting-%s-%d' % (item['id'], os.getpid()))
        os.rename(path, doomed)
        shutil.rmtree(doomed)
    return planned


def prune(params, check_mode=False):
    dest = params.get('dest') or '/backup/cloudos'
    policy = ret.validate_policy(params.get('retention'))
    if not policy:
        raise BackupError('retention: give at least one of %s' % ', '.join(ret.RULES))
    complete, others = sets.list_sets(dest)
    if check_mode:
        planned = plan_retention(complete, others, policy, sets.utcnow())
        cleaned = clean_leftovers(dest, others, check_mode=True)
    else:
        _check_dest(dest)
        with DestLock(dest):
            complete, others = sets.list_sets(dest)
            cleaned = clean_leftovers(dest, others, check_mode=False)
            planned = apply_retention(dest, complete, others, policy)
    return {'changed': bool(planned['delete'] or cleaned), 'retention': planned, 'cleaned': cleaned,
            'warnings': _retention_warnings(planned)}


# --------------------------------------------------------------------------------------------
# state: verified
# --------------------------------------------------------------------------------------------
def open_set_file(set_dir, name):
    """Open the file ``name`` of a set for reading: a regular file directly inside ``set_dir``.

    Raises BackupError for a name with a separator or ``..``, a symlink (never followed, so
    nothing outside the set is read) or anything but a regular file.
    """
    if not sets.safe_file_name(name):
        raise BackupError('%r is not a file name inside the set' % (name,))
    return arch.open_regular(os.path.join(set_dir, name))


def _sha256_file(set_dir, name):
    sha = hashlib.sha256()
    size = 0
    with open_set_file(set_dir, name) as handle:
        while True:
            data = handle.read(arch.CHUNK)
            if not data:
                break
            size += len(data)
            sha.update(data)
    return size, sha.hexdigest()


def verify_set(item):
    """Recompute every checksum of one complete set."""
    manifest, path = item['manifest'], item['path']
    mismatches = []
    checked = 0
    for name, meta in sorted(manifest['archives'].items()):
        try:
            size, digest = _sha256_file(path, name)
        except BackupError as exc:
            mismatches.append({'file': name, 'problem': str(exc)})
            continue
        except (IOError, OSError) as exc:
            mismatches.append({'file': name, 'problem': 'unreadable: %s' % (exc.strerror or exc)})
            continue
        checked += 1
        if size != meta['size']:
            mismatches.append({'file': name, 'problem': 'size %d, manifest says %d' % (size, meta['size'])})
        elif digest != meta['sha256']:
            mismatches.append({'file': name, 'problem': 'sha256 %s, manifest says %s' % (digest, meta['sha256'])})
    listed = set(manifest['archives']) | {sets.MANIFEST}
    unexpected = sorted(n for n in os.listdir(path) if n not in listed)
    return {'backup_id': item['id'], 'path': path, 'ok': not mismatches, 'checked': checked,
            'mismatches': mismatches, 'unexpected_files': unexpected}


def _future_others(future):
    return [{'name': f['id'], 'path': f['path'], 'future': True, 'leftover': False,
             'reason': 'it is dated in the future (%s)' % sets.format_time(f['time'])} for f in future]


def _malformed_report(other):
    """A verify report for a set whose manifest does not pass the checks (it fails verification)."""
    return {'backup_id': other['name'], 'path': other['path'], 'ok': False, 'checked': 0,
            'mismatches': [{'file': sets.MANIFEST, 'problem': other['reason']}], 'unexpected_files': []}


def select_sets(dest, backup_id):
    complete, others = sets.list_sets(dest)
    if backup_id in (None, '', 'all'):
        return complete, others
    if backup_id == 'latest':
        usable, future = sets.split_future(complete)
        return usable[-1:], others + _future_others(future)
    sets.validate_backup_id(backup_id)
    found = [c for c in complete if c['id'] == backup_id]
    if not found:
        reason = [o['reason'] for o in others if o['name'] == backup_id]
        raise BackupError('backup_id: no complete set %r in %s%s' % (backup_id, dest, (' (%s)' % reason[0]) if reason else ''))
    return found, others


def verify(params):
    dest = params.get('dest') or '/backup/cloudos'
    chosen, others = select_sets(dest, params.get('backup_id'))
    if not chosen:
        raise BackupError('no complete backup set in %s' % dest)
    reports = [verify_set(item) for item in chosen]
    warnings = []
    if params.get('backup_id') in (None, '', 'all'):
        # Every set of dest: one whose manifest is damaged is a set that does not verify.
        reports += [_malformed_report(o) for o in others if o.get('malformed')]
        reports.sort(key=lambda r: r['backup_id'])
    elif params.get('backup_id') == 'latest':
        warnings = _skipped_warnings(others)
    return {'changed': False, 'verified': reports, 'ok': all(r['ok'] for r in reports),
            'incomplete': [{'name': o['name'], 'reason': o['reason']} for o in others
                           if not o.get('malformed') and not o.get('future')],
            'warnings': warnings}


def _skipped_warnings(others):
    """Warnings for the sets ``latest`` passes over: damaged manifests and sets dated in the future."""
    return ['set %s was skipped: %s' % (o['name'], o['reason']) for o in others
            if o.get('malformed') or o.get('future')]


# --------------------------------------------------------------------------------------------
# state: restored
# --------------------------------------------------------------------------------------------
def _pick_restore_set(dest, backup_id, warnings):
    if backup_id and backup_id != 'latest':
        chosen, _others = select_sets(dest, backup_id)
        report = verify_set(chosen[0])
        if not report['ok']:
            raise BackupError('set %s does not verify (%s); nothing was restored'
                              % (backup_id, '; '.join('%s: %s' % (m['file'], m['problem']) for m in report['mismatches'])))
        return chosen[0], report
    complete, others = sets.list_sets(dest)
    usable, future = sets.split_future(complete)
    warnings.extend(_skipped_warnings(others + _future_others(future)))
    for item in reversed(usable):
        report = verify_set(item)
        if report['ok']:
            return item, report
        warnings.append('set %s does not verify and was passed over: %s'
                        % (item['id'], '; '.join('%s: %s' % (m['file'], m['problem']) for m in report['mismatches'])))
    raise BackupError('no complete set in %s verifies; nothing was restored' % dest)


def _restore_targets(item, params, host, check_mode):
    manifest = item['manifest']
    want_paths = params.get('paths')
    want_vols = params.get('docker_volumes')
    root = params.get('restore_root')
    if root and not os.path.isabs(root):
        raise BackupError('restore_root: %r is not an absolute path' % root)
    if root:
        root = os.path.normpath(root)
    dest = params.get('dest') or '/backup/cloudos'
    mounts = read_mounts()
    chosen = []
    by_kind = {'path': [s for s in manifest['sources'] if s['kind'] == 'path'],
               'volume': [s for s in manifest['sources'] if s['kind'] == 'volume']}
    for kind, wanted, option in (('path', want_paths, 'paths'), ('volume', want_vols, 'docker_volumes')):
        names = [s['name'] for s in by_kind[kind]]
        if wanted:
            for name in wanted:
                norm = os.path.normpath(name) if kind == 'path' else name
                if norm not in names:
                    raise BackupError('%s: %r is not in set %s (it holds %s)' % (option, name, item['id'], ', '.join(names) or 'none'))
            picked = [s for s in by_kind[kind] if s['name'] in [os.path.normpath(n) if kind == 'path' else n for n in wanted]]
        elif want_paths or want_vols:
            picked = []
        else:
            picked = by_kind[kind]
        for src in picked:
            target = {'source': src}
            if kind == 'path':
                target['target'] = _path_target(src['name'], root)
                target['live'] = src['name']
            else:
                live = None
                if root:
                    target['target'] = os.path.join(root, 'volumes', src['name'])
                    try:
                        live = host.volume(src['name'])['mountpoint']
                    except BackupError:
                        live = None
                else:
                    try:
                        live = host.volume(src['name'])['mountpoint']
                    except BackupError as exc:
                        if 'does not exist' not in str(exc):
                            raise
                        target['create_volume'] = True
                        if not check_mode:
                            live = host.create_volume(src['name'], src.get('driver'), src.get('labels'), src.get('options'))
                    target['target'] = live
                target['live'] = live
            if target.get('target'):
                check_restore_target(item['id'], src, target['target'], dest, mounts)
            chosen.append(target)
    return chosen


def _path_target(name, root):
    """Where source ``name`` (absolute and normalised: the manifest was checked) is restored.

    Under ``restore_root`` when given (never outside it); else the path itself, or the
    directory it points to when the live path is a symlink to a directory (the backup holds
    that directory's content).
    """
    if root:
        target = os.path.normpath(os.path.join(root, name.lstrip('/')))
        if not _under(target, root):
            raise BackupError('restore_root: %s would place %s outside %s' % (root, name, root))
        return target
    if os.path.islink(name) and os.path.isdir(name):
        return os.path.realpath(name)
    return name


def check_restore_target(backup_id, src, target, dest, mounts):
    """Refuse a target that is no place for data: /, a pseudo-filesystem, or one holding dest."""
    real = os.path.realpath(target)
    what = '%s %s of set %s' % (src['kind'], src['name'], backup_id)
    if real == '/':
        raise BackupError('%s: restoring onto / is refused; restore its directories instead' % what)
    why = pseudo_filesystem(real, mounts)
    if why:
        raise BackupError('%s: the target %s is refused: %s' % (what, target, why))
    if _under(os.path.realpath(dest), real):
        raise BackupError('%s: the target %s holds dest %s; restoring it would replace the sets '
                          '(use restore_root)' % (what, target, dest))


def _clean_restore_leftovers(parent):
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(RESTORE_PREFIX):
            continue
        rest = name[len(RESTORE_PREFIX):]
        rest = rest[4:] if rest.startswith('old-') else rest
        pid = rest.split('-', 1)[0]
        if pid.isdigit() and not sets.pid_alive(int(pid)):
            path = os.path.join(parent, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _swap_into_place(staged, target):
    parent, base = os.path.split(target)
    if not os.path.lexists(target):
        os.rename(staged, target)
        return
    target_is_dir = os.path.isdir(target) and not os.path.islink(target)
    if target_is_dir and os.path.isdir(staged) and os.path.ismount(target):
        trash = os.path.join(target, '%sold-%d' % (RESTORE_PREFIX, os.getpid()))
        os.mkdir(trash, 0o700)
        for name in os.listdir(target):
            if name != os.path.basename(trash):
                os.rename(os.path.join(target, name), os.path.join(trash, name))
        for name in os.listdir(staged):
            os.rename(os.path.join(staged, name), os.path.join(target, name))
        st = os.lstat(staged)
        os.chown(target, st.st_uid, st.st_gid)
        os.chmod(target, stat.S_IMODE(st.st_mode))
        shutil.rmtree(trash)
        os.utime(target, (st.st_atime, st.st_mtime))
        os.rmdir(staged)
        return
    if target_is_dir or os.path.isdir(staged):
        old = os.path.join(parent, '%sold-%d-%s' % (RESTORE_PREFIX, os.getpid(), base))
        os.rename(target, old)
        os.rename(staged, target)
        if os.path.isdir(old) and not os.path.islink(old):
            shutil.rmtree(old)
        else:
            os.unlink(old)
        return
    os.replace(staged, target)


def extract_to_target(archive_path, top, target, compressor, allow_external_symlinks=False, sha256=None):
    """Extract an archive into a staging directory next to ``target`` and swap it into place.

    With ``sha256``, nothing is swapped in unless the archive read is the one that was verified.
    """
    parent, base = os.path.split(target.rstrip('/'))
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o700)
    _clean_restore_leftovers(parent)
    staging = os.path.join(parent, '%s%d-%s' % (RESTORE_PREFIX, os.getpid(), base))
    if os.path.lexists(staging):
        shutil.rmtree(staging)
    os.mkdir(staging, 0o700)
    try:
        with arch.DecompressedReader(archive_path, compressor, sha256) as reader:
            counts = arch.extract_stream(reader.stream, staging, top, allow_external_symlinks)
            reader.finish()
        staged = os.path.join(staging, top)
        if not os.path.lexists(staged):
            raise BackupError('%s holds no %r tree' % (archive_path, top))
        _swap_into_place(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _index_reader(path, top):
    """A callable streaming the index at ``path``, each member name checked as it is read."""
    def records():
        for record in arch.read_index(path):
            arch.check_member_name(record['path'], top)
            yield record
    return records


def restore(params, host, check_mode=False, diff_mode=False):
    dest = params.get('dest') or '/backup/cloudos'
    warnings = []
    item, report = _pick_restore_set(dest, params.get('backup_id'), warnings)
    targets = _restore_targets(item, params, host, check_mode)
    if not targets:
        raise BackupError('set %s holds no paths or volumes to restore' % item['id'])
    compare = params.get('compare') or []
    allow_ext = params.get('restore_external_symlinks', False)
    result = {'changed': False, 'backup_id': item['id'], 'path': item['path'], 'verified': report,
              'warnings': warnings, 'restored': [], 'diff': []}
    plans = []
    for tgt in targets:
        src = tgt['source']
        records = _index_reader(os.path.join(item['path'], src['index']), src['root'])
        plan = planmod.compare_tree(tgt.get('target'), src['root'], records)
        needed = planmod.has_changes(plan) or bool(params.get('force')) or tgt.get('create_volume', False)
        entry = {'kind': src['kind'], 'name': src['name'], 'target': tgt.get('target'), 'changed': needed,
                 'summary': planmod.summary(plan), 'created': plan['created'],
                 'changed_files': plan['changed'], 'removed': plan['removed']}
        if tgt.get('create_volume'):
            entry['volume_created'] = True
        result['restored'].append(entry)
        if diff_mode and planmod.has_changes(plan):
            result['diff'].append(planmod.render_diff(tgt.get('target') or src['name'], plan))
        plans.append((tgt, records, needed, entry))
    result['changed'] = any(p[2] for p in plans)
    if check_mode:
        return result
    compressor = arch.find_compressor(params.get('compressor') or 'auto')
    containers = list(params.get('stop_containers') or [])
    volumes = [t['source']['name'] for t, _r, needed, _e in plans if needed and t['source']['kind'] == 'volume'
               and not params.get('restore_root')]
    if params.get('stop_volume_users') and volumes:
        containers += [name for name in host.containers_using(volumes) if name not in containers]
    for name in containers:
        host.container_state(name)
    stopped = []
    try:
        _stop_containers(host, containers, params.get('stop_timeout', 30), stopped)
        for tgt, records, needed, entry in plans:
            if not needed:
                continue
            src = tgt['source']
            started = time.time()
            try:
                entry['counts'] = extract_to_target(os.path.join(item['path'], src['archive']), src['root'],
                                                    tgt['target'], compressor, allow_ext,
                                                    item['manifest']['archives'][src['archive']]['sha256'])
            except arch.UnsafeMember as exc:
                raise BackupError('%s: %s; %s was left untouched' % (src['archive'], exc, tgt['target']))
            except OSError as exc:
                raise BackupError('restoring %s into %s failed: %s' % (src['name'], tgt['target'], exc))
            entry['duration_s'] = round(time.time() - started, 3)
    finally:
        _start_again(host, stopped, result)
    if compare:
        result['compare'] = _compare(plans, compare)
    return result


def _compare(plans, compare):
    out = []
    for tgt, records, _needed, _entry in plans:
        src = tgt['source']
        item = {'kind': src['kind'], 'name': src['name'], 'target': tgt['target']}
        if 'manifest' in compare:
            res = planmod.compare_tree(tgt['target'], src['root'], records, always_hash=True)
            item['manifest'] = dict(planmod.summary(res), ok=not planmod.has_changes(res),
                                    problems=(res['changed'] + [{'path': p, 'changes': ['missing']} for p in res['created']]
                                              + [{'path': p, 'changes': ['not in backup']} for p in res['removed']])[:100])
        if 'live' in compare:
            live = tgt.get('live')
            if live and live != tgt['target'] and os.path.lexists(live):
                res = planmod.compare_tree(live, src['root'], records, always_hash=True, limit=20)
                item['live'] = {'same': res['same'], 'differ': res['counts']['changed'],
                                'only_in_backup': res['counts']['created'], 'only_in_live': res['counts']['removed'],
                                'examples': ([c['path'] for c in res['changed']] + res['created'] + res['removed'])[:20]}
            else:
                item['live'] = {'note': 'no separate live copy to compare with'}
        out.append(item)
    return out
