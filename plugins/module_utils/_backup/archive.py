# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming tar archives: write through a compressor while hashing, extract safely.

Writing: Python's ``tarfile`` produces the tar stream (so every file is hashed as it is
read and listed in a per-archive index); the stream goes to ``pigz`` or ``gzip`` when one
is installed (a separate process compresses in parallel) and the compressed bytes are
hashed with SHA-256 on their way to disk. Memory use is a few buffers, whatever the size.

Reading: the decompressed stream is parsed member by member; every member is checked by
our own rules (no absolute names, no ``..``, nothing under a symlink, links must stay in
the tree, no device files) before anything of it is written, into a staging directory.
"""

from __future__ import annotations

import errno
import grp
import gzip
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import tarfile
import threading

from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError, open_regular

CHUNK = 1 << 20
# Restored files are written sparse: a block of this size holding only zeros becomes a hole.
HOLE = 1 << 16
_ZEROS = bytes(HOLE)


def find_compressor(preference='auto', search=None):
    """Return the path of pigz/gzip to use, or None for the in-process fallback."""
    if preference == 'python':
        return None
    names = ('pigz', 'gzip') if preference == 'auto' else (preference,)
    for name in names:
        found = search(name) if search else shutil.which(name)
        if found:
            return found
    if preference not in ('auto',):
        raise BackupError('compressor: %r is not installed' % preference)
    return None


class _HashingFile(object):
    """A write-only binary file that hashes what passes through it."""

    def __init__(self, path):
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self._handle = os.fdopen(fd, 'wb', buffering=0)
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self._sha.update(data)
        view = memoryview(data)
        while view:
            written = self._handle.write(view)
            view = view[written:]
        self.size += len(data)
        return len(data)

    def flush(self):
        pass

    def finish(self, durable=True):
        if durable:
            os.fsync(self._handle.fileno())
        self._handle.close()
        return {'size': self.size, 'sha256': self._sha.hexdigest()}

    def abort(self):
        try:
            self._handle.close()
        except OSError:
            pass


class CompressedWriter(object):
    """File-like sink: ``write()`` plain bytes, gzip lands on disk, SHA-256 of what landed."""

    def __init__(self, path, level=6, compressor=None, threads=None):
        self._out = _HashingFile(path)
        self._proc = None
        self._thread = None
        self._error = None
        if compressor:
            cmd = [compressor, '-c', '-n', '-%d' % level]
            if os.path.basename(compressor) == 'pigz' and threads:
                cmd += ['-p', str(threads)]
            # A streaming pipe to the compressor: run_command() would buffer the whole output.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,  # pylint: disable=ansible-bad-function
                                          close_fds=True)
            self._thread = threading.Thread(target=self._pump, name='cloudos-backup-pump')
            self._thread.daemon = True
            self._thread.start()
            self._sink = self._proc.stdin
        else:
            self._sink = gzip.GzipFile(filename='', mode='wb', compresslevel=level, fileobj=self._out, mtime=0)

    def _pump(self):
        stdout = self._proc.stdout
        try:
            while True:
                data = stdout.read(CHUNK)
                if not data:
                    break
                self._out.write(data)
        except BaseException as exc:  # pylint: disable=broad-except
            self._error = exc
            try:
                self._proc.kill()
            except OSError:
                pass

    def write(self, data):
        try:
            self._sink.write(data)
        except (BrokenPipeError, ValueError):
            self._raise_pump_error()
            raise
        return len(data)

    def _raise_pump_error(self):
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self, durable=True):
        """Finish the stream and return ``{size, sha256}`` of the compressed file."""
        if self._proc is not None:
            try:
                self._sink.close()
            except BrokenPipeError:
                pass
            self._thread.join()
            code = self._proc.wait()
            self._proc.stdout.close()
            if self._error is not None:
                raise self._error
            if code != 0:
                raise BackupError('compressor exited with status %d' % code)
        else:
            self._sink.close()
        return self._out.finish(durable)

    def abort(self):
        if self._proc is not None:
            try:
                self._proc.kill()
            except OSError:
                pass
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
            self._proc.wait()
            if self._thread is not None:
                self._thread.join()
        self._out.abort()


class _Sequential(object):
    """A write-only file with ``tell()`` (all tarfile needs in 'w' mode), never seeking."""

    def __init__(self, sink):
        self._sink = sink
        self._pos = 0

    def write(self, data):
        self._sink.write(data)
        self._pos += len(data)
        return len(data)

    def tell(self):
        return self._pos


class _HashingReader(object):
    """Read exactly ``size`` bytes of an open file, hashing; pad with zeros if it shrank."""

    def __init__(self, handle, size):
        self._handle = handle
        self._left = size
        self._sha = hashlib.sha256()
        self.shrank = False

    def read(self, count=-1):
        if count is None or count < 0 or count > self._left:
            count = self._left
        data = self._handle.read(count) if count else b''
        if len(data) < count:
            self.shrank = True
            data += b'\0' * (count - len(data))
        self._left -= len(data)
        self._sha.update(data)
        return data

    def hexdigest(self):
        return self._sha.hexdigest()


class _NameCache(object):
    """User and group names for ids and ids for names, each looked up once per run."""

    def __init__(self):
        self._users = {}
        self._groups = {}

    @staticmethod
    def _cached(cache, key, lookup, missing):
        if key not in cache:
            try:
                cache[key] = lookup()
            except KeyError:
                cache[key] = missing
        return cache[key]

    def user(self, uid):
        return self._cached(self._users, uid, lambda: pwd.getpwuid(uid).pw_name, '')

    def group(self, gid):
        return self._cached(self._groups, gid, lambda: grp.getgrgid(gid).gr_name, '')

    def uid(self, name, default):
        found = self._cached(self._users, ('u', name), lambda: pwd.getpwnam(name).pw_uid if name else None, None)
        return default if found is None else found

    def gid(self, name, default):
        found = self._cached(self._groups, ('g', name), lambda: grp.getgrnam(name).gr_gid if name else None, None)
        return default if found is None else found


def _excluded(relpath, patterns):
    if not patterns:
        return False
    import fnmatch
    base = relpath.rsplit('/', 1)[-1]
    return any(fnmatch.fnmatchcase(relpath, pat) or fnmatch.fnmatchcase(base, pat) for pat in patterns)


def walk_source(source, top=None):
    """Yield ``(fullpath, arcname, relpath)`` for ``source`` and everything below it, sorted, not following links."""
    source = source.rstrip('/') or '/'
    top = top or os.path.basename(source) or 'root'
    yield source, top, ''
    if not os.path.isdir(source) or os.path.islink(source):
        return
    stack = [(source, top, '')]
    while stack:
        path, arc, rel = stack.pop()
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        subdirs = []
        for entry in entries:
            child_arc = arc + '/' + entry.name
            child_rel = rel + '/' + entry.name if rel else entry.name
            yield entry.path, child_arc, child_rel
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append((entry.path, child_arc, child_rel))
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def estimate_size(source, exclude=None):
    """Bytes and entry count under ``source`` (lstat only)."""
    total = count = 0
    for full, _arc, rel in walk_source(source):
        if rel and _excluded(rel, exclude):
            continue
        try:
            st = os.lstat(full)
        except OSError:
            continue
        count += 1
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
    return total, count


def write_tree(sink, index_file, source, exclude=None, warnings=None, top=None):
    """Write ``source`` (a directory or a single file) as a tar stream into ``sink``.

    Members are named ``<basename>/...``. One JSON line per member goes to ``index_file``.
    Returns counters ``{files, dirs, links, bytes, entries}``.
    """
    warnings = warnings if warnings is not None else []
    names = _NameCache()
    counts = {'files': 0, 'dirs': 0, 'symlinks': 0, 'hardlinks': 0, 'bytes': 0, 'entries': 0}
    inodes = {}
    skipped_dirs = []
    # Plain 'w' mode on a sequential sink: headers and 1 MiB data chunks go straight to the
    # compressor's pipe, without the extra copies of tarfile's stream buffer ('w|').
    tar = tarfile.open(fileobj=_Sequential(sink), mode='w', format=tarfile.PAX_FORMAT)
    tar.copybufsize = CHUNK
    try:
        for full, arc, rel in walk_source(source, top):
            if rel and skipped_dirs and any(rel.startswith(d + '/') for d in skipped_dirs):
                continue
            if rel and _excluded(rel, exclude):
                skipped_dirs.append(rel)
                continue
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                warnings.append('%s vanished during the backup' % full)
                continue
            info = tarfile.TarInfo(arc)
            info.mode = stat.S_IMODE(st.st_mode)
            info.uid, info.gid = st.st_uid, st.st_gid
            info.uname, info.gname = names.user(st.st_uid), names.group(st.st_gid)
            info.mtime = int(st.st_mtime)
            record = {'path': arc, 'mode': '%04o' % info.mode, 'uid': st.st_uid, 'gid': st.st_gid, 'mtime': info.mtime}
            mode = st.st_mode
            if stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in inodes:
                    info.type = tarfile.LNKTYPE
                    info.linkname = inodes[key]
                    tar.addfile(info)
                    record.update({'type': 'hardlink', 'link': info.linkname})
                    counts['hardlinks'] += 1
                else:
                    if st.st_nlink > 1:
                        inodes[key] = arc
                    try:
                        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
                    except FileNotFoundError:
                        warnings.append('%s vanished during the backup' % full)
                        continue
                    with os.fdopen(fd, 'rb', buffering=0) as handle:
                        info.type = tarfile.REGTYPE
                        info.size = st.st_size
                        reader = _HashingReader(handle, st.st_size)
                        tar.addfile(info, reader)
                    if reader.shrank:
                        warnings.append('%s shrank while it was read (padded with zeros); '
                                        'stop the writers (stop_containers) for a consistent copy' % full)
                    record.update({'type': 'file', 'size': st.st_size, 'sha256': reader.hexdigest()})
                    counts['files'] += 1
                    counts['bytes'] += st.st_size
            elif stat.S_ISDIR(mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                record['type'] = 'dir'
                counts['dirs'] += 1
            elif stat.S_ISLNK(mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(full)
                tar.addfile(info)
                record.update({'type': 'symlink', 'link': info.linkname})
                counts['symlinks'] += 1
                if os.path.isabs(info.linkname) or not _inside(os.path.dirname(arc), info.linkname, arc.split('/')[0]):
                    warnings.append('%s is a symlink to %s, outside the backed up tree; restore refuses it unless '
                                    'restore_external_symlinks is true' % (full, info.linkname))
            elif stat.S_ISFIFO(mode):
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
                record['type'] = 'fifo'
            else:
                warnings.append('%s is a device or socket; not backed up' % full)
                continue
            counts['entries'] += 1
            del tar.members[:]  # TarFile keeps every member written; memory must not grow with the file count
            index_file.write((json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(',', ':')) + '\n')
                             .encode('utf-8', 'surrogateescape'))
    finally:
        tar.close()
    return counts


def _inside(base, link, top):
    """True when ``link`` (relative, seen from directory ``base``) stays under ``top``."""
    if os.path.isabs(link):
        return False
    target = os.path.normpath(os.path.join(base, link))
    return target == top or target.startswith(top + '/')


def read_index(path):
    """Yield the records of an index file."""
    with open_regular(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line.decode('utf-8', 'surrogateescape'))


class _HashingSource(object):
    """A readable file that hashes what is read from it (the compressed bytes on their way in)."""

    def __init__(self, handle, sha):
        self._handle = handle
        self._sha = sha

    def read(self, count=-1):
        data = self._handle.read(count)
        self._sha.update(data)
        return data


class DecompressedReader(object):
    """Context manager giving a readable stream of the decompressed archive.

    With ``sha256``, the compressed bytes are hashed as they are read and :meth:`finish`
    raises BackupError unless they are exactly the bytes that were verified.
    """

    def __init__(self, path, compressor=None, sha256=None):
        self.path = path
        self._compressor = compressor
        self._expected = sha256
        self._sha = hashlib.sha256()
        self._proc = None
        self._feeder = None
        self._file = None
        self.stream = None

    def _feed(self):
        source = _HashingSource(self._file, self._sha)
        try:
            while True:
                data = source.read(CHUNK)
                if not data:
                    break
                self._proc.stdin.write(data)
        except (BrokenPipeError, ValueError, OSError):
            pass
        finally:
            try:
                self._proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass

    def __enter__(self):
        self._file = open_regular(self.path)
        if self._compressor:
            # A streaming pipe from the decompressor: run_command() would buffer the whole output.
            cmd = [self._compressor, '-d', '-c']
            if os.path.basename(self._compressor) == 'pigz':
                cmd[1:1] = ['-p', '1']  # decompression is serial anyway; pigz's helper threads only add work
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                          stderr=subprocess.PIPE, bufsize=CHUNK, close_fds=True)
            self._feeder = threading.Thread(target=self._feed, name='cloudos-restore-feed')
            self._feeder.daemon = True
            self._feeder.start()
            self.stream = self._proc.stdout
        else:
            self.stream = gzip.GzipFile(fileobj=_HashingSource(self._file, self._sha), mode='rb')
        return self

    def finish(self):
        """Drain, check the decompressor's exit status and that the bytes read are the ones verified."""
        while self.stream.read(CHUNK):
            pass
        if self._proc is not None:
            self._feeder.join()
            err = self._proc.stderr.read()
            code = self._proc.wait()
            if code != 0:
                raise BackupError('%s: decompression failed (%s)' % (self.path, err.decode('utf-8', 'replace').strip()
                                                                     or 'status %d' % code))
        else:
            self._sha.update(self._file.read())
        if self._expected and self._sha.hexdigest() != self._expected:
            raise BackupError('%s changed after it was verified (sha256 %s, manifest says %s)'
                              % (self.path, self._sha.hexdigest(), self._expected))

    def __exit__(self, *exc):
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._feeder.join()
            self._proc.stdout.close()
            self._proc.stderr.close()
        self._file.close()
        return False


class UnsafeMember(BackupError):
    pass


class _ForwardReader(object):
    """A pipe seen as a file that can only seek forward (all tarfile's 'r:' mode needs).

    Reading a stream this way skips the extra buffering and copying of tarfile's 'r|' mode.
    """

    def __init__(self, stream):
        self._stream = stream
        self._pos = 0

    def read(self, count=-1):
        data = self._stream.read(count)
        self._pos += len(data)
        return data

    def readinto(self, buffer):
        count = self._stream.readinto(buffer)
        self._pos += count
        return count

    def copy_to(self, fd, offset, size, buffer):
        """Write the ``size`` bytes found at ``offset`` of the stream into ``fd``, through ``buffer``."""
        self.seek(offset)
        view = memoryview(buffer)
        while size > 0:
            count = self.readinto(view[:min(len(view), size)])
            if not count:
                raise tarfile.ReadError('unexpected end of data')
            size -= count
            _write_sparse(fd, view[:count])

    def tell(self):
        return self._pos

    def seek(self, offset, whence=0):
        if whence == 1:
            offset += self._pos
        elif whence != 0:
            raise OSError(errno.ESPIPE, 'a stream cannot seek from its end')
        if offset < self._pos:
            raise OSError(errno.ESPIPE, 'a stream cannot seek backwards (%d < %d)' % (offset, self._pos))
        while self._pos < offset:
            if not self.read(min(CHUNK, offset - self._pos)):
                break
        return self._pos


def check_member_name(name, top):
    """Return the normalised member name or raise UnsafeMember."""
    if not name or '\0' in name:
        raise UnsafeMember('archive member %r has an empty or invalid name' % name)
    if name.startswith('/'):
        raise UnsafeMember('archive member %r has an absolute path' % name)
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if '..' in parts:
        raise UnsafeMember('archive member %r contains ".."' % name)
    if not parts or parts[0] != top:
        raise UnsafeMember('archive member %r is outside the archived tree %r' % (name, top))
    return '/'.join(parts)


def check_link(info, name, top, allow_external_symlinks=False):
    """Raise UnsafeMember when a link member would point out of the tree."""
    link = info.linkname
    if info.issym():
        if allow_external_symlinks:
            return
        if os.path.isabs(link):
            raise UnsafeMember('archive member %r is a symlink to the absolute path %r' % (name, link))
        if not _inside(os.path.dirname(name), link, top):
            raise UnsafeMember('archive member %r is a symlink pointing outside the restored tree (%r)' % (name, link))
    elif info.islnk():
        target = check_member_name(link, top) if not os.path.isabs(link) else None
        if target is None:
            raise UnsafeMember('archive member %r is a hard link to the absolute path %r' % (name, link))


def extract_stream(stream, staging, top, allow_external_symlinks=False, owners=True):
    """Extract a tar stream of a tree named ``top`` into the directory ``staging``.

    Raises UnsafeMember before writing a member that breaks the rules. Returns counters.
    """
    names = _NameCache()
    # Per-directory state only (never per file), so memory does not grow with the file count:
    # the staging directory itself says what was extracted before.
    made_dirs = {''}
    dirs = []
    counts = {'files': 0, 'dirs': 0, 'symlinks': 0, 'hardlinks': 0, 'bytes': 0}
    reader = _ForwardReader(stream)
    buffer = bytearray(CHUNK)
    tar = tarfile.open(fileobj=reader, mode='r:')
    owners = owners and os.geteuid() == 0
    while True:
        # TarFile remembers every member it has seen; forget them so memory stays flat.
        del tar.members[:]
        info = tar.next()
        if info is None:
            break
        name = check_member_name(info.name, top)
        if info.issym() or info.islnk():
            check_link(info, name, top, allow_external_symlinks)
        if not (info.isreg() or info.isdir() or info.issym() or info.islnk() or info.isfifo()):
            raise UnsafeMember('archive member %r is a device or special file; refused' % name)
        parent = os.path.dirname(name)
        _ensure_parent(staging, parent, made_dirs)
        target = os.path.join(staging, name)
        if info.isdir():
            if name not in made_dirs:
                try:
                    os.mkdir(target, 0o700)
                except FileExistsError:
                    raise UnsafeMember('archive member %r appears twice with different types' % name)
                made_dirs.add(name)
            dirs.append((target, info))
            counts['dirs'] += 1
            continue
        if name in made_dirs:
            raise UnsafeMember('archive member %r appears twice with different types' % name)
        if info.islnk():
            link = check_member_name(info.linkname, top)
            try:
                linked = os.lstat(os.path.join(staging, link))
            except FileNotFoundError:
                linked = None
            if os.path.dirname(link) not in made_dirs or linked is None or not stat.S_ISREG(linked.st_mode):
                raise UnsafeMember('archive member %r is a hard link to %r, which is not a file extracted before it'
                                   % (name, info.linkname))
        if info.isreg():
            fd = _create(target)
            try:
                if info.sparse is None:
                    # Straight from the decompressor's pipe into the file, through one reused buffer.
                    reader.copy_to(fd, info.offset_data, info.size, buffer)
                else:
                    _copy_sparse(tar.extractfile(info), fd)
                os.ftruncate(fd, info.size)
                # Owner, mode and time through the open descriptor: no second path lookup.
                _apply_meta(fd, info, names, owners)
            finally:
                os.close(fd)
            counts['files'] += 1
            counts['bytes'] += info.size
            continue
        if os.path.lexists(target):
            os.unlink(target)  # a later member of the same name replaces an earlier one, as with tar
        if info.issym():
            os.symlink(info.linkname, target)
            counts['symlinks'] += 1
        elif info.islnk():
            os.link(os.path.join(staging, link), target, follow_symlinks=False)
            counts['hardlinks'] += 1
        else:
            os.mkfifo(target, 0o600)
        if not info.islnk():
            _apply_meta(target, info, names, owners, symlink=info.issym())
    for target, info in reversed(dirs):
        _apply_meta(target, info, names, owners)
    return counts


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_sparse(fd, data):
    """Write ``data`` at the file position, leaving a hole for every HOLE bytes of zeros.

    The caller sets the final size (``os.ftruncate``), so a file ending in a hole has its length.
    """
    view = memoryview(data)
    for start in range(0, len(view), HOLE):
        block = view[start:start + HOLE]
        if len(block) == HOLE and block == _ZEROS:
            os.lseek(fd, HOLE, os.SEEK_CUR)
        else:
            _write_all(fd, block)


def _copy_sparse(source, fd):
    while True:
        data = source.read(CHUNK)
        if not data:
            return
        _write_sparse(fd, data)


def _create(target):
    """Open a new regular file for writing; a later member of the same name replaces an earlier one, as with tar."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        return os.open(target, flags, 0o600)
    except FileExistsError:
        os.unlink(target)
        return os.open(target, flags, 0o600)


def _ensure_parent(staging, parent, made_dirs):
    if parent in made_dirs:
        return
    _ensure_parent(staging, os.path.dirname(parent), made_dirs)
    path = os.path.join(staging, parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        os.mkdir(path, 0o700)
    else:
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeMember('archive member below %r, which is not a directory in the archive' % parent)
    made_dirs.add(parent)


def _apply_meta(target, info, names, owners, symlink=False):
    """Owner, mode and mtime of ``info`` on ``target``: a path, or the descriptor of an open file."""
    by_fd = isinstance(target, int)
    if owners:
        uid = names.uid(info.uname, info.uid)
        gid = names.gid(info.gname, info.gid)
        if by_fd:
            os.chown(target, uid, gid)
        else:
            os.lchown(target, uid, gid)
    if not symlink:
        os.chmod(target, info.mode & 0o7777)
    try:
        if by_fd:
            os.utime(target, (info.mtime, info.mtime))
        else:
            os.utime(target, (info.mtime, info.mtime), follow_symlinks=False)
    except (NotImplementedError, OSError) as exc:
        if not symlink or exc.__class__ is not NotImplementedError and getattr(exc, 'errno', None) != errno.ENOTSUP:
            raise
