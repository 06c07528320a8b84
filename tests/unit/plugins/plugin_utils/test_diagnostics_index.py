"""The controller side of the diagnostics bundles: checksums, one obfuscation map across hosts,
the manifests' sha256 after obfuscation, the private map and the index."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile

from ansible_collections.cloudos.ops.plugins.module_utils import _diagnostics as d
from ansible_collections.cloudos.ops.plugins.plugin_utils import _diagnostics_index as ix


def make_bundle(tmp_path, host, files):
    """An archive as cloudos_diagnostics writes it, with a manifest and a .sha256."""
    name = 'cloudos-diagnostics-%s-20240501T031500Z' % host
    path = str(tmp_path / (name + '.tar.gz'))
    with open(path, 'wb') as raw:
        with tarfile.open(fileobj=raw, mode='w:gz') as tar:
            bundle = d.Bundle(tar, name, d.MIB, 10 * d.MIB)
            for rel, body in files.items():
                bundle.add(rel, body, rel, rc=0)
            bundle._write('manifest.json', d._json(bundle.manifest(host, {}, 's', {})))
    digest = ix.sha256_file(path)
    with open(path + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % (digest, os.path.basename(path)))
    return path, digest


FILES_A = {'network/ip-addr.txt': 'inet 10.1.2.3/24 brd 10.1.2.255\n link/ether 52:54:00:ab:cd:ef\n'
                                  'inet6 2a01:4f8::5/64\n inet 127.0.0.1/8\n',
           'processes/top-cpu.txt': 'USER PID\nalice 12 /usr/bin/app --host web01.example.com\n',
           'journal/cloudos-units.log': 'web01 cloudos-api[1]: peer 10.1.2.4 from db02 via http://localhost:8000\n'}
FILES_B = {'network/ip-addr.txt': 'inet 10.1.2.4/24\n link/ether 52:54:00:00:00:01\n',
           'journal/cloudos-units.log': 'db02 cloudos-api[1]: talking to 10.1.2.3 for ACME Corp (alice)\n'}


def test_obfuscator_is_consistent_and_skips_loopback():
    ob = ix.Obfuscator(hostnames=['web01', 'web01.example.com', 'db02'], users=['alice'], keywords=['ACME'])
    one = ob.text('web01 10.1.2.3 52:54:00:AB:CD:EF alice ACME 127.0.0.1 ::1 ff:ff:ff:ff:ff:ff 2a01:4f8::5 12:34:56')
    two = ob.text('10.1.2.3 WEB01.example.com')
    assert one.split()[:5] == ['host-001', '198.18.0.1', '02:00:00:00:00:01', 'user-001', 'word-001']
    assert '127.0.0.1' in one and '::1' in one and 'ff:ff:ff:ff:ff:ff' in one and '12:34:56' in one
    assert '2001:db8::2' in one
    assert two == '198.18.0.1 host-002'
    assert ob.map['hostname'] == {'web01': 'host-001', 'web01.example.com': 'host-002', 'db02': 'host-003'}


def test_obfuscator_replaces_names_inside_compound_words_but_not_inside_other_names():
    ob = ix.Obfuscator(hostnames=['web01', 'localhost'])
    assert ob.text('cloudos-diagnostics-web01-2024 web01_x web010 http://localhost/') == \
        'cloudos-diagnostics-host-001-2024 host-001_x web010 http://localhost/'


def test_process_obfuscates_all_hosts_with_one_map_and_updates_the_manifests(tmp_path):
    a, sha_a = make_bundle(tmp_path, 'web01', FILES_A)
    b, sha_b = make_bundle(tmp_path, 'db02', FILES_B)
    map_path = str(tmp_path / 'private' / 'map.json')
    fetched = {'web01': {'archive': a, 'sha256': sha_a, 'obfuscation': {}},
               'db02': {'archive': b, 'sha256': sha_b}}
    index = ix.process(str(tmp_path), fetched, obfuscate=True, map_path=map_path,
                       hostnames=['web01.example.com'], users=['alice'], keywords=['ACME Corp'], run_id='r1')
    assert index['totals'] == {'hosts': 2, 'verified': 2, 'problems': 0, 'bytes': index['totals']['bytes'],
                               'redactions': {}}
    assert not os.path.exists(a) and not os.path.exists(a + '.sha256')
    archives = sorted(f for f in os.listdir(str(tmp_path)) if f.endswith('.tar.gz'))
    assert all('web01' not in f and 'db02' not in f for f in archives)
    texts = {}
    for archive in archives:
        path = str(tmp_path / archive)
        assert ix.read_sha256_file(path + '.sha256') == ix.sha256_file(path)
        prefix, members, manifest = ix.read_bundle(path)
        assert ix.verify_members(members, manifest) == []
        assert manifest['obfuscated']['replacements']['ip'] >= 1
        blob = b''.join(body for _n, body in members).decode()
        for secret in ('web01', 'db02', '10.1.2.3', '10.1.2.4', '52:54:00', 'alice', 'ACME Corp', '2a01:4f8'):
            assert secret not in blob and secret not in prefix, secret
        texts[manifest['host']] = blob
    ip_a = ix.load_map(map_path)['ip']['10.1.2.3']
    assert all(ip_a in blob for blob in texts.values())  # the same alias in both bundles
    assert 'http://localhost:8000' in ''.join(texts.values())
    assert stat.S_IMODE(os.stat(map_path).st_mode) == 0o600
    assert 'web01' not in open(str(tmp_path / 'index.json')).read()
    md = open(str(tmp_path / 'index.md')).read()
    assert '| host-' in md and 'obfuscated' in md


def test_process_reuses_an_existing_map(tmp_path):
    map_path = str(tmp_path / 'map.json')
    a, sha_a = make_bundle(tmp_path, 'web01', FILES_A)
    ix.process(str(tmp_path), {'web01': {'archive': a, 'sha256': sha_a}}, obfuscate=True, map_path=map_path)
    first = ix.load_map(map_path)
    (tmp_path / 'two').mkdir()
    b, sha_b = make_bundle(tmp_path / 'two', 'db02', FILES_B)
    ix.process(str(tmp_path / 'two'), {'db02': {'archive': b, 'sha256': sha_b}}, obfuscate=True, map_path=map_path)
    second = ix.load_map(map_path)
    assert second['ip']['10.1.2.3'] == first['ip']['10.1.2.3']
    assert second['hostname']['web01'] == first['hostname']['web01']


def test_process_reports_checksum_mismatch_and_missing_hosts(tmp_path):
    a, sha_a = make_bundle(tmp_path, 'web01', FILES_A)
    index = ix.process(str(tmp_path), {'web01': {'archive': a, 'sha256': '0' * 64},
                                       'db02': {'failed': True, 'msg': 'unreachable'}})
    hosts = dict((h['host'], h) for h in index['hosts'])
    assert not hosts['web01']['verified'] and 'differs' in hosts['web01']['problems'][0]
    assert hosts['db02']['problems'] == ['unreachable']
    assert index['totals']['problems'] == 2
    assert '## Problems' in open(str(tmp_path / 'index.md')).read()


def test_verify_members_finds_a_changed_file(tmp_path):
    a, _sha = make_bundle(tmp_path, 'web01', FILES_A)
    prefix, members, manifest = ix.read_bundle(a)
    members = [(n, b + b'x' if n == 'processes/top-cpu.txt' else b) for n, b in members]
    assert ix.verify_members(members, manifest) == ['processes/top-cpu.txt']


def test_read_bundle_refuses_escaping_members(tmp_path):
    path = str(tmp_path / 'bad.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        for name in ('b/manifest.json', 'b/../../etc/x'):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b'{}'))
    try:
        ix.read_bundle(path)
    except ix.BundleError as exc:
        assert 'unexpected member' in str(exc)
    else:
        raise AssertionError('an escaping member was accepted')


def test_index_without_obfuscation_keeps_names(tmp_path):
    a, sha_a = make_bundle(tmp_path, 'web01', {'x.txt': 'password: hunter2\n'})
    index = ix.process(str(tmp_path), {'web01': {'archive': a, 'sha256': sha_a}}, run_id='r2')
    entry = index['hosts'][0]
    assert entry['host'] == 'web01' and entry['verified'] and entry['redactions'] == {'yaml_secret': 1}
    assert json.load(open(str(tmp_path / 'index.json')))['run_id'] == 'r2'
    assert os.path.exists(a)
