# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input through Ansible, against real programs and real files (issue 13, rules 2, 4, 5, 6).

- journal: the real ``journalctl --directory`` vacuums a scratch journal directory; the check-mode
  list and the real run's removals are compared (journal files are made-up archived files of
  journald's naming and header size: the machine has no journal of its own to copy);
- Docker prune: a private dockerd holds an image whose creation time is unknown (loaded from an
  image tar without ``created``): ``older_than`` keeps it and says why;
- daemon.json: a symbolic link, a directory, a 100 MB file, malformed JSON, and a ``hosts`` key
  that clashes with ``-H`` in this machine's docker unit file while systemd is not running;
- the sysctl state file and ``fleet_report`` with ``formats: []``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time

import pytest

from tests.fixtures.files import linked_file
from tests.integration.lib import PrivateDockerEngine, require_binary, run_module

MB = 1024 * 1024


# --------------------------------------------------------------------------- journal (rule 2)

def _journal_dir(tmp_path):
    """A journal root with one machine directory: two archived files 30 days old, one new, the active one."""
    now_us = int(time.time() * 1000000)
    folder = tmp_path / 'journal' / ('c' * 32)
    folder.mkdir(parents=True)
    names = []
    for seqnum, days in ((1, 30), (2, 29), (3, 0)):
        name = 'system@%s-%016x-%016x.journal' % ('a' * 32, seqnum, now_us - days * 86400 * 1000000)
        (folder / name).write_bytes(b'x' * 70000)   # non-empty header: journald does not remove it as empty
        names.append(str(folder / name))
    (folder / 'system.journal').write_bytes(b'y' * 70000)
    return tmp_path / 'journal', names


def test_journal_check_mode_and_real_run_remove_the_same_files(tmp_path):
    require_binary('journalctl')
    root, names = _journal_dir(tmp_path)
    args = {'vacuum_time': '7d', 'directories': [str(root)]}
    check = run_module('cloudos_journal_vacuum', args, check=True)
    assert not check.failed and check['changed'] is True
    assert sorted(r['path'] for r in check['removed']) == names[:2]
    assert all(os.path.exists(n) for n in names)
    real = run_module('cloudos_journal_vacuum', args)
    assert not real.failed, real.get('msg')
    assert sorted(r['path'] for r in real['removed']) == names[:2]
    assert real['bytes_freed'] == check['bytes_freed']
    assert [os.path.exists(n) for n in names] == [False, False, True]
    assert os.path.exists(str(root / ('c' * 32) / 'system.journal'))
    assert '--directory' not in real['msg'] and 'Vacuuming done' in real['journalctl_output']
    again = run_module('cloudos_journal_vacuum', args)
    assert again['changed'] is False and again['removed'] == []


def test_journal_empty_archived_file_is_in_the_plan_as_journald_removes_it(tmp_path):
    require_binary('journalctl')
    root, names = _journal_dir(tmp_path)
    now_us = int(time.time() * 1000000)
    empty = str(root / ('c' * 32) / ('system@%s-%016x-%016x.journal' % ('a' * 32, 9, now_us)))
    with open(empty, 'wb') as handle:
        handle.write(b'x' * 100)
    args = {'vacuum_time': '7d', 'directories': [str(root)]}
    check = run_module('cloudos_journal_vacuum', args, check=True)
    real = run_module('cloudos_journal_vacuum', args)
    assert sorted(r['path'] for r in check['removed']) == sorted(r['path'] for r in real['removed']) \
        == sorted(names[:2] + [empty])


# --------------------------------------------------------------------------- Docker prune (rule 4)

def _image_tar(created):
    """``docker save`` layout of a one-layer image without a tag; ``created`` None leaves the field out."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode='w') as tar:
        data = ('made at %r\n' % created).encode()
        info = tarfile.TarInfo('hello.txt')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    config = {'architecture': 'amd64', 'os': 'linux', 'config': {'Cmd': ['/hello.txt']},
              'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + hashlib.sha256(layer_bytes).hexdigest()]}}
    if created is not None:
        config['created'] = created
    config_bytes = json.dumps(config).encode()
    image_id = hashlib.sha256(config_bytes).hexdigest()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w') as tar:
        for name, blob in (('%s.json' % image_id, config_bytes), ('layer/layer.tar', layer_bytes),
                           ('manifest.json', json.dumps([{'Config': '%s.json' % image_id, 'RepoTags': None,
                                                          'Layers': ['layer/layer.tar']}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out.getvalue(), 'sha256:' + image_id


@pytest.fixture(scope='module')
def engine():
    eng = PrivateDockerEngine(prefix='cob-hostile-')
    try:
        eng.start()
        yield eng
    finally:
        eng.stop()


@pytest.mark.docker
def test_prune_older_than_keeps_an_image_of_unknown_age_and_the_plan_is_what_runs(engine):
    unknown_tar, unknown = _image_tar(None)
    old_tar, old = _image_tar('2001-01-01T00:00:00Z')
    for blob in (unknown_tar, old_tar):
        engine.docker('load', input=blob, text=False)
    listed = engine.docker('images', '-q', '--no-trunc').stdout.split()
    assert unknown in listed and old in listed
    args = {'docker_host': engine.url, 'scope': ['dangling_images'], 'older_than': '1d'}
    check = run_module('cloudos_docker_prune', args, check=True)
    assert not check.failed, check.get('msg')
    assert [i['id'] for i in check['plan']['images']] == [old]
    kept = dict((k['id'], k['reason']) for k in check['kept']['images'])
    assert kept[unknown].startswith('age unknown (Created is ') and kept[unknown].endswith('not proven older than older_than')
    real = run_module('cloudos_docker_prune', args)
    assert [i['id'] for i in real['removed']['images']] == [old] and real['not_removed'] == []
    listed = engine.docker('images', '-q', '--no-trunc').stdout.split()
    assert unknown in listed and old not in listed


# --------------------------------------------------------------------------- daemon.json (rule 6)

def _daemon_args(path, options, **extra):
    return dict(dict(path=str(path), options=options, service='', validate=False), **extra)


def test_daemon_json_symlink_is_written_through_the_link(tmp_path):
    target, link = linked_file(tmp_path, '{"debug": true}\n', real_dir='etc-docker')
    result = run_module('cloudos_docker_daemon_config', _daemon_args(link, {'log-level': 'warn'}))
    assert not result.failed and result['changed'] is True
    assert os.path.islink(str(link)) and os.readlink(str(link)) == str(target)
    assert json.loads(target.read_text()) == {'debug': True, 'log-level': 'warn'}


@pytest.mark.parametrize('kind, fragment', [
    ('directory', 'is a directory, not a file'),
    ('huge', 'is 100.00 MB, more than the 1.00 MB such a file may have'),
    ('malformed', "is not valid JSON (line 2 column 11: Expecting ',' delimiter)"),
])
def test_daemon_json_that_cannot_be_a_config_is_a_clear_error(tmp_path, kind, fragment):
    path = tmp_path / 'daemon.json'
    if kind == 'directory':
        path.mkdir()
    elif kind == 'huge':
        with open(str(path), 'wb') as handle:
            handle.truncate(100 * MB)
    else:
        path.write_text('{"debug": true,\n "a": "b" "c": 1}\n')
    before = path.stat().st_size if kind != 'directory' else None
    result = run_module('cloudos_docker_daemon_config', _daemon_args(path, {'debug': False}))
    assert result.failed and str(path) in result['msg'] and fragment in result['msg']
    assert 'Traceback' not in result.get('module_stderr', '')
    if before is not None:
        assert path.stat().st_size == before


def test_daemon_hosts_conflict_with_the_unit_file_is_found_without_systemd(tmp_path):
    unit = '/lib/systemd/system/docker.service'
    # Debian's docker.io (make setup-system installs it) ships this unit with -H fd://; the test
    # machine runs no systemd, which is the case under test.
    assert not os.path.exists('/run/systemd/system'), 'this test needs a machine where systemd does not run'
    assert os.path.exists(unit) and ' -H ' in open(unit).read(), '%s with -H is needed (apt-get install docker.io)' % unit
    path = tmp_path / 'daemon.json'
    path.write_text('{}\n')
    result = run_module('cloudos_docker_daemon_config',
                        _daemon_args(path, {'hosts': ['unix:///run/other.sock']}, service='docker.service',
                                     validate=True, dockerd='/bin/true'))
    assert result.failed
    assert "'hosts' set both in the file and as a flag of the Docker service (ExecStart in %s" % unit in result['msg']
    assert path.read_text() == '{}\n'


# --------------------------------------------------------------------------- sysctl state file (rule 6)

def test_sysctl_revert_of_a_state_file_naming_a_cron_job_changes_nothing(tmp_path):
    root = tmp_path / 'root'
    (root / 'etc' / 'cron.d').mkdir(parents=True)
    job = root / 'etc' / 'cron.d' / 'job'
    job.write_text('0 3 * * * root /usr/local/bin/backup\n')
    (root / 'proc' / 'sys').mkdir(parents=True)
    state = root / 'var' / 'lib' / 'cloudos-ops' / 'sysctl-tune.json'
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({'version': 1, 'sysctl': {}, 'sysfs': {'/etc/cron.d/job': '* * * * * root sh'}}))
    result = run_module('cloudos_sysctl_tune', {'root': str(root), 'state': 'reverted'})
    assert result.failed
    assert ("state_file /var/lib/cloudos-ops/sysctl-tune.json: sysfs entry '/etc/cron.d/job' is not a path this "
            "module writes; nothing changed") in result['msg']
    assert job.read_text() == '0 3 * * * root /usr/local/bin/backup\n' and state.exists()


# --------------------------------------------------------------------------- fleet report (rule 5)

def test_fleet_report_refuses_empty_formats_and_writes_nothing(tmp_path):
    result = run_module('fleet_report', {'dest': str(tmp_path / 'out'), 'formats': [],
                                         'results': {'web1': {'health': {'status': 'CRITICAL', 'checks': {}}}}})
    assert result.failed and 'formats must name at least one of json' in result['msg']
    assert not (tmp_path / 'out').exists()


def test_fleet_report_counts_an_odd_status_as_critical(tmp_path):
    results = {'web1': {'health': {'status': 'ok', 'checks': {'disk': {'status': 'failed', 'summary': 'x'}}}},
               'web2': {'health': {'status': 'CRITICAL', 'checks': {'disk': {'status': 'ok', 'summary': 'y'}}}},
               'web3': {'health': {}}}
    result = run_module('fleet_report', {'dest': str(tmp_path / 'out'), 'formats': ['json'], 'results': results,
                                         'fail_on': 'never'})
    assert not result.failed, result.get('msg')
    report = json.load(open(str(tmp_path / 'out' / 'report.json')))
    statuses = dict((h['host'], h['status']) for h in report['hosts'])
    assert statuses == {'web1': 'critical', 'web2': 'critical', 'web3': 'error'}
    assert report['summary']['status_counts'].get('ok', 0) == 0
