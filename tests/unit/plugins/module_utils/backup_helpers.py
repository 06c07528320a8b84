"""Shared helpers for the backup tests: build a tree with every kind of entry, snapshot it."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile


def make_tree(root):
    """A tree with modes, owners, mtimes, symlinks, hard links, empty dirs and a larger file."""
    os.makedirs(os.path.join(root, 'conf', 'empty'))
    os.makedirs(os.path.join(root, 'data', 'deep', 'er'))
    with open(os.path.join(root, 'conf', 'app.yml'), 'w') as handle:
        handle.write('listen: 8080\n')
    with open(os.path.join(root, 'conf', 'secret.key'), 'wb') as handle:
        handle.write(os.urandom(64))
    os.chmod(os.path.join(root, 'conf', 'secret.key'), 0o400)
    with open(os.path.join(root, 'data', 'deep', 'er', 'blob.bin'), 'wb') as handle:
        for _n in range(40):
            handle.write(os.urandom(32 * 1024) + b'a' * 32 * 1024)
    os.link(os.path.join(root, 'conf', 'app.yml'), os.path.join(root, 'data', 'app-hardlink.yml'))
    os.symlink('../conf/app.yml', os.path.join(root, 'data', 'app.lnk'))
    os.symlink('deep/er', os.path.join(root, 'data', 'dir.lnk'))
    os.chmod(os.path.join(root, 'data', 'deep'), 0o750)
    os.chmod(os.path.join(root, 'conf', 'empty'), 0o1777)
    if os.geteuid() == 0:
        os.chown(os.path.join(root, 'conf', 'app.yml'), 65534, 65534)
        os.lchown(os.path.join(root, 'data', 'app.lnk'), 1234, 4321)
        os.chown(os.path.join(root, 'data', 'deep'), 1000, 100)
    os.utime(os.path.join(root, 'conf', 'app.yml'), (1600000000, 1600000000))
    os.utime(os.path.join(root, 'conf', 'empty'), (1500000000, 1500000000))
    os.utime(os.path.join(root, 'data', 'app.lnk'), (1400000000, 1400000000), follow_symlinks=False)


def snapshot(root):
    """Everything a restore must preserve, per relative path (hard links as shared inode groups)."""
    out = {}
    inode_names = {}
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in [''] + sorted(dirs + files) if base == root else sorted(dirs + files):
            full = os.path.join(base, name) if name else base
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            entry = {'mode': stat.S_IMODE(st.st_mode), 'type': stat.S_IFMT(st.st_mode), 'uid': st.st_uid,
                     'gid': st.st_gid, 'mtime': int(st.st_mtime)}
            if stat.S_ISREG(st.st_mode):
                with open(full, 'rb') as handle:
                    entry['sha256'] = hashlib.sha256(handle.read()).hexdigest()
                inode_names.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                entry['link'] = os.readlink(full)
            out[rel] = entry
    groups = sorted(sorted(names) for names in inode_names.values() if len(names) > 1)
    return out, groups


def crafted_archive(path, members):
    """Write a .tar.gz with hand-made members: list of (name, type, data_or_linkname)."""
    with tarfile.open(path, 'w:gz') as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == 'file':
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            elif kind == 'dir':
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif kind == 'symlink':
                info.type = tarfile.SYMTYPE
                info.linkname = payload
                tar.addfile(info)
            elif kind == 'hardlink':
                info.type = tarfile.LNKTYPE
                info.linkname = payload
                tar.addfile(info)
            elif kind == 'chr':
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = 1, 3
                tar.addfile(info)


def config_dir(tmp_path):
    """``<tmp>/etc/cloudos`` with one small config file: the smallest source a set can hold."""
    path = tmp_path / 'etc' / 'cloudos'
    path.mkdir(parents=True)
    (path / 'cloudos.yml').write_text('api: {port: 8080}\n')
    return path
