"""The diagnostics bundle without Ansible: every redaction rule, the tail truncation, the caps,
the manifest and the archive, with scripted commands and a fake Docker SDK."""

import hashlib
import io
import json
import os
import stat
import tarfile
import types

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _diagnostics as d

PEM = ('-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzCANARYPEMKEYLINE1abcdefghijkl\n'
       'QWERTYCANARYPEMKEYLINE2abcdefghijklmnop\n-----END RSA PRIVATE KEY-----\n')


# --------------------------------------------------------------------------- one test per rule

@pytest.mark.parametrize('rule, text, secret, kept', [
    ('pem_block', 'key:\n' + PEM + 'after\n', 'CANARYPEMKEYLINE', '-----END RSA PRIVATE KEY-----'),
    ('pem_block', 'cut: -----BEGIN PRIVATE KEY-----\nMIIEvgCANARYCUT\n', 'CANARYCUT', 'cut:'),
    ('pem_block', '{"tls": "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEECANARYJSON\\n-----END EC PRIVATE KEY-----"}',
     'CANARYJSON', '"tls"'),
    ('pem_tail', 'MIIEowIBAAKCAQEAzCANARYTAIL1abcdef\nQWERTYCANARYTAIL2abcdef\n-----END PRIVATE KEY-----\nnext\n',
     'CANARYTAIL', 'next'),
    ('base64_pem', 'ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUNBTkFSWUI2NA==\n', 'LS0tLS1CRUdJTiBDRVJU',
     'ca.crt'),
    ('url_credentials', 'connecting to postgres://app:CANARYURLPW@db.example:5432/app\n', 'CANARYURLPW',
     'postgres://app:***@db.example:5432/app'),
    ('url_credentials', 'redis://:CANARY@PW@cache:6379/0', 'CANARY@PW', '@cache:6379'),
    ('auth_header', 'curl -H "Authorization: Bearer eyJCANARYBEARER.abc.def" http://x/', 'CANARYBEARER',
     'Authorization: Bearer ***'),
    ('auth_header', 'GET / Authorization=Basic dXNlcjpDQU5BUllCQVNJQw==', 'dXNlcjpDQU5BUllCQVNJQw', 'Basic ***'),
    ('auth_header', 'token sent: bearer CANARYLOOSEBEARER', 'CANARYLOOSEBEARER', 'bearer ***'),
    ('json_secret', '{"api_key": "CANARYJSONKEY", "name": "web"}', 'CANARYJSONKEY', '"name": "web"'),
    ('json_secret', '{"dbPassword": "CANARY\\"QUOTED"}', 'CANARY', '"dbPassword": "***"'),
    ('yaml_secret', 'db:\n  password: CANARYYAML\n  user: app\n', 'CANARYYAML', 'user: app'),
    ('yaml_secret', 'client_secret: "CANARY QUOTED"\n', 'CANARY QUOTED', 'client_secret: ***'),
    ('yaml_secret', '- token: CANARYLISTITEM\n', 'CANARYLISTITEM', '- token: ***'),
    ('yaml_secret', 'ssh_key: |\n  CANARYBLOCK1\n  CANARYBLOCK2\nnext: 1\n', 'CANARYBLOCK', 'next: 1'),
    ('text_secret', 'May 01 app[1]: login with password: CANARYTEXT failed', 'CANARYTEXT', 'failed'),
    ('text_secret', '{"note": "api_token: CANARYINJSON"}', 'CANARYINJSON', '"note"'),
    ('ini_secret', '[api]\ntoken=CANARYINI\nport=8080\n', 'CANARYINI', 'port=8080'),
    ('ini_secret', 'DB_PASSWORD = CANARYENV\n', 'CANARYENV', 'DB_PASSWORD = ***'),
    ('ini_secret', 'GET /v1?user=a&access_token=CANARYQUERY&x=1', 'CANARYQUERY', '&x=1'),
    ('ini_secret', 'exec /usr/bin/app --db-password=CANARYOPT --verbose', 'CANARYOPT', '--verbose'),
    ('cli_secret', 'exec /usr/bin/app --password CANARYCLI --verbose', 'CANARYCLI', '--password *** --verbose'),
])
def test_each_rule_hides_its_secret_and_counts(rule, text, secret, kept):
    out, counts = d.redact(text)
    assert secret not in out
    assert kept in out
    assert counts.get(rule, 0) >= 1, counts


def test_yaml_block_scalar_keeps_the_line_structure():
    out, counts = d.redact('a: 1\nssh_key: |\n  line1\n\n  line2\nb: 2\nlast_key: >-\n  x\n')
    assert out == 'a: 1\nssh_key: ***\n  ***\n\n  ***\nb: 2\nlast_key: ***\n  ***\n'
    assert counts == {'yaml_secret': 2}


def test_rules_leave_ordinary_text_alone():
    text = ('2024-05-01T03:00:00Z cloudos-api[12]: GET /health 200 in 3ms\n'
            'listen: 127.0.0.1:8080\nurl: http://localhost:8000/health\nuser=app\n'
            '{"name": "web", "image": "cloudos/web:1.4"}\n')
    out, counts = d.redact(text)
    assert out == text
    assert counts == {}


def test_redaction_is_idempotent_and_counts_nothing_twice():
    text = 'password: x1\n' + PEM + '{"token": "x2"} url=https://u:x3@h/ Authorization: Bearer x4abcd\n'
    once, counts = d.redact(text)
    twice, again = d.redact(once)
    assert twice == once
    assert again == {}
    assert sum(counts.values()) >= 5


def test_empty_and_masked_values_are_not_counted():
    _out, counts = d.redact('password:\npassword: ""\ntoken=***\n{"secret": ""}\n')
    assert counts == {}


def test_redact_bytes_keeps_undecodable_bytes():
    out, counts = d.redact_bytes(b'\xff\xfe token=CANARY\n')
    assert out.startswith(b'\xff\xfe')
    assert b'CANARY' not in out
    assert counts == {'ini_secret': 1}


def test_looks_secret():
    assert all(d.looks_secret(k) for k in ('DB_PASSWORD', 'api-key', 'com.example.token', 'AWS_SECRET_ACCESS_KEY'))
    assert not any(d.looks_secret(k) for k in ('PATH', 'HOME', 'com.docker.compose.project', ''))


def test_mask_inspect_masks_every_env_value_and_secret_labels():
    data = [{'Config': {'Env': ['PATH=/usr/bin', 'DB_PASSWORD=CANARYENV', 'EMPTY=', 'NOVALUE'],
                        'Labels': {'com.example.api_token': 'CANARYLABEL', 'com.docker.compose.project': 'cloudos'}}}]
    masked, counts = d.mask_inspect(data)
    env = masked[0]['Config']['Env']
    assert env == ['PATH=***', 'DB_PASSWORD=***', 'EMPTY=', 'NOVALUE']
    assert masked[0]['Config']['Labels'] == {'com.example.api_token': '***', 'com.docker.compose.project': 'cloudos'}
    assert counts == {'docker_env': 2, 'docker_label': 1}


# --------------------------------------------------------------------------- sizes

def test_tail_keeps_the_end_from_a_line_boundary_and_says_so():
    data = b''.join(b'line %05d\n' % i for i in range(10000))
    out, truncated = d.tail(data, 1000)
    assert truncated
    assert len(out) <= 1000
    assert out.endswith(b'line 09999\n')
    first, rest = out.split(b'\n', 1)
    assert first.startswith(b'[cloudos_diagnostics: ') and b'cut from the start' in first
    assert rest.startswith(b'line ')


def test_tail_small_data_unchanged_and_tiny_limits():
    assert d.tail(b'abc', 10) == (b'abc', False)
    assert d.tail(b'abc', None) == (b'abc', False)
    assert d.tail(b'abcdef', 2) == (b'ef', True)
    assert d.tail(b'abcdef', 0) == (b'', True)


@pytest.mark.parametrize('text, value', [('25M', 25 * d.MIB), ('200MiB', 200 * d.MIB), ('1g', 1024 * d.MIB),
                                         ('4096', 4096), ('1.5k', 1536), ('10 MB', 10 * d.MIB)])
def test_parse_size(text, value):
    assert d.parse_size(text, 'max_size') == value


def test_parse_size_rejects_nonsense():
    with pytest.raises(ValueError, match='max_size'):
        d.parse_size('lots', 'max_size')


def _statvfs(free):
    return lambda path: types.SimpleNamespace(f_bavail=free // 4096, f_frsize=4096)


def test_preflight_refuses_when_short(tmp_path):
    reason = d.preflight(str(tmp_path / 'not' / 'yet'), 200 * d.MIB, 100 * d.MIB, statvfs=_statvfs(100 * d.MIB))
    assert 'not enough free space' in reason and '200.00 MB' in reason
    assert d.preflight(str(tmp_path), 200 * d.MIB, 100 * d.MIB, statvfs=_statvfs(400 * d.MIB)) is None


def test_bundle_file_cap_and_total_cap_stop_collecting():
    sink = io.BytesIO()
    with tarfile.open(fileobj=sink, mode='w:gz') as tar:
        bundle = d.Bundle(tar, 'b', max_file_size=300, max_size=500)
        first = bundle.add('one.log', b'x' * 100 + b'\n' + b''.join(b'line %03d\n' % i for i in range(100)), 'cmd1',
                           rc=0, duration_ms=5)
        second = bundle.add('two.log', b''.join(b'two %03d\n' % i for i in range(100)), ['cmd', '2'], rc=0)
        third = bundle.add('three.log', b'never', 'cmd3', rc=0)
    assert first['truncated'] and first['truncated_by'] == 'max_file_size' and first['bytes'] <= 300
    assert second['truncated'] and second['truncated_by'] == 'max_size'
    assert bundle.total <= 500
    assert third is None and bundle.skipped == [{'path': 'three.log', 'source': 'cmd3', 'reason': bundle.stopped}]
    manifest = bundle.manifest('h1', {'since': 'a', 'until': 'b'}, 'start', {})
    assert manifest['stopped'].startswith('max_size reached')
    assert manifest['totals']['truncated'] == 2 and manifest['totals']['skipped'] == 1
    sink.seek(0)
    with tarfile.open(fileobj=sink, mode='r:gz') as tar:
        members = dict((m.name, m) for m in tar.getmembers())
        body = tar.extractfile('b/two.log').read()
    assert body.endswith(b'two 099\n')
    assert hashlib.sha256(body).hexdigest() == second['sha256']
    assert stat.S_IMODE(members['b'].mode) == 0o700 and members['b'].isdir()
    assert stat.S_IMODE(members['b/one.log'].mode) == 0o600


def test_bundle_redacts_before_the_cap_and_counts_per_file():
    bundle = d.Bundle(None, 'b', max_file_size=1000, max_size=10000)
    entry = bundle.add('c.yaml', 'password: CANARY\nurl: http://u:CANARY2@h/\n', '/etc/cloudos/c.yaml', rc=0,
                       counts={'docker_env': 1})
    assert entry['redactions'] == {'docker_env': 1, 'url_credentials': 1, 'yaml_secret': 1}
    manifest = bundle.manifest('h', {}, 's', {})
    assert manifest['totals']['redactions'] == {'docker_env': 1, 'url_credentials': 1, 'yaml_secret': 1}
    assert manifest['totals']['redaction_total'] == 3
    assert set(manifest['rules']) == set(d.RULE_NAMES)


# --------------------------------------------------------------------------- collectors

def test_since_epoch_duration_and_time():
    assert d.since_epoch('24h', 100000) == 100000 - 86400
    assert d.since_epoch('2024-05-01T03:12:00Z', 0) == 1714533120
    with pytest.raises(ValueError):
        d.since_epoch('yesterday', 0)


def test_journal_argv():
    assert d.journal_argv(['cloudos-*', 'docker.service'], 1714533120, 500) == [
        'journalctl', '--no-pager', '--quiet', '-o', 'short-iso-precise', '--since', '@1714533120', '-n', '500',
        '-u', 'cloudos-*', '-u', 'docker.service']


def test_listening_from_proc_net_without_ss():
    tcp = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
           '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1\n'
           '   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 1235 1\n')

    def read(path):
        if path == '/proc/net/tcp':
            return tcp.encode()
        raise OSError('absent')

    host = d.Host(None, lambda name: None, read)
    found = json.loads(d._listening(host)['data'])
    assert [(s['proto'], s['local'], s['lport'], s['inode']) for s in found] == [('tcp', '127.0.0.1', 8080, '1234')]


def test_resolve_names_bounded_and_errors():
    def resolver(name, port):
        if name == 'slow':
            import time
            time.sleep(2)
        if name == 'bad':
            raise OSError('Name or service not known')
        return [(2, 1, 6, '', ('10.0.0.5', 0)), (2, 2, 17, '', ('10.0.0.5', 0))]

    found = d.resolve_names(['good', 'bad', 'slow'], 0.2, resolver)
    assert found['good']['addresses'] == ['10.0.0.5']
    assert 'not known' in found['bad']['error']
    assert 'no answer within' in found['slow']['error']


def test_config_files_walk(tmp_path):
    (tmp_path / 'etc' / 'sub').mkdir(parents=True)
    (tmp_path / 'etc' / 'b.yaml').write_text('x')
    (tmp_path / 'etc' / 'sub' / 'a.ini').write_text('y')
    os.symlink('/etc/shadow', str(tmp_path / 'etc' / 'link'))
    single = tmp_path / 'one.conf'
    single.write_text('z')
    found = d.config_files([str(tmp_path / 'etc'), str(single), str(tmp_path / 'missing')])
    assert found == [str(tmp_path / 'etc' / 'b.yaml'), str(tmp_path / 'etc' / 'sub' / 'a.ini'), str(single)]


# --------------------------------------------------------------------------- the whole bundle with fakes

class FakeAPI:
    def __init__(self, **_kw):
        self.closed = False

    def ping(self):
        return True

    def containers(self, all=False):  # pylint: disable=redefined-builtin
        return [{'Id': 'aaa', 'Names': ['/cloudos-web']}, {'Id': 'bbb', 'Names': ['/other']}]

    def logs(self, ident, **kw):
        assert kw['tail'] == 50
        return b'2024 start\n2024 connecting to amqp://guest:CANARYLOG@mq/\n'

    def inspect_container(self, ident):
        return {'Id': ident, 'Config': {'Env': ['API_TOKEN=CANARYENV', 'MODE=prod'], 'Labels': {}}}

    def close(self):
        self.closed = True


FAKE_SDK = types.SimpleNamespace(APIClient=FakeAPI, DockerClient=FakeAPI, errors=types.SimpleNamespace(),
                                 tls=types.SimpleNamespace())


def _params(tmp_path, **over):
    params = dict(dest=str(tmp_path / 'dest'), since='24h', unit_patterns=['cloudos-*'],
                  container_patterns=['cloudos-*'], config_paths=[str(tmp_path / 'etc')], resolve_names=[],
                  dns_timeout=1, health={'status': 'ok', 'note': 'password: CANARYHEALTH'}, command_timeout=5,
                  journal_lines=100, docker_log_lines=50, top=2, max_file_size=d.MIB, max_size=10 * d.MIB)
    params.update(over)
    return params


def _host(tmp_path, calls):
    files = {'/proc/loadavg': b'0.1 0.2 0.3 1/100 5\n'}

    def run(argv, timeout):
        calls.append((list(argv), timeout))
        if argv[0] == 'systemctl' and argv[1] == 'list-units':
            return 0, b'cloudos-api.service loaded active running API\n', b'', 3
        if argv[0] == 'systemctl' and argv[1] == 'show':
            return 0, b'Id=cloudos-api.service\nActiveState=active\nExecStart=app --token CANARYEXEC\n', b'', 3
        if argv[0].endswith('journalctl'):
            return 0, b'May 01 cloudos-api[1]: Authorization: Bearer CANARYJOURNAL\n', b'', 7
        if argv[0].endswith('ps'):
            return 0, b'PID USER %CPU ARGS\n1 root 9.0 init\n2 root 5.0 app\n3 root 1.0 other\n', b'', 2
        if argv[0].endswith('sleepy'):
            return d.TIMED_OUT, b'', b'', 5000
        return 1, b'', b'not here', 1

    def read(path):
        if path in files:
            return files[path]
        with open(path, 'rb') as handle:
            return handle.read()

    tools = {'journalctl': '/bin/journalctl', 'ps': '/bin/ps', 'systemctl': '/bin/systemctl', 'cloudos': '/bin/sleepy'}

    def exists(path):
        return path in files or path == d._systemd.RUN_DIR or path == '/var/run/docker.sock' or os.path.exists(path)

    return d.Host(run, tools.get, read, exists=exists, docker_sdk=FAKE_SDK, now=lambda: 1714533120)


def test_plan_lists_sources_without_running_anything(tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'c.yaml').write_text('password: x\n')
    calls = []
    items = d.plan(_host(tmp_path, calls), _params(tmp_path))
    assert calls == []
    paths = [p['path'] for p in d.sources(items)]
    for expected in ('systemd/units.json', 'journal/cloudos-units.log', 'docker/cloudos-web.log',
                     'docker/cloudos-web.inspect.json', 'processes/top-cpu.txt', 'processes/top-memory.txt',
                     'proc/loadavg', 'network/listening.json', 'cloudos/config-validate.txt',
                     'config%s/c.yaml' % (tmp_path / 'etc'), 'cloudos/health.json'):
        assert expected in paths, expected
    assert 'docker/other.log' not in paths


def test_write_bundle_end_to_end(tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'c.yaml').write_text('db:\n  password: CANARYCONF\n' + PEM)
    calls = []
    archive, digest, manifest = d.write_bundle(_host(tmp_path, calls), _params(tmp_path), 'web01')
    assert stat.S_IMODE(os.stat(str(tmp_path / 'dest')).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    with open(archive, 'rb') as handle:
        raw = handle.read()
    assert hashlib.sha256(raw).hexdigest() == digest
    assert open(archive + '.sha256').read() == '%s  %s\n' % (digest, os.path.basename(archive))
    assert sorted(os.listdir(str(tmp_path / 'dest'))) == [os.path.basename(archive), os.path.basename(archive) + '.sha256']
    with tarfile.open(archive) as tar:
        members = dict((m.name.split('/', 1)[1], tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile())
    assert json.loads(members['manifest.json']) == json.loads(json.dumps(manifest))
    for name, body in members.items():
        assert b'CANARY' not in body, name
    for entry in manifest['files']:
        assert hashlib.sha256(members[entry['path']]).hexdigest() == entry['sha256']
        assert entry['bytes'] == len(members[entry['path']])
    top = members['processes/top-cpu.txt'].decode()
    assert top.splitlines() == ['PID USER %CPU ARGS', '1 root 9.0 init', '2 root 5.0 app']
    files = dict((f['path'], f) for f in manifest['files'])
    assert files['cloudos/config-validate.txt']['rc'] == d.TIMED_OUT
    assert 'timed out' in files['cloudos/config-validate.txt']['error']
    assert files['docker/cloudos-web.inspect.json']['redactions']['docker_env'] == 2
    assert files['docker/cloudos-web.log']['redactions'] == {'url_credentials': 1}
    assert files['journal/cloudos-units.log']['redactions'] == {'auth_header': 1}
    assert files['systemd/units.json']['redactions'] == {'cli_secret': 1}
    totals = manifest['totals']['redactions']
    assert totals['yaml_secret'] == 1 and totals['pem_block'] == 1 and totals['text_secret'] == 1
    assert manifest['host'] == 'web01' and manifest['collector_version'] == d.COLLECTOR_VERSION
    assert manifest['window']['since'] == '2024-04-30T03:12:00Z'
    journal = [argv for argv, _t in calls if argv[0].endswith('journalctl')][0]
    assert '@%d' % (1714533120 - 86400) in journal and all(t == 5 for _a, t in calls)


def test_write_bundle_failure_leaves_nothing(tmp_path):
    (tmp_path / 'etc').mkdir()
    host = _host(tmp_path, [])

    def boom(argv, timeout):
        raise RuntimeError('disk on fire')

    host.run = boom
    with pytest.raises(RuntimeError):
        d.write_bundle(host, _params(tmp_path), 'web01')
    assert os.listdir(str(tmp_path / 'dest')) == []


def test_obfuscation_hints():
    assert d.obfuscation_hints('web01', 'web01.example.com', ['bob', 'alice']) == {
        'hostnames': ['web01', 'web01.example.com'], 'users': ['alice', 'bob']}
    assert d.obfuscation_hints('localhost', 'localhost') == {'hostnames': [], 'users': []}
