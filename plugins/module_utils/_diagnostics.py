# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnostics bundle of ``cloudos.ops.cloudos_diagnostics``: what is collected, redaction,
size limits, the manifest and the archive, as plain functions.

Private to this collection (the leading underscore): no compatibility promise.

The order for every part is fixed: collect (bounded in time by the runner) -> :func:`redact`
(in memory) -> :func:`tail` (keep the last ``max_file_size`` bytes) -> the total cap -> written
straight into the ``.tar.gz`` (no unredacted byte touches the disk). The manifest records for
each file its source, return code, run time, size, whether it was truncated, its sha256 and
the redaction rules that hit it.

Docker is asked only through :mod:`._docker`, systemd only through :mod:`._systemd`; commands
go through ``run(argv, timeout) -> (rc, out, err, duration_ms)`` so unit tests script them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import threading
import time

from ansible_collections.cloudos.ops.plugins.module_utils import _common
from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils import _security
from ansible_collections.cloudos.ops.plugins.module_utils import _systemd

COLLECTOR_VERSION = '1.0.0'
MANIFEST_FORMAT = 1
MIB = 1024 * 1024
MASK = '***'
TIMED_OUT = 124  # the exit status of coreutils timeout(1)

DEFAULT_DEST = '/var/tmp/cloudos-diagnostics'
DEFAULT_CONFIG_PATHS = ('/etc/cloudos', '/opt/cloudos/config')
MAX_CONFIG_FILES = 500
UNIT_PROPERTIES = ('Id', 'Description', 'LoadState', 'ActiveState', 'SubState', 'Result', 'NRestarts',
                   'ExecMainStatus', 'ExecMainCode', 'ActiveEnterTimestamp', 'InactiveEnterTimestamp',
                   'StateChangeTimestamp', 'FragmentPath', 'MainPID', 'MemoryCurrent', 'CPUUsageNSec',
                   'Restart', 'StartLimitBurst', 'StartLimitIntervalUSec')
PROC_FILES = ('/proc/pressure/io', '/proc/pressure/cpu', '/proc/pressure/memory', '/proc/diskstats',
              '/proc/loadavg', '/proc/meminfo', '/proc/uptime')


# =========================================================================== redaction

# A key that names a secret: any word containing one of these (sos: ``(pass|key|secret|token).*?=``).
SECRET_WORD = r'(?:pass|pwd|secret|token|key|credential|auth|cookie|signature|private|salt)'
_KEY = r'[A-Za-z0-9_.-]*' + SECRET_WORD + r'[A-Za-z0-9_.-]*'
_KEY_RE = re.compile(r'^' + _KEY + r'$', re.I)


def looks_secret(name):
    """Whether a key, variable or label name looks like it holds a secret."""
    return bool(_KEY_RE.match(str(name or '')))


def _masked(value):
    return MASK in value or value.strip('"\' ') in ('', 'null', 'None', '~')


def _pem_sub(match):
    return '-----BEGIN %s-----%s-----END %s-----' % (match.group(1), MASK, match.group(1))


def _url_sub(match):
    return '%s%s:%s@' % (match.group(1), match.group(2), MASK)


def _auth_sub(match):
    return match.group(1) + MASK


def _json_sub(match):
    if _masked(match.group(2)):
        return match.group(0)
    return '%s"%s"' % (match.group(1), MASK)


def _ini_sub(match):
    if _masked(match.group(4)):
        return match.group(0)
    return '%s%s%s%s' % (match.group(1), match.group(2), match.group(3), MASK)


def _cli_sub(match):
    if _masked(match.group(2)) or match.group(2).startswith('-'):
        return match.group(0)
    return '%s %s' % (match.group(1), MASK)


# (name, pattern, replacement, what it covers). Applied in this order to every text of the bundle.
RULES = (
    ('pem_block', re.compile(r'-----BEGIN ([A-Z0-9 ]{1,64})-----.*?(?:-----END [A-Z0-9 ]{1,64}-----|\Z)', re.S),
     _pem_sub, 'PEM blocks (keys, certificates), also a block cut off at the end'),
    ('pem_tail', re.compile(r'(?:^[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*\r?\n)+[ \t]*-----END ([A-Z0-9 ]{1,64})-----', re.M),
     lambda m: '-----END %s----- (%s)' % (m.group(1), MASK), 'the rest of a PEM block whose start was cut off'),
    ('base64_pem', re.compile(r'LS0tLS1CRUdJT[A-Za-z0-9+/=]*(?:(?:\\n|\r?\n)[ \t]*[A-Za-z0-9+/=]{20,})*'),
     lambda m: MASK if m.group(0) != MASK else m.group(0), 'base64-encoded PEM (LS0tLS1CRUdJ...), as in Kubernetes secrets'),
    ('url_credentials', re.compile(r'(\b[A-Za-z][A-Za-z0-9+.-]{0,20}://)([^\s:/?#@"\'<>]*):([^\s/?#"\'<>]*)@'),
     _url_sub, 'the password of scheme://user:password@host'),
    ('auth_header', re.compile(
        r'((?:\b(?:proxy-)?authorization|\bx-api-key|\bx-auth-token)["\']?\s*[:=]\s*["\']?'
        r'(?:(?:bearer|basic|token|bot|digest|negotiate)\s+)?|\bbearer\s+)'
        r'(?!(?:bearer|basic|token|bot|digest|negotiate)\b)([A-Za-z0-9._~+/=:-]{4,})', re.I),
     _auth_sub, 'Authorization headers and bearer tokens'),
    ('json_secret', re.compile(r'("' + _KEY + r'"\s*:\s*)"((?:[^"\\\n]|\\.)*)"', re.I),
     _json_sub, 'JSON "password": "value" (any key naming a secret)'),
    ('yaml_secret', None, None, 'YAML password: value, including block scalars (| and >)'),
    ('text_secret', re.compile(r'(^|[\s"\'{(\[,;])(' + _KEY + r')(:[ \t]+)'
                               r'(?![^\s"\',;)\]}]*[ \t]+\*\*\*)'
                               r'("[^"\n]*"|\'[^\'\n]*\'|[^\s"\',;)\]}]+)', re.I | re.M),
     _ini_sub, 'key: value inside a line (log lines, strings in JSON)'),
    ('ini_secret', re.compile(r'(^|[\s;,&?{(\[])(["\']?' + _KEY + r'["\']?)(\s*=\s*)'
                              r'(?![^\s&;,"\')\]}]*[ \t]+\*\*\*)'  # an Authorization=Basic *** already done
                              r'("[^"\n]*"|\'[^\'\n]*\'|[^\s&;,"\')\]}]+)', re.I | re.M),
     _ini_sub, 'key=value (ini, environment, query strings, --password=value)'),
    ('cli_secret', re.compile(r'((?:^|\s)--?[A-Za-z0-9_-]*(?:password|passwd|secret|token|api-key|apikey)'
                              r'[A-Za-z0-9_-]*)[ \t]+("[^"\n]*"|\'[^\'\n]*\'|[^\s"\']+)', re.I | re.M),
     _cli_sub, 'command-line options --password value'),
)
RULE_NAMES = tuple(rule[0] for rule in RULES) + ('docker_env', 'docker_label')
RULE_DESCRIPTIONS = dict((rule[0], rule[3]) for rule in RULES)
RULE_DESCRIPTIONS.update(docker_env='every value of a container\'s environment (Config.Env KEY=***)',
                         docker_label='container labels whose name looks secret')

_YAML_LINE = re.compile(r'^(\s*(?:-\s+)?["\']?(' + _KEY + r')["\']?\s*:)([ \t]+)(.*?)\s*$', re.I)
_BLOCK_SCALAR = re.compile(r'^[|>][+-]?[0-9]?\s*(#.*)?$')


def _indent(line):
    return len(line) - len(line.lstrip(' \t'))


def redact_yaml(text):
    """``key: value`` lines whose key names a secret -> ``key: ***``; a block scalar's lines go too."""
    lines = text.split('\n')
    out, hits, i = [], 0, 0
    while i < len(lines):
        line = lines[i]
        match = _YAML_LINE.match(line)
        value = match.group(4) if match else ''
        if not match or _masked(value) or value.startswith(('{', '[', '&', '*', '#')):
            out.append(line)
            i += 1
            continue
        hits += 1
        out.append(match.group(1) + match.group(3) + MASK)
        i += 1
        if _BLOCK_SCALAR.match(value):
            own = _indent(line)
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > own):
                out.append(' ' * (own + 2) + MASK if lines[i].strip() else lines[i])
                i += 1
    return '\n'.join(out), hits


def redact(text):
    """``(text, {rule: hits})``: ``text`` with every secret the rules recognise replaced by ``***``."""
    counts = {}
    for name, pattern, replacement, _what in RULES:
        if pattern is None:
            text, hits = redact_yaml(text)
        else:
            hits = sum(1 for m in pattern.finditer(text) if replacement(m) != m.group(0))
            if hits:
                text = pattern.sub(replacement, text)
        if hits:
            counts[name] = counts.get(name, 0) + hits
    return text, counts


def redact_bytes(data):
    """:func:`redact` for bytes (undecodable bytes survive unchanged)."""
    text, counts = redact(data.decode('utf-8', 'surrogateescape'))
    return text.encode('utf-8', 'surrogateescape'), counts


def add_counts(total, counts):
    for name, hits in (counts or {}).items():
        total[name] = total.get(name, 0) + hits
    return total


def mask_inspect(data):
    """``docker inspect`` output with every environment value and secret-looking label masked.

    Returns ``(data, {rule: hits})``; the JSON text then still goes through :func:`redact`.
    """
    counts = {}
    for item in data if isinstance(data, list) else [data]:
        config = (item or {}).get('Config') or {}
        env = config.get('Env') or []
        masked = []
        for entry in env:
            key, sep, value = str(entry).partition('=')
            if sep and value and value != MASK:
                counts['docker_env'] = counts.get('docker_env', 0) + 1
                masked.append('%s=%s' % (key, MASK))
            else:
                masked.append(entry)
        if env:
            config['Env'] = masked
        labels = config.get('Labels') or {}
        for key in list(labels):
            if looks_secret(key) and labels[key] and labels[key] != MASK:
                labels[key] = MASK
                counts['docker_label'] = counts.get('docker_label', 0) + 1
    return data, counts


# =========================================================================== size limits

def tail(data, limit):
    """``(data, truncated)``: at most ``limit`` bytes, the END of ``data`` (like ``sos --log-size``).

    The kept part starts at a line boundary and after a line that says how much was cut.
    """
    if limit is None or len(data) <= limit:
        return data, False
    note_size = 120
    keep = data[len(data) - (limit - note_size):] if limit > note_size else b''
    newline = keep.find(b'\n')
    if 0 <= newline < len(keep) - 1 and newline < 4096:
        keep = keep[newline + 1:]
    note = ('[cloudos_diagnostics: %d of %d bytes cut from the start; the last %d bytes follow]\n'
            % (len(data) - len(keep), len(data), len(keep))).encode('ascii')
    if len(note) + len(keep) > limit:
        return data[len(data) - limit:], True
    return note + keep, True


def parse_size(value, name):
    """Bytes from ``200M``, ``25MiB``, ``1g``, ``4096`` (binary units)."""
    match = re.match(r'^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$', str(value), re.I)
    if not match:
        raise ValueError('%s: %r is not a size (for example 25M, 200MiB, 1G)' % (name, value))
    factor = {'': 1, 'k': 1024, 'm': MIB, 'g': 1024 * MIB, 't': 1024 * 1024 * MIB}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def preflight(dest, max_size, margin, statvfs=os.statvfs):
    """``None`` when ``dest`` (or its nearest existing parent) has room for ``max_size + margin``, else the reason."""
    probe = dest
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    try:
        st = statvfs(probe or '/')
    except OSError as exc:
        return 'cannot read the free space of %s: %s' % (probe, exc)
    free = st.f_bavail * st.f_frsize
    need = max_size + margin
    if free < need:
        return ('not enough free space for the diagnostics bundle in %s: %s free, %s needed (max_size %s plus a margin '
                'of %s); free some space, lower max_size or choose another dest'
                % (dest, _common.human_size(free), _common.human_size(need), _common.human_size(max_size),
                   _common.human_size(margin)))
    return None


# =========================================================================== the bundle

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _tar_info(name, mode, mtime, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = 'root'
    return info


def tar_add(sink, name, data, dirs, mtime):
    """Add ``data`` as ``name`` (mode 0600, root) to the open ``tarfile`` ``sink``; its directories
    first (mode 0700), each once (``dirs`` is the set of those already added)."""
    parts = name.split('/')
    for depth in range(1, len(parts)):
        directory = '/'.join(parts[:depth])
        if directory not in dirs:
            dirs.add(directory)
            sink.addfile(_tar_info(directory, 0o700, mtime, tarfile.DIRTYPE))
    info = _tar_info(name, 0o600, mtime)
    info.size = len(data)
    sink.addfile(info, io.BytesIO(data))


class Bundle:
    """The manifest and the archive being written, with the per-file and total caps.

    ``sink`` is a ``tarfile`` open for writing (``None`` in check mode: the sources are listed only).
    """

    def __init__(self, sink, prefix, max_file_size, max_size, now=time.time):
        self.sink = sink
        self.prefix = prefix
        self.max_file_size = max_file_size
        self.max_size = max_size
        self.now = now
        self.files = []
        self.skipped = []
        self.stopped = None
        self.total = 0
        self.redactions = {}
        self._dirs = set()

    def full(self):
        return self.stopped is not None

    def add(self, path, data, source, rc=None, duration_ms=None, error=None, redacted=True, counts=None):
        """Redact, cap and write one file; returns its manifest entry (``None`` when the cap stopped collecting)."""
        if isinstance(data, str):
            data = data.encode('utf-8', 'surrogateescape')
        counts = dict(counts or {})
        if self.full():
            self.skipped.append(dict(path=path, source=source, reason=self.stopped))
            return None
        if redacted:
            data, hits = redact_bytes(data)
            add_counts(counts, hits)
        original = len(data)
        data, truncated = tail(data, self.max_file_size)
        reason = 'max_file_size' if truncated else None
        room = self.max_size - self.total
        if len(data) > room:
            data, _cut = tail(data, max(room, 0))
            truncated, reason = True, 'max_size'
            self.stopped = 'max_size reached (%d bytes): collecting stopped' % self.max_size
        entry = dict(path=path, source=source, rc=rc, duration_ms=duration_ms, bytes=len(data),
                     source_bytes=original, truncated=truncated, sha256=sha256(data), redactions=counts)
        if reason:
            entry['truncated_by'] = reason
        if error:
            entry['error'] = error
        self._write(path, data)
        self.total += len(data)
        self.files.append(entry)
        add_counts(self.redactions, counts)
        return entry

    def _write(self, path, data):
        if self.sink is not None:
            tar_add(self.sink, '%s/%s' % (self.prefix, path), data, self._dirs, int(self.now()))

    def manifest(self, host, window, started, options):
        totals = dict(files=len(self.files), bytes=self.total, truncated=sum(1 for f in self.files if f['truncated']),
                      errors=sum(1 for f in self.files if f.get('error') or (f['rc'] not in (None, 0))),
                      skipped=len(self.skipped), redactions=dict(sorted(self.redactions.items())),
                      redaction_total=sum(self.redactions.values()))
        return dict(format=MANIFEST_FORMAT, collector='cloudos.ops.cloudos_diagnostics', collector_version=COLLECTOR_VERSION,
                    host=host, created=_common.rfc3339(_common.utcnow()), started=started, window=window,
                    limits=options, stopped=self.stopped, files=self.files, skipped=self.skipped, totals=totals,
                    rules=dict((name, RULE_DESCRIPTIONS[name]) for name in RULE_NAMES))


# =========================================================================== collectors

def matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def journal_argv(patterns, since_epoch, max_lines):
    argv = ['journalctl', '--no-pager', '--quiet', '-o', 'short-iso-precise', '--since', '@%d' % since_epoch]
    if max_lines:
        argv += ['-n', str(max_lines)]
    for pattern in patterns:
        argv += ['-u', pattern]
    return argv


def since_epoch(since, now):
    """The start of the time window as a unix time: ``since`` is a duration (``24h``) or a time (RFC 3339)."""
    moment = _common.parse_time(since) if re.match(r'^\s*\d{4}-\d\d-\d\d', str(since)) else None
    if moment is not None:
        return int(moment.timestamp())
    return int(now - _common.parse_duration(since, 'since'))


def top_processes(text, count):
    """The header and the first ``count`` processes of a ``ps --sort`` listing."""
    lines = text.splitlines()
    return '\n'.join(lines[:count + 1]) + '\n' if lines else ''


def _look(resolver, name, box):
    try:
        box['answer'] = sorted(set(info[4][0] for info in resolver(name, None)))
    except Exception as exc:  # pylint: disable=broad-except
        box['error'] = str(exc)


def resolve_names(names, timeout, resolver=socket.getaddrinfo):
    """``{name: {addresses, error, duration_ms}}``, each lookup bounded by ``timeout`` seconds."""
    result = {}
    for name in names:
        box = {}
        started = time.monotonic()
        worker = threading.Thread(target=_look, args=(resolver, name, box), daemon=True)
        worker.start()
        worker.join(timeout)
        entry = dict(duration_ms=int((time.monotonic() - started) * 1000))
        if 'answer' in box:
            entry['addresses'] = box['answer']
        else:
            entry['error'] = box.get('error') or 'no answer within %ss' % timeout
        result[name] = entry
    return result


def config_files(paths, exists=os.path.exists, walk=os.walk, isfile=os.path.isfile, islink=os.path.islink):
    """Regular files under ``paths`` (files or directories), sorted, symbolic links not followed."""
    found = []
    for path in paths:
        if islink(path) or not exists(path):
            continue
        if isfile(path):
            found.append(path)
            continue
        for root, dirs, files in walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                if not islink(full) and isfile(full):
                    found.append(full)
    return found[:MAX_CONFIG_FILES]


def safe_name(text):
    return re.sub(r'[^A-Za-z0-9_.@-]+', '_', text).strip('_') or 'unnamed'


class Host:
    """What the collectors need from the host (a module fills it in; unit tests pass fakes)."""

    def __init__(self, run, which, read, exists=os.path.exists, docker_opts=None, docker_sdk=None,
                 resolver=socket.getaddrinfo, now=time.time):
        self.run = run          # run(argv, timeout) -> (rc, out bytes, err bytes, duration_ms)
        self.which = which      # which(name) -> path or None
        self.read = read        # read(path) -> bytes (raises OSError)
        self.exists = exists
        self.docker_opts = docker_opts or {}
        self.docker_sdk = docker_sdk
        self.resolver = resolver
        self.now = now
        self.docker_connection = None


def close(host):
    """Close the Docker connection :func:`plan` opened, if any."""
    if host.docker_connection is not None:
        _docker.close(host.docker_connection.client)
        host.docker_connection = None


def plan(host, params):
    """``[(path, source, collect)]``: every part of the bundle; ``collect()`` -> dict for :meth:`Bundle.add`.

    Listing is cheap and read-only (check mode returns the paths and sources only).
    """
    items = []
    timeout = params['command_timeout']

    def command(path, argv, post=None):
        def collect():
            rc, out, err, ms = host.run(argv, timeout)
            data = out if rc == 0 or not err else out + b'\n--- stderr ---\n' + err
            if post is not None and rc == 0:
                data = post(data)
            error = 'timed out after %ss' % timeout if rc == TIMED_OUT else None
            return dict(data=data, rc=rc, duration_ms=ms, error=error)
        items.append((path, argv, collect))

    def proc_file(path, name):
        def collect():
            started = time.monotonic()
            try:
                data = host.read(name)
                return dict(data=data, rc=0, duration_ms=int((time.monotonic() - started) * 1000))
            except OSError as exc:
                return dict(data=b'', rc=None, error=str(exc), duration_ms=0)
        items.append((path, name, collect))

    # systemd: unit states (no Environment property) and the journal of the matching units.
    if _systemd.Systemd(None, exists=host.exists, which=host.which).running():
        items.append(('systemd/units.json', 'systemctl list-units/show %s' % ' '.join(params['unit_patterns']),
                      lambda: _units(host, params)))
    journalctl = host.which('journalctl')
    if journalctl:
        window_start = since_epoch(params['since'], host.now())
        command('journal/cloudos-units.log',
                [journalctl] + journal_argv(params['unit_patterns'], window_start, params['journal_lines'])[1:])

    # Docker: logs and inspect of the matching containers.
    if params['container_patterns']:
        items.extend(_docker_items(host, params))

    # Processes, disk, I/O pressure, memory.
    ps_fields = 'pid,ppid,user,pcpu,pmem,rss,vsz,stat,etime,args'
    ps, df, ip, ss = host.which('ps'), host.which('df'), host.which('ip'), host.which('ss')
    if ps:
        count = params['top']
        command('processes/top-cpu.txt', [ps, '-eww', '-o', ps_fields, '--sort=-pcpu'],
                lambda data: top_processes(data.decode('utf-8', 'surrogateescape'), count).encode(
                    'utf-8', 'surrogateescape'))
        command('processes/top-memory.txt', [ps, '-eww', '-o', ps_fields, '--sort=-rss'],
                lambda data: top_processes(data.decode('utf-8', 'surrogateescape'), count).encode(
                    'utf-8', 'surrogateescape'))
    if df:
        command('disk/df.txt', [df, '-PTh'])
        command('disk/df-inodes.txt', [df, '-Pi'])
    for name in PROC_FILES:
        if host.exists(name):
            proc_file('proc/%s' % name[len('/proc/'):].replace('/', '-'), name)

    # Network: addresses, routes, listening sockets, DNS.
    if ip:
        command('network/ip-addr.txt', [ip, 'addr', 'show'])
        command('network/ip-route.txt', [ip, 'route', 'show', 'table', 'all'])
    else:
        for name in ('/proc/net/dev', '/proc/net/route', '/proc/net/ipv6_route'):
            if host.exists(name):
                proc_file('network/proc-net-%s' % os.path.basename(name), name)
    if ss:
        command('network/listening.txt', [ss, '-tulpn'])
    else:
        items.append(('network/listening.json', '/proc/net/{tcp,tcp6,udp,udp6}', lambda: _listening(host)))
    if host.exists('/etc/resolv.conf'):
        proc_file('network/resolv.conf', '/etc/resolv.conf')
    if params['resolve_names']:
        items.append(('network/dns.json', 'getaddrinfo %s' % ' '.join(params['resolve_names']),
                      lambda: dict(data=_json(resolve_names(params['resolve_names'], params['dns_timeout'],
                                                            host.resolver)), rc=0)))

    # CloudOS itself: config validation, configuration files, the health report.
    cloudos = host.which('cloudos')
    if cloudos:
        command('cloudos/config-validate.txt', [cloudos, 'config', 'validate'])
    for path in config_files(params['config_paths'], exists=host.exists):
        proc_file('config' + path, path)
    if params.get('health') is not None:
        items.append(('cloudos/health.json', 'cloudos.ops.cloudos_health (option health)',
                      lambda: dict(data=_json(params['health']), rc=0)))
    return items


def _json(value):
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + '\n').encode('utf-8')


def _units(host, params):
    started = time.monotonic()
    systemd = _systemd.Systemd(lambda argv: host.run(argv, params['command_timeout'])[:3], exists=host.exists,
                               which=host.which)
    try:
        names = systemd.list_units(params['unit_patterns'])
        states = systemd.show(names, UNIT_PROPERTIES) if names else {}
        return dict(data=_json(states), rc=0, duration_ms=int((time.monotonic() - started) * 1000))
    except _systemd.SystemdError as exc:
        return dict(data=b'', rc=exc.rc, error=str(exc), duration_ms=int((time.monotonic() - started) * 1000))


def _listening(host):
    """Listening sockets parsed from ``/proc/net`` (where ``ss`` is not installed), as the security check reads them."""
    found = []
    for kind in ('tcp', 'tcp6', 'udp', 'udp6'):
        try:
            found += _security.parse_proc_net(host.read('/proc/net/' + kind).decode('ascii', 'replace'), kind)
        except OSError:
            continue
    return dict(data=_json(_security.listening(found)), rc=0)


def _docker_items(host, params):
    """Containers matching ``container_patterns``: ``docker logs --tail`` and a masked ``docker inspect``."""
    try:
        conn = _docker.connect(host.docker_opts, low_level=True, sdk=host.docker_sdk, exists=host.exists)
    except _docker.DockerError as exc:
        if exc.reason == _docker.ABSENT:
            return []
        return [('docker/error.txt', 'docker', lambda: dict(data=str(exc), rc=None, error=str(exc)))]
    try:
        listed = conn.client.containers(all=True)
    except Exception as exc:  # pylint: disable=broad-except
        _docker.close(conn.client)
        text = _docker.api_error_text(conn.url, exc)
        return [('docker/error.txt', 'docker ps', lambda: dict(data=text, rc=None, error=text))]
    items = []
    names = []
    for entry in listed:
        name = (entry.get('Names') or ['/' + entry.get('Id', '')[:12]])[0].lstrip('/')
        if matches(name, params['container_patterns']):
            names.append((name, entry.get('Id')))
    names.sort()
    host.docker_connection = conn

    def timed(call):
        started = time.monotonic()
        try:
            data, error = call(), None
        except Exception as exc:  # pylint: disable=broad-except
            data, error = b'', _docker.api_error_text(conn.url, exc)
        return data, error, int((time.monotonic() - started) * 1000)

    for name, ident in names:
        def logs(ident=ident):
            data, error, ms = timed(lambda: conn.client.logs(ident, stdout=True, stderr=True, timestamps=True,
                                                             tail=params['docker_log_lines']))
            return dict(data=data or b'', rc=None if error else 0, error=error, duration_ms=ms)

        def inspect(ident=ident):
            data, error, ms = timed(lambda: conn.client.inspect_container(ident))
            if error:
                return dict(data=b'', rc=None, error=error, duration_ms=ms)
            data, counts = mask_inspect(data)
            return dict(data=_json(data), rc=0, duration_ms=ms, counts=counts)

        safe = safe_name(name)
        items.append(('docker/%s.log' % safe, ['docker', 'logs', '--timestamps', '--tail',
                                               str(params['docker_log_lines']), name], logs))
        items.append(('docker/%s.inspect.json' % safe, ['docker', 'inspect', name], inspect))
    return items


def sources(items):
    return [dict(path=path, source=source) for path, source, _collect in items]


def collect(host, params, sink, prefix):
    """Run every collector of :func:`plan` into a :class:`Bundle`; returns it (manifest not yet written)."""
    bundle = Bundle(sink, prefix, params['max_file_size'], params['max_size'], now=host.now)
    try:
        for path, source, run in plan(host, params):
            if bundle.full():
                bundle.skipped.append(dict(path=path, source=source, reason=bundle.stopped))
                continue
            got = run()
            bundle.add(path, got.get('data') or b'', source, rc=got.get('rc'), duration_ms=got.get('duration_ms'),
                       error=got.get('error'), counts=got.get('counts'))
    finally:
        close(host)
    return bundle


def bundle_name(host_name, now):
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
    return 'cloudos-diagnostics-%s-%s' % (safe_name(host_name), stamp)


def write_bundle(host, params, host_name, move=os.replace):
    """Collect into ``<dest>/<name>.tar.gz`` (0600, in a 0700 directory) plus ``<name>.tar.gz.sha256``.

    Returns ``(archive path, archive sha256, manifest)``. The archive is built under a temporary
    name and renamed when complete; a failure leaves nothing behind.
    """
    dest = params['dest']
    if not os.path.isdir(dest):
        os.makedirs(dest, 0o700)
    os.chmod(dest, 0o700)
    now = host.now()
    name = bundle_name(host_name, now)
    archive = os.path.join(dest, name + '.tar.gz')
    tmp = os.path.join(dest, '.%s.tar.gz.tmp' % name)
    started = _common.rfc3339(_common.utcnow())
    window = dict(since=_common.rfc3339(_dt(since_epoch(params['since'], now))), until=_common.rfc3339(_dt(now)),
                  requested=str(params['since']))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, 'wb') as raw:
            with tarfile.open(fileobj=raw, mode='w:gz') as sink:
                bundle = collect(host, params, sink, name)
                manifest = bundle.manifest(host_name, window, started, limits(params))
                data = _json(manifest)
                bundle._write('manifest.json', data)  # pylint: disable=protected-access
            raw.flush()
            os.fsync(raw.fileno())
        move(tmp, archive)
        os.chmod(archive, 0o600)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    digest = file_sha256(archive)
    _common.write_atomic(archive + '.sha256', '%s  %s\n' % (digest, os.path.basename(archive)), mode=0o600,
                         move=move)
    return archive, digest, manifest


def _dt(epoch):
    return _common.parse_time(epoch)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(MIB), b''):
            digest.update(block)
    return digest.hexdigest()


def limits(params):
    return dict(max_file_size=params['max_file_size'], max_size=params['max_size'],
                command_timeout=params['command_timeout'], journal_lines=params['journal_lines'],
                docker_log_lines=params['docker_log_lines'], top=params['top'])


def obfuscation_hints(host_name, fqdn=None, users=None):
    """Names the controller maps when it obfuscates: host names and local (uid >= 1000) user names."""
    names = sorted(set(n for n in (host_name, fqdn, (fqdn or '').split('.')[0]) if n and n != 'localhost'))
    return dict(hostnames=names, users=sorted(set(users or [])))


# --------------------------------------------------------------------------- the module's run

def command_runner(run_command, timeout_bin=None):
    """``run(argv, seconds) -> (rc, out, err, duration_ms)`` over the module's ``run_command``,
    bounded by coreutils ``timeout`` (``timeout_bin``) when it is installed."""

    def run(argv, seconds):
        argv = ([timeout_bin, '-k', '5', str(seconds)] if timeout_bin and seconds else []) + list(argv)
        started = time.monotonic()
        rc, out, err = run_command(argv, binary_data=True, expand_user_and_vars=False, encoding=None)
        return rc, out, err, int((time.monotonic() - started) * 1000)
    return run


def read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


def local_users():
    """Login names of the host's people (uid 1000 to 65533): what obfuscation hides."""
    import pwd  # pylint: disable=import-outside-toplevel
    return [p.pw_name for p in pwd.getpwall() if 1000 <= p.pw_uid < 65534]


def check_params(params, now):
    """The parameters with sizes in bytes; raise ``ValueError`` naming a bad one before anything runs."""
    params = dict(params)
    for name in ('max_file_size', 'max_size', 'free_space_margin'):
        params[name] = parse_size(params[name], name)
    since_epoch(params['since'], now)
    return params


def run(params, host, host_name, hints, check_mode=False, move=os.replace):
    """The module's result: the plan in check mode (nothing written), else the bundle written.
    Raises ``ValueError`` when the disk pre-flight refuses."""
    if check_mode:
        items = plan(host, params)
        close(host)
        short = preflight(params['dest'], params['max_size'], params['free_space_margin'])
        return dict(changed=False, sources=sources(items), obfuscation=hints, msg=short or 'check mode: nothing written')
    short = preflight(params['dest'], params['max_size'], params['free_space_margin'])
    if short:
        raise ValueError(short)
    archive, digest, manifest = write_bundle(host, params, host_name, move=move)
    return dict(changed=True, archive=archive, sha256=digest, sha256_file=archive + '.sha256',
                archive_bytes=os.path.getsize(archive), name=os.path.basename(archive)[:-len('.tar.gz')],
                totals=manifest['totals'], stopped=manifest['stopped'], window=manifest['window'],
                manifest=manifest, sources=[dict(path=f['path'], source=f['source']) for f in manifest['files']],
                obfuscation=hints)
