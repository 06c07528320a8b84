"""The canary test of the diagnostics bundle, on a fleet host (systemd as PID 1, its own dockerd).

Known secrets (unique canary strings) are planted in configuration files (YAML, ini, JSON, a PEM
private key, a URL with user:password@, a base64-encoded PEM), in a container's environment,
labels and command line, in a unit's journal and command line, and in container logs. Then
``playbooks/diagnostics.yml`` runs, and:

(a) no canary appears in any file of the unpacked bundle, in the archive's bytes (compressed and
    uncompressed), in the index or anywhere else the run wrote on the controller;
(b) the manifest counts each redaction rule that was hit;
(c) each expected part is present and non-empty;
(d) the sha256 of every file matches the manifest, and the archive's matches its .sha256.

Also: check mode writes nothing (host and controller), the size caps keep the tail and say so,
and obfuscation replaces the host's name and addresses with one map kept on the controller.
"""

from __future__ import annotations

import base64
import glob
import gzip
import hashlib
import json
import os
import sys
import stat
import subprocess
import tarfile
import time
import uuid

import pytest

from tests.fleet.hosts import fleet_image, remove_hosts, start_hosts, wait_booted
from tests.integration.lib import ROOT, ansible_env, run_playbook

pytestmark = [pytest.mark.fleet, pytest.mark.docker]
TAG = uuid.uuid4().hex[:10]
NAME = 'cloudos-diag-%s' % TAG
LABEL = 'cloudos.test=diagnostics-%s' % TAG


def canary(kind):
    return 'CANARY%s%s' % (kind, TAG)


PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC%s\nBKcwggSjAgEAAoIBAQC7%s\n' % (canary('PEMA'), canary('PEMB'))
B64_PEM = base64.b64encode(('-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n'
                            % canary('B64')).encode()).decode()
CANARIES = [canary(k) for k in ('YAML', 'YAMLBLOCK', 'INI', 'JSON', 'PEMA', 'PEMB', 'URLPW', 'B64', 'ENV1', 'ENV2',
                                'LABEL', 'CMDURL', 'CMDBEARER', 'DLOG', 'DLOGBEARER', 'J1', 'J2', 'J3', 'ARGV')]
CANARIES.append(B64_PEM[20:60])  # the encoded form itself, not only what it decodes to

CONFIG = {
    '/etc/cloudos/secrets.yaml': 'database:\n  host: db\n  password: %s\n  tls_key: |\n    %s\n    more\n'
                                 % (canary('YAML'), canary('YAMLBLOCK')),
    '/etc/cloudos/api.ini': '[auth]\nmode=static\ntoken=%s\n' % canary('INI'),
    '/opt/cloudos/config/keys.json': '{"name": "ai", "api_key": "%s", "retries": 3}\n' % canary('JSON'),
    '/etc/cloudos/tls/server.key': '-----BEGIN PRIVATE KEY-----\n%s-----END PRIVATE KEY-----\n' % PEM_BODY,
    '/etc/cloudos/upstream.conf': 'upstream https://svc:%s@registry.example/v2/\n' % canary('URLPW'),
    '/opt/cloudos/config/kube.yaml': 'clusters:\n- cluster:\n    certificate-authority-data: %s\n' % B64_PEM,
}
EXPECTED_RULES = ('yaml_secret', 'ini_secret', 'json_secret', 'pem_block', 'url_credentials', 'base64_pem',
                  'auth_header', 'docker_env', 'docker_label')
EXPECTED_PARTS = ('manifest.json', 'journal/cloudos-units.log', 'systemd/units.json', 'docker/cloudos-canary.log',
                  'docker/cloudos-canary.inspect.json', 'docker/cloudos-web.inspect.json', 'processes/top-cpu.txt',
                  'processes/top-memory.txt', 'disk/df.txt', 'proc/diskstats', 'proc/loadavg', 'network/ip-addr.txt',
                  'network/ip-route.txt', 'network/listening.txt', 'network/dns.json', 'network/resolv.conf',
                  'cloudos/health.json', 'config/etc/cloudos/cloudos.yaml', 'config/etc/cloudos/secrets.yaml',
                  'config/etc/cloudos/api.ini', 'config/opt/cloudos/config/keys.json',
                  'config/etc/cloudos/tls/server.key', 'config/opt/cloudos/config/kube.yaml')


def sh(*argv, check=True, **kwargs):
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed (%d): %s %s'
                             % (' '.join(argv), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def on_host(script, check=True):
    return sh('docker', 'exec', NAME, 'sh', '-c', script, check=check)


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    image = fleet_image()
    work = tmp_path_factory.mktemp('diag')
    inventory = work / 'inventory.ini'
    inventory.write_text('[fleet]\n%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n'
                         % NAME)
    start_hosts(image, [NAME], LABEL)
    try:
        # Until systemd has booted, its clean-up of /tmp can remove Ansible's files mid-task.
        assert wait_booted([NAME]) == [], '%s did not boot' % NAME
        proc = run_playbook(os.path.join(ROOT, 'tests', 'fleet', 'prepare.yml'), inventory=str(inventory),
                            env={'ANSIBLE_STDOUT_CALLBACK': 'default'}, timeout=900)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        plant()
        yield dict(inventory=str(inventory), work=work)
    finally:
        remove_hosts(LABEL)


def plant():
    for path, content in CONFIG.items():
        sh('docker', 'exec', '-i', NAME, 'sh', '-c', 'mkdir -p "$(dirname %s)" && cat > %s' % (path, path),
           input=content)
    # A container with secrets in its environment, labels, command line and logs.
    script = ('echo "connecting to amqp://guest:%s@mq/"; echo "Authorization: Bearer %s"; sleep 1000000'
              % (canary('DLOG'), canary('DLOGBEARER')))
    sh('docker', 'exec', NAME, 'docker', 'run', '-d', '--name', 'cloudos-canary', '--network', 'none',
       '-e', 'DB_PASSWORD=%s' % canary('ENV1'), '-e', 'UPSTREAM=postgres://u:%s@db/' % canary('ENV2'),
       '--label', 'com.cloudos.api_token=%s' % canary('LABEL'), 'cloudos/busybox:local', 'sh', '-c',
       script + ' # amqp://x:%s@y/ Authorization: Bearer %s' % (canary('CMDURL'), canary('CMDBEARER')))
    # A unit whose journal and command line carry secrets.
    on_host('systemd-run --unit cloudos-canary-job --collect /bin/sh -c \'echo "retry with token=%s"; '
            'echo "db postgres://app:%s@db:5432/x"; echo "GET / Authorization: Bearer %s"; sleep 1\''
            % (canary('J1'), canary('J2'), canary('J3')))
    on_host('systemd-run --unit cloudos-canary-argv /usr/bin/python3 -c "import time; time.sleep(100000)" '
            '--api-token=%s' % canary('ARGV'))
    deadline = time.time() + 30
    while time.time() < deadline:
        if canary('J3') in on_host('journalctl -u cloudos-canary-job --no-pager', check=False).stdout:
            break
        time.sleep(0.5)
    else:
        raise AssertionError('the canary unit did not reach the journal')
    # The canaries are really there to be found (otherwise the test proves nothing).
    assert canary('ENV1') in sh('docker', 'exec', NAME, 'docker', 'inspect', 'cloudos-canary').stdout
    assert canary('DLOG') in sh('docker', 'exec', NAME, 'docker', 'logs', 'cloudos-canary').stdout


def run_diagnostics(fleet, report_root, check=False, **extra):
    extra_vars = dict(diagnostics_report_root=str(report_root), diagnostics_resolve_names=['localhost', NAME],
                      diagnostics_free_space_margin='10M', **extra)
    proc = run_playbook(os.path.join(ROOT, 'playbooks', 'diagnostics.yml'), inventory=fleet['inventory'],
                        extra_vars=extra_vars, check=check, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


def unpack(archive):
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        files = dict((m.name, tar.extractfile(m).read()) for m in members if m.isfile())
        modes = dict((m.name, (m.isdir(), stat.S_IMODE(m.mode))) for m in members)
    prefix = os.path.commonprefix(list(files)).split('/')[0]
    return prefix, dict((n[len(prefix) + 1:], body) for n, body in files.items()), modes


def leaks(blob):
    return [c for c in CANARIES if c.encode() in blob]


def test_bundle_contains_each_part_and_no_canary(fleet, tmp_path):
    proc = run_diagnostics(fleet, tmp_path)
    for text in (proc.stdout, proc.stderr):
        assert not [c for c in CANARIES if c in text], 'a canary is in the playbook output'
    runs = glob.glob(str(tmp_path / 'diagnostics' / '*'))
    run_dir = [r for r in runs if os.path.isdir(r)][0]
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    archives = glob.glob(os.path.join(run_dir, '*.tar.gz'))
    assert len(archives) == 1
    archive = archives[0]
    raw = open(archive, 'rb').read()

    # (d) the archive matches its .sha256, every file matches the manifest.
    assert open(archive + '.sha256').read() == '%s  %s\n' % (hashlib.sha256(raw).hexdigest(),
                                                             os.path.basename(archive))
    prefix, files, modes = unpack(archive)
    manifest = json.loads(files['manifest.json'])
    for entry in manifest['files']:
        assert hashlib.sha256(files[entry['path']]).hexdigest() == entry['sha256'], entry['path']
        assert len(files[entry['path']]) == entry['bytes']
    assert set(files) == set(e['path'] for e in manifest['files']) | {'manifest.json'}
    assert all(mode == (0o700 if is_dir else 0o600) for is_dir, mode in modes.values())

    # (a) no canary anywhere: every file, the archive's bytes, everything the run wrote.
    for name, body in files.items():
        assert not leaks(body), (name, leaks(body))
    assert not leaks(raw) and not leaks(gzip.decompress(raw))
    for path in glob.glob(str(tmp_path / '**'), recursive=True):
        if os.path.isfile(path):
            assert not leaks(open(path, 'rb').read()), path

    # (b) each rule that had something to hide counted it.
    totals = manifest['totals']['redactions']
    for rule in EXPECTED_RULES:
        assert totals.get(rule, 0) >= 1, (rule, totals)
    per_file = dict((e['path'], e['redactions']) for e in manifest['files'])
    assert per_file['config/etc/cloudos/secrets.yaml'].get('yaml_secret') == 2
    assert per_file['config/etc/cloudos/api.ini'] == {'ini_secret': 1}
    assert per_file['config/opt/cloudos/config/keys.json'] == {'json_secret': 1}
    assert per_file['config/etc/cloudos/tls/server.key'] == {'pem_block': 1}
    assert per_file['config/etc/cloudos/upstream.conf'] == {'url_credentials': 1}
    assert per_file['config/opt/cloudos/config/kube.yaml'] == {'base64_pem': 1}
    assert per_file['docker/cloudos-canary.inspect.json']['docker_env'] >= 2
    assert per_file['docker/cloudos-canary.inspect.json']['docker_label'] == 1
    assert per_file['docker/cloudos-canary.log'] == {'auth_header': 1, 'url_credentials': 1}
    journal = per_file['journal/cloudos-units.log']
    assert journal.get('url_credentials', 0) >= 1 and journal.get('auth_header', 0) >= 1
    assert journal.get('ini_secret', 0) >= 1

    # (c) every part is there and has content; the redacted forms show what was there.
    for part in EXPECTED_PARTS:
        assert files.get(part), part
    text = files['journal/cloudos-units.log'].decode()
    assert 'postgres://app:***@db:5432/x' in text and 'Authorization: Bearer ***' in text
    inspect = json.loads(files['docker/cloudos-canary.inspect.json'])
    assert 'DB_PASSWORD=***' in inspect[0]['Config']['Env'] if isinstance(inspect, list) else \
        'DB_PASSWORD=***' in inspect['Config']['Env']
    assert json.loads(files['network/dns.json'])['localhost']['addresses']
    assert json.loads(files['cloudos/health.json'])['host']
    assert manifest['host'] == NAME and manifest['window']['requested'] == '24h'
    assert manifest['collector_version'] and manifest['stopped'] is None

    # The bundle left the host; the index lists it, verified.
    assert on_host('ls -A /var/tmp/cloudos-diagnostics').stdout.strip() == ''
    index = json.load(open(os.path.join(run_dir, 'index.json')))
    assert index['totals']['verified'] == 1 and index['hosts'][0]['host'] == NAME
    assert NAME in open(os.path.join(run_dir, 'index.md')).read()


def test_check_mode_writes_nothing(fleet, tmp_path):
    before = on_host('ls -A /var/tmp/cloudos-diagnostics 2>/dev/null; true').stdout
    proc = run_diagnostics(fleet, tmp_path, check=True)
    assert 'journal/cloudos-units.log' in proc.stdout
    assert on_host('ls -A /var/tmp/cloudos-diagnostics 2>/dev/null; true').stdout == before
    assert not [p for p in glob.glob(str(tmp_path / '**'), recursive=True) if os.path.isfile(p)]


def test_size_caps_keep_the_tail_and_stop_collecting(fleet, tmp_path):
    on_host('systemd-run --unit cloudos-canary-chatty --collect /bin/sh -c '
            '\'i=0; while [ $i -lt 3000 ]; do echo "chatty line $i password=%s"; i=$((i+1)); done; '
            'echo "chatty last line"; sleep 1\'' % canary('J1'))
    deadline = time.time() + 30
    while 'chatty last line' not in on_host('journalctl -u cloudos-canary-chatty --no-pager', check=False).stdout:
        assert time.time() < deadline, 'the chatty unit did not reach the journal'
        time.sleep(0.5)
    run_diagnostics(fleet, tmp_path, diagnostics_max_file_size='16K', diagnostics_max_size='32K',
                    diagnostics_keep_on_host=True)
    archive = glob.glob(str(tmp_path / 'diagnostics' / '*' / '*.tar.gz'))[0]
    _prefix, files, _modes = unpack(archive)
    manifest = json.loads(files['manifest.json'])
    entries = dict((e['path'], e) for e in manifest['files'])
    journal = entries['journal/cloudos-units.log']
    assert journal['truncated'] and journal['truncated_by'] == 'max_file_size'
    assert journal['bytes'] <= 16 * 1024 < journal['source_bytes']
    body = files['journal/cloudos-units.log'].decode()
    assert body.startswith('[cloudos_diagnostics: ') and 'cut from the start' in body.splitlines()[0]
    assert 'chatty last line' in body and 'chatty line 0 ' not in body  # the tail is kept
    assert manifest['totals']['bytes'] <= 32 * 1024
    assert manifest['stopped'] and 'max_size' in manifest['stopped']
    assert manifest['skipped'] and manifest['totals']['skipped'] == len(manifest['skipped'])
    assert any(e.get('truncated_by') == 'max_size' for e in manifest['files'])
    for name, body in files.items():
        assert not leaks(body), name
    # kept on the host as asked (and removed here).
    assert on_host('ls /var/tmp/cloudos-diagnostics').stdout.strip()
    on_host('rm -rf /var/tmp/cloudos-diagnostics')


def test_obfuscation_one_map_kept_on_the_controller(fleet, tmp_path):
    addresses = on_host("ip -o -4 addr show | awk '{print $4}' | cut -d/ -f1").stdout.split()
    addresses = [a for a in addresses if not a.startswith('127.')]
    run_diagnostics(fleet, tmp_path, diagnostics_obfuscate=True, diagnostics_obfuscate_keywords=['fleet'])
    map_path = tmp_path / 'diagnostics' / 'obfuscation-map.json'
    assert stat.S_IMODE(os.stat(str(map_path)).st_mode) == 0o600
    mapping = json.load(open(str(map_path)))['map']
    assert mapping['hostname'][NAME.lower()].startswith('host-')
    archive = glob.glob(str(tmp_path / 'diagnostics' / '*' / '*.tar.gz'))
    assert len(archive) == 1 and NAME not in archive[0]
    prefix, files, _modes = unpack(archive[0])
    manifest = json.loads(files['manifest.json'])
    assert manifest['obfuscated']['replacements']['hostname'] >= 1
    for entry in manifest['files']:
        assert hashlib.sha256(files[entry['path']]).hexdigest() == entry['sha256'], entry['path']
    blob = b''.join(files.values()) + prefix.encode()
    assert NAME.encode() not in blob
    for address in addresses:
        assert address.encode() not in blob, address
        assert address in mapping['ip']
    assert not leaks(blob)
    index = open(str(glob.glob(str(tmp_path / 'diagnostics' / '*' / 'index.json'))[0])).read()
    assert NAME not in index
    # the map is outside the run's directory, so the run's directory can be handed over as it is
    assert not glob.glob(str(tmp_path / 'diagnostics' / '*' / '*map*'))


def test_ansible_doc_renders():
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-doc'),
                           'cloudos.ops.cloudos_diagnostics'], capture_output=True, text=True, env=ansible_env(),
                          cwd=ROOT, check=False)
    assert proc.returncode == 0 and 'max_file_size' in proc.stdout


def test_disk_preflight_refuses_and_writes_nothing(fleet):
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), 'all', '-i', fleet['inventory'],
                           '-m', 'cloudos.ops.cloudos_diagnostics',
                           '-a', json.dumps({'dest': '/var/tmp/diag-preflight', 'max_size': '100T'})],
                          capture_output=True, text=True, env=ansible_env(), cwd=ROOT, check=False, timeout=300)
    result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts'][NAME]
    assert result.get('failed') and 'not enough free space' in result['msg'] and '100.00 TB' in result['msg']
    assert on_host('ls -A /var/tmp/diag-preflight 2>/dev/null; true').stdout.strip() == ''
