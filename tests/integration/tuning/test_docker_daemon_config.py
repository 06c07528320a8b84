# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudos_docker_daemon_config through Ansible, validated by the real dockerd installed on
this machine (its --help gives the keys and value types), on a scratch config path: the
machine's own /etc/docker/daemon.json is never read or written."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.integration.lib import require_binary, run_module

GUIDE = {'storage-driver': 'overlay2', 'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'},
         'default-ulimits': {'nofile': {'Name': 'nofile', 'Hard': 64000, 'Soft': 64000}}}
EXISTING = {'data-root': '/srv/docker', 'registry-mirrors': ['https://mirror.internal'], 'log-opts': {'labels': 'app'}}


@pytest.fixture
def dockerd():
    return require_binary('dockerd')


@pytest.fixture
def path(tmp_path):
    target = tmp_path / 'docker' / 'daemon.json'
    target.parent.mkdir()
    target.write_text(json.dumps(EXISTING, indent=4) + '\n')
    return str(target)


def args(path, options, **extra):
    # service '' : this machine's docker.service is not the one the scratch file is for
    return dict(dict(path=path, options=options, service=''), **extra)


def real_dockerd_has_validate(dockerd):
    proc = subprocess.run([dockerd, '--help'], capture_output=True, text=True, check=False)
    return '--validate' in proc.stdout + proc.stderr


def test_merge_keeps_other_keys_check_diff_backup_idempotent(path, dockerd):
    original = open(path).read()
    check = run_module('cloudos_docker_daemon_config', args(path, GUIDE), check=True, diff=True)
    assert check['changed'] and not check.failed
    assert open(path).read() == original
    assert '"max-file": "3"' in check['diff']['after']
    expected = ['json', 'schema'] + (['dockerd'] if real_dockerd_has_validate(dockerd) else [])
    assert check['validated_with'] == expected

    done = run_module('cloudos_docker_daemon_config', args(path, GUIDE, backup=True))
    assert done['changed']
    written = json.load(open(path))
    assert written['data-root'] == '/srv/docker' and written['registry-mirrors'] == ['https://mirror.internal']
    assert written['log-opts'] == {'labels': 'app', 'max-size': '10m', 'max-file': '3'}
    assert written['default-ulimits']['nofile']['Soft'] == 64000
    assert json.load(open(done['backup_file'])) == EXISTING

    again = run_module('cloudos_docker_daemon_config', args(path, GUIDE))
    assert not again['changed']

    removed = run_module('cloudos_docker_daemon_config', args(path, {'data-root': None}))
    assert removed['changed'] and 'data-root' not in json.load(open(path))


def test_creates_missing_file(tmp_path, dockerd):
    path = str(tmp_path / 'new' / 'daemon.json')
    result = run_module('cloudos_docker_daemon_config', args(path, GUIDE))
    assert result['changed'] and json.load(open(path)) == GUIDE
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'


@pytest.mark.parametrize('options, message', [
    ({'log-opts': {'max-file': 3}}, "'log-opts' must be an object whose values are strings"),
    ({'log-driverr': 'json-file'}, "'log-driverr' is not a dockerd configuration key"),
    ({'live-restore': 'true'}, "'live-restore' must be true or false"),
    ({'default-ulimits': {'nofile': {'Name': 'nofile', 'Hard': 1024, 'Soft': 64000}}}, 'Soft <= Hard'),
    ({'max-concurrent-downloads': 'three'}, "'max-concurrent-downloads' must be an integer"),
])
def test_invalid_result_fails_and_writes_nothing(path, dockerd, options, message):
    original = open(path).read()
    result = run_module('cloudos_docker_daemon_config', args(path, dict(GUIDE, **options)))
    assert result.failed
    assert message in result['msg'] and 'nothing written' in result['msg']
    assert open(path).read() == original


def test_broken_existing_file_is_not_overwritten(path, dockerd):
    with open(path, 'w') as handle:
        handle.write('{"debug": true,')
    result = run_module('cloudos_docker_daemon_config', args(path, GUIDE))
    assert result.failed and 'is not valid JSON' in result['msg']
    assert open(path).read() == '{"debug": true,'


def test_dockerd_validate_is_used_where_offered(path, tmp_path, dockerd):
    """A stand-in for dockerd 23+ (this machine's Debian dockerd predates --validate): it prints
    the real dockerd's --help plus a --validate line, and answers --validate like dockerd does,
    rejecting configs that contain "bad". Proves the module runs it on a temporary copy and
    relays its answer."""
    fake = tmp_path / 'dockerd'
    fake.write_text('#!/bin/sh\n'
                    'if [ "$1" = "--help" ]; then %s --help; echo "      --validate       Validate"; exit 0; fi\n'
                    'if [ "$1" = "--validate" ] && grep -q bad "$3"; then echo "unable to configure the Docker daemon '
                    'with file $3: bad value" >&2; exit 1; fi\n'
                    'echo "configuration OK"\n' % dockerd)
    fake.chmod(0o755)
    good = run_module('cloudos_docker_daemon_config', args(path, {'log-driver': 'json-file'}, dockerd=str(fake)))
    assert good['validated_with'] == ['json', 'schema', 'dockerd'] and good['changed']
    bad = run_module('cloudos_docker_daemon_config', args(path, {'log-driver': 'bad'}, dockerd=str(fake)))
    assert bad.failed and 'bad value' in bad['msg'] and 'the merged configuration' in bad['msg']
    assert json.load(open(path))['log-driver'] == 'json-file'


def run_scratch_dockerd(dockerd, conf, tmp_path):
    """Start dockerd on ``conf`` with a scratch data root, exec root, pid file and socket; it must exit
    (a configuration it refuses) within 30 s. Returns its exit code and output."""
    proc = subprocess.Popen([dockerd, '--config-file', str(conf), '--data-root', str(tmp_path / 'data'),
                             '--exec-root', str(tmp_path / 'exec'), '--pidfile', str(tmp_path / 'pid'),
                             '-H', 'unix://%s' % (tmp_path / 'sock')],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out


REAL_REFUSALS = [
    ({'log-opts': {'max-file': 3}}, "'log-opts' must be an object whose values are strings", 'cannot unmarshal number'),
    ({'log-driverr': 'json-file'}, "'log-driverr' is not a dockerd configuration key", "don't match any configuration option"),
    ({'live-restore': 'true'}, "'live-restore' must be true or false", 'cannot unmarshal string'),
]


@pytest.mark.parametrize('config, ours, theirs', REAL_REFUSALS, ids=['log-opts-number', 'unknown-key', 'bool-as-string'])
def test_real_dockerd_refuses_what_we_refuse(tmp_path, dockerd, config, ours, theirs):
    """Cross-check the schema derived from `dockerd --help` with the real daemon: dockerd is
    started on a scratch config, data root, exec root, pid file and socket, and must refuse
    the configuration at load time (it exits before creating anything). The module must have
    refused the same configuration."""
    conf = tmp_path / 'daemon.json'
    conf.write_text(json.dumps(config))
    module = run_module('cloudos_docker_daemon_config', args(str(tmp_path / 'x.json'), config))
    assert module.failed and ours in module['msg']
    returncode, out = run_scratch_dockerd(dockerd, conf, tmp_path)
    assert returncode != 0
    assert 'unable to configure the Docker daemon' in out and theirs in out
    assert not (tmp_path / 'data').exists()


def test_real_dockerd_refuses_key_also_given_as_flag(tmp_path, dockerd):
    """The conflict rule checked by the module (a key in the file and as a service flag) is the
    real daemon's: dockerd started with -H and a file that sets hosts refuses to start."""
    conf = tmp_path / 'daemon.json'
    conf.write_text(json.dumps({'hosts': ['unix://%s' % (tmp_path / 'other.sock')]}))
    returncode, out = run_scratch_dockerd(dockerd, conf, tmp_path)
    assert returncode != 0 and 'specified both as a flag and in the configuration file' in out
    from ansible_collections.cloudos.ops.plugins.module_utils import _docker_daemon as D
    assert D.check_conflicts(json.loads(conf.read_text()), D.flags_in_execstart('dockerd -H unix:///x.sock'))
