# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the diagnostics bundles: verify the fetched archives, obfuscate them
consistently across hosts with one map, and write the index (``index.json``, ``index.md``).

Private to this collection (the leading underscore): no compatibility promise. Plain functions,
unit-tested without Ansible; the action plugin ``cloudos_diagnostics_index`` calls them.

Obfuscation follows ``sos clean``: host names, IPv4 and IPv6 addresses, MAC addresses, user
names and given keywords are replaced by stable aliases (``host-001``, ``198.18.0.1``,
``2001:db8::1``, ``02:00:00:00:00:01``, ``user-001``, ``word-001``). One map serves every host of
the run (and later runs that use the same map file), so the same address is the same alias in
every bundle. The map is written only on the controller, mode 0600, outside the bundles; each
rewritten file gets its new sha256 and size in the bundle's manifest.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import re
import tarfile
import time

from ansible_collections.cloudos.ops.plugins.module_utils import _common
from ansible_collections.cloudos.ops.plugins.module_utils import _diagnostics as diag

KINDS = ('hostname', 'ip', 'mac', 'user', 'keyword')
_IPV4 = re.compile(r'(?<![\w.])((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})(?![\w]|\.\d)')
_IPV6 = re.compile(r'(?<![\w:.])((?:[0-9A-Fa-f]{1,4}:){1,7}:?(?:[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{1,4})*)(?![\w:])')
_MAC = re.compile(r'(?<![\w:])((?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2})(?![\w:])')
KEEP_MACS = ('00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff')
# Names every host has; mapping them would hide nothing and garble URLs such as http://localhost:8000.
KEEP_HOSTNAMES = ('localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback')


class BundleError(Exception):
    """A fetched bundle that cannot be used (missing, checksum mismatch, not a bundle)."""


# --------------------------------------------------------------------------- checksums

sha256_bytes = diag.sha256
sha256_file = diag.file_sha256


def read_sha256_file(path):
    """The checksum in a ``sha256sum`` line (``<hex>  <name>``)."""
    with open(path) as handle:
        return handle.read().split()[0].strip().lower()


def read_bundle(path):
    """``(prefix, [(name, bytes)], manifest)`` of an archive written by ``cloudos_diagnostics``."""
    members = []
    prefix = None
    with tarfile.open(path, 'r:gz') as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            top, _sep, rest = member.name.partition('/')
            if prefix is None:
                prefix = top
            if top != prefix or not rest or rest.startswith('/') or '..' in rest.split('/'):
                raise BundleError('%s: unexpected member %r' % (path, member.name))
            members.append((rest, tar.extractfile(member).read()))
    files = dict(members)
    if 'manifest.json' not in files:
        raise BundleError('%s has no manifest.json' % path)
    return prefix, members, json.loads(files['manifest.json'].decode('utf-8'))


def verify_members(members, manifest):
    """Names whose content does not match the manifest's sha256 (``[]`` when all match)."""
    files = dict(members)
    bad = []
    for entry in manifest.get('files', []):
        body = files.get(entry['path'])
        if body is None or sha256_bytes(body) != entry['sha256'] or len(body) != entry['bytes']:
            bad.append(entry['path'])
    return bad


def write_bundle(path, prefix, members, mtime=None):
    """Write ``members`` as the archive ``path`` (0600 files in 0700 directories), atomically."""
    mtime = int(mtime or time.time())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        dirs = set()
        for name, body in members:
            diag.tar_add(tar, '%s/%s' % (prefix, name), body, dirs, mtime)
    return _common.write_atomic(path, buffer.getvalue(), mode=0o600)


def write_private(path, data, mode=0o600):
    """Write ``data`` atomically with ``mode`` (the map, the checksum files, the index)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    return _common.write_atomic(path, data, mode=mode)


# --------------------------------------------------------------------------- obfuscation

class Obfuscator:
    """One consistent map ``{kind: {original: alias}}`` for every bundle of a run."""

    def __init__(self, mapping=None, hostnames=(), users=(), keywords=()):
        self.map = dict((kind, dict((mapping or {}).get(kind) or {})) for kind in KINDS)
        for name in hostnames:
            if name and name.lower() not in KEEP_HOSTNAMES:
                self._alias('hostname', name.lower())
        for name in users:
            self._alias('user', name)
        for word in keywords:
            self._alias('keyword', word)
        self.counts = {}

    def _alias(self, kind, original):
        table = self.map[kind]
        if original in table:
            return table[original]
        n = len(table) + 1
        if kind == 'hostname':
            alias = 'host-%03d' % n
        elif kind == 'user':
            alias = 'user-%03d' % n
        elif kind == 'keyword':
            alias = 'word-%03d' % n
        elif kind == 'mac':
            alias = '02:00:00:%02x:%02x:%02x' % ((n >> 16) & 255, (n >> 8) & 255, n & 255)
        elif ':' in original:
            alias = str(ipaddress.IPv6Address('2001:db8::') + n)
        else:
            alias = str(ipaddress.IPv4Address('198.18.0.0') + n)
        table[original] = alias
        return alias

    def _count(self, kind):
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def _names(self, kind):
        names = sorted(self.map[kind], key=len, reverse=True)
        if not names:
            return None
        flags = re.I if kind == 'hostname' else 0
        # A name next to a hyphen or a dot is still replaced (cloudos-diagnostics-web01-..., web01.example.com).
        return re.compile(r'(?<![^\W_])(' + '|'.join(re.escape(n) for n in names) + r')(?![^\W_])', flags)

    def text(self, text):
        """``text`` with every known name and every address replaced by its alias."""
        for kind in ('hostname', 'keyword', 'user'):
            pattern = self._names(kind)
            if pattern is not None:
                table = self.map[kind]
                key = (lambda v: v.lower()) if kind == 'hostname' else (lambda v: v)

                def name_sub(match, table=table, key=key, kind=kind):
                    self._count(kind)
                    return table[key(match.group(1))]
                text = pattern.sub(name_sub, text)
        text = _MAC.sub(self._mac, text)
        text = _IPV4.sub(self._ipv4, text)
        text = _IPV6.sub(self._ipv6, text)
        return text

    def _mac(self, match):
        value = match.group(1).lower()
        if value in KEEP_MACS:
            return match.group(0)
        self._count('mac')
        return self._alias('mac', value)

    def _ipv4(self, match):
        value = match.group(1)
        address = ipaddress.IPv4Address(value)
        if address.is_loopback or address.is_unspecified or value.startswith('255.') or address.is_multicast \
                or value == '255.255.255.255' or value in self.map['ip'].values():
            return match.group(0)
        self._count('ip')
        return self._alias('ip', value)

    def _ipv6(self, match):
        value = match.group(1)
        try:
            address = ipaddress.IPv6Address(value)
        except ValueError:
            return match.group(0)
        if address.is_loopback or address.is_unspecified or address.is_multicast or value in self.map['ip'].values() \
                or address in ipaddress.IPv6Network('2001:db8::/32'):
            return match.group(0)
        self._count('ip')
        return self._alias('ip', str(address))

    def bundle(self, prefix, members, manifest):
        """``(prefix, members, manifest)`` obfuscated; the manifest gets each new sha256 and size."""
        before = dict(self.counts)
        out = []
        for name, body in members:
            if name != 'manifest.json':
                out.append((self.text(name), self.text(body.decode('utf-8', 'surrogateescape')).encode(
                    'utf-8', 'surrogateescape')))
        manifest = json.loads(self.text(json.dumps(manifest)))
        bodies = dict(out)
        for entry in manifest.get('files', []):
            body = bodies.get(entry['path'])
            if body is not None:
                entry['sha256'] = sha256_bytes(body)
                entry['bytes'] = len(body)
        counts = dict((k, self.counts.get(k, 0) - before.get(k, 0)) for k in KINDS)
        manifest['obfuscated'] = dict(by='cloudos.ops.cloudos_diagnostics_index', replacements=counts,
                                      note='the map is kept on the controller only')
        body = (json.dumps(manifest, indent=2, sort_keys=True) + '\n').encode('utf-8')
        out.append(('manifest.json', body))
        return self.text(prefix), out, manifest


def load_map(path):
    if path and os.path.exists(path):
        with open(path) as handle:
            return json.load(handle).get('map', {})
    return {}


def save_map(path, obfuscator):
    data = dict(format=1, note='Obfuscation map of the CloudOS diagnostics bundles. Keep it private: it undoes the '
                               'obfuscation.', map=obfuscator.map)
    return write_private(path, json.dumps(data, indent=2, sort_keys=True) + '\n', 0o600)


# --------------------------------------------------------------------------- the index

def host_entry(host, archive, manifest, verified, problems):
    totals = manifest.get('totals', {})
    return dict(host=host, archive=os.path.basename(archive), sha256=sha256_file(archive),
                bytes=os.path.getsize(archive), verified=verified, problems=problems,
                files=totals.get('files'), content_bytes=totals.get('bytes'), truncated=totals.get('truncated'),
                errors=totals.get('errors'), skipped=totals.get('skipped'), stopped=manifest.get('stopped'),
                redactions=totals.get('redactions', {}), redaction_total=totals.get('redaction_total', 0),
                window=manifest.get('window'), collector_version=manifest.get('collector_version'),
                obfuscated=bool(manifest.get('obfuscated')))


def process(dest, fetched, obfuscate=False, map_path=None, hostnames=(), users=(), keywords=(), run_id=None,
            now=None):
    """Verify every fetched bundle, obfuscate them when asked, and write ``index.json`` and ``index.md`` in ``dest``.

    ``fetched`` is ``{host: {archive: local path, sha256: what the host said}}`` (``{failed, msg}``
    for a host that produced none). Returns the index.
    """
    entries, problems_total = [], 0
    obfuscator = Obfuscator(load_map(map_path), hostnames=list(hostnames) + list(fetched), users=users,
                            keywords=keywords) if obfuscate else None
    for host in sorted(fetched):
        item = fetched[host] or {}
        archive = item.get('archive')
        shown = obfuscator.text(host) if obfuscator else host
        if item.get('failed') or not archive or not os.path.exists(archive):
            entries.append(dict(host=shown, archive=None, verified=False,
                                problems=[item.get('msg') or 'no bundle was fetched']))
            problems_total += 1
            continue
        problems = []
        digest = sha256_file(archive)
        side = archive + '.sha256'
        if item.get('sha256') and digest != item['sha256']:
            problems.append('archive sha256 %s differs from the host\'s %s' % (digest, item['sha256']))
        if os.path.exists(side) and read_sha256_file(side) != digest:
            problems.append('archive sha256 differs from %s' % os.path.basename(side))
        prefix, members, manifest = read_bundle(archive)
        bad = verify_members(members, manifest)
        if bad:
            problems.append('files whose sha256 differs from the manifest: %s' % ', '.join(bad))
        if obfuscator is not None and not problems:
            prefix, members, manifest = obfuscator.bundle(prefix, members, manifest)
            new_archive = os.path.join(os.path.dirname(archive), prefix + '.tar.gz')
            write_bundle(new_archive, prefix, members)
            line = '%s  %s\n' % (sha256_file(new_archive), os.path.basename(new_archive))
            write_private(new_archive + '.sha256', line)
            if new_archive != archive:
                os.unlink(archive)
                if os.path.exists(side):
                    os.unlink(side)
            archive = new_archive
            bad = verify_members(members, manifest)
            if bad:
                problems.append('after obfuscation, files whose sha256 differs from the manifest: %s' % ', '.join(bad))
        problems_total += 1 if problems else 0
        entries.append(host_entry(shown, archive, manifest, not problems, problems))
    if obfuscator is not None and map_path:
        save_map(map_path, obfuscator)
    redactions = {}
    for entry in entries:
        for rule, hits in (entry.get('redactions') or {}).items():
            redactions[rule] = redactions.get(rule, 0) + hits
    index = dict(format=1, run_id=run_id, created=now or time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                 obfuscated=bool(obfuscate), hosts=entries,
                 totals=dict(hosts=len(entries), verified=sum(1 for e in entries if e.get('verified')),
                             problems=problems_total, bytes=sum(e.get('bytes') or 0 for e in entries),
                             redactions=dict(sorted(redactions.items()))))
    write_private(os.path.join(dest, 'index.json'), json.dumps(index, indent=2, sort_keys=True) + '\n', 0o600)
    write_private(os.path.join(dest, 'index.md'), render_markdown(index), 0o600)
    return index


def _size(value):
    if value is None:
        return '-'
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if value < 1024 or unit == 'GiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return str(value)


def render_markdown(index):
    lines = ['# CloudOS diagnostics bundles', '',
             'Run %s, %s. %d host(s), %d verified%s.' % (
                 index.get('run_id') or '-', index['created'], index['totals']['hosts'], index['totals']['verified'],
                 ', obfuscated (the map stays on the controller)' if index['obfuscated'] else ''), '',
             '| Host | Archive | Size | Files | Truncated | Errors | Stopped | Redactions | Verified |',
             '|---|---|---|---|---|---|---|---|---|']
    for e in index['hosts']:
        red = ', '.join('%s %d' % (k, v) for k, v in sorted((e.get('redactions') or {}).items())) or '-'
        lines.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            e['host'], e.get('archive') or '-', _size(e.get('bytes')), e.get('files', '-'), e.get('truncated', '-'),
            e.get('errors', '-'), e.get('stopped') or '-', red, 'yes' if e.get('verified') else 'NO'))
    problems = [(e['host'], p) for e in index['hosts'] for p in e.get('problems') or []]
    if problems:
        lines += ['', '## Problems', '']
        lines += ['- %s: %s' % item for item in problems]
    lines += ['', 'Check an archive: `sha256sum -c <archive>.sha256`; each file against '
              '`manifest.json` (`sha256` per file).', '']
    return '\n'.join(lines)
