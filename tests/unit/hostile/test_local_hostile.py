# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input to the modules that act on the local machine (issue 13, rules 2, 4, 5 and 6).

Journal vacuum (the real run does what the plan previewed), Docker prune (nothing is deleted
that is not proven old and unused), the fleet report (no status hides a failure) and the files
the tuning modules are pointed at (sysctl state file, daemon.json, the docker unit file). Every
case asserts what the user sees (the message names the option or the file) and that nothing
changed (read back).
"""

from __future__ import annotations

import json
import os
import random
import time

from datetime import datetime, timezone
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic

from tests.fixtures.files import linked_file
from tests.unit.compat import patch_module_args
from tests.unit.plugins.module_utils import der_helpers as der
from tests.unit.plugins.module_utils.health_fakes import THRESHOLDS, params as health_params
from tests.unit.plugins.module_utils.sysctl_tree import make_tree

from ansible_collections.cloudos.ops.plugins.action import fleet_report as fleet_action
from ansible_collections.cloudos.ops.plugins.module_utils import (
    _common, _docker_daemon as daemon, _docker_prune as prune, _journal as journal, _systemd)
from ansible_collections.cloudos.ops.plugins.module_utils._health import certificates, core
from ansible_collections.cloudos.ops.plugins.modules import (
    cloudos_docker_daemon_config, cloudos_docker_prune, cloudos_journal_vacuum, cloudos_sysctl_tune)
from ansible_collections.cloudos.ops.plugins.plugin_utils import _report_model as R

MB = 1024 * 1024


def run_main(main, args, capsys):
    """Run a module's ``main`` in this process; a bare Python error fails the test by itself.

    Syslog logging is off: with it on, ansible-core itself refuses an argument holding a NUL
    ("Failed to log to syslog (embedded null character)") before the module's own checks run.
    """
    with patch_module_args(args), mock.patch.object(basic.AnsibleModule, '_log_to_syslog', lambda self, msg: None):
        with pytest.raises(SystemExit):
            main()
    return json.loads(capsys.readouterr().out)


def assert_clean_failure(result, *fragments):
    assert result.get('failed') is True, result
    assert 'Traceback' not in json.dumps(result) and 'exception' not in result
    for fragment in fragments:
        assert fragment in result['msg'], (fragment, result['msg'])


# =========================================================================== rule 2: journal vacuum

NOW_US = 1700000000 * 1000000
DAY_US = 86400 * 1000000
SEQ = 'a' * 32


def archived_name(seqnum, days_ago):
    return 'system@%s-%016x-%016x.journal' % (SEQ, seqnum, NOW_US - days_ago * DAY_US)


def journal_tree(tmp_path, machines=('f' * 32,)):
    root = tmp_path / 'journal'
    olds = []
    for machine in machines:
        folder = root / machine
        folder.mkdir(parents=True)
        old = folder / archived_name(1, 30)
        old.write_bytes(b'x' * 70000)
        (folder / archived_name(2, 0)).write_bytes(b'x' * 70000)
        (folder / 'system.journal').write_bytes(b'y' * 10)
        olds.append(old)
    return root, olds


class PlanFollowingJournalctl:
    """Stands in for journalctl: ``--directory=D --vacuum-*`` removes what journald's rules remove in D.

    A vacuum without ``--directory`` (the system journal) is recorded and removes nothing here.
    """

    def __init__(self):
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        directory = [a.split('=', 1)[1] for a in argv if a.startswith('--directory=')]
        if any(a.startswith('--vacuum-time=') for a in argv) and directory:
            found = journal.scan([directory[0]])
            remove, _left = journal.plan_directory(found.get(directory[0], []), NOW_US, vacuum_time=86400)
            for item in remove:
                os.unlink(item['path'])
        return 0, 'Archived and active journals take up 8.0K in the file system.\n', ''


def jparams(**over):
    base = dict(vacuum_time='1d', vacuum_size=None, vacuum_files=None, directories=list(journal.DIRECTORIES))
    base.update(over)
    return base


def test_journal_real_run_vacuums_exactly_the_directories_the_plan_measured(tmp_path):
    root, olds = journal_tree(tmp_path, machines=('f' * 32, 'e' * 32))
    args = jparams(directories=[str(root)])
    check = journal.vacuum(args, journal.check_params(args), 'journalctl', PlanFollowingJournalctl(), NOW_US,
                           check_mode=True)
    run = PlanFollowingJournalctl()
    real = journal.vacuum(args, journal.check_params(args), 'journalctl', run, NOW_US)
    assert [c for c in run.calls if '--vacuum-time=1d' in c] == [
        ['journalctl', '--directory=%s' % (root / ('e' * 32)), '--vacuum-time=1d'],
        ['journalctl', '--directory=%s' % (root / ('f' * 32)), '--vacuum-time=1d']]
    assert sorted(r['path'] for r in check['removed']) == sorted(r['path'] for r in real['removed']) \
        == sorted(str(o) for o in olds)
    assert check['bytes_freed'] == real['bytes_freed'] and not any(o.exists() for o in olds)


def test_journal_given_directories_never_vacuum_the_system_journal(tmp_path):
    root, _olds = journal_tree(tmp_path)
    run = PlanFollowingJournalctl()
    args = jparams(directories=[str(root)])
    journal.vacuum(args, journal.check_params(args), 'journalctl', run, NOW_US)
    vacuums = [c for c in run.calls if any(a.startswith('--vacuum') for a in c)]
    assert vacuums and all(any(a.startswith('--directory=%s' % root) for a in c) for c in vacuums)


def test_journal_nothing_found_runs_no_vacuum_and_changes_nothing(tmp_path):
    run = PlanFollowingJournalctl()
    args = jparams(directories=[str(tmp_path / 'none')])
    out = journal.vacuum(args, journal.check_params(args), 'journalctl', run, NOW_US)
    assert run.calls == [['journalctl', '--disk-usage']]
    assert out['changed'] is False and out['removed'] == [] and out['msg'].startswith('removed 0 archived')


def test_journal_empty_archived_files_are_previewed_because_journald_removes_them_anyway(tmp_path):
    folder = tmp_path / 'journal' / ('f' * 32)
    folder.mkdir(parents=True)
    short = folder / archived_name(3, 0)           # new, but shorter than a journal header
    short.write_bytes(b'x' * 100)
    zero = folder / archived_name(4, 0)            # new, a header that says 0 entries
    zero.write_bytes(b'x' * 152 + b'\0' * 8 + b'x' * 200)
    kept = folder / archived_name(5, 0)
    kept.write_bytes(b'x' * 400)
    found = journal.scan([str(tmp_path / 'journal')])
    planned = journal.plan(found, NOW_US, vacuum_time=86400)
    assert sorted(r['path'] for r in planned['remove']) == sorted([str(short), str(zero)])


@pytest.mark.parametrize('over, message', [
    ({'vacuum_time': 'soon'}, 'vacuum_time must be a time span'),
    ({'vacuum_time': '7d\x00'}, "vacuum_time: '7d\\x00' holds a NUL or control character"),
    ({'vacuum_time': '99999999999w'}, 'vacuum_time must be at most 100 years'),
    ({'vacuum_size': 'big'}, 'vacuum_size must be a size such as 500M'),
    ({'vacuum_size': '0'}, 'vacuum_size must be more than 0'),
    ({'vacuum_size': '99999999P'}, "vacuum_size must be at most 8E"),
    ({'vacuum_files': 0}, 'vacuum_files must be at least 1, got 0'),
    ({'vacuum_files': 10 ** 30}, 'vacuum_files must be at most 2147483647'),
    ({'vacuum_files': 'many'}, 'vacuum_files'),
    ({'directories': ['relative/dir']}, "directories: 'relative/dir' must be an absolute path"),
    ({'directories': ['/var/log/journal\x00']}, 'directories:'),
])
def test_journal_module_refuses_garbage_cleanly(tmp_path, capsys, over, message):
    root, olds = journal_tree(tmp_path)
    args = dict(dict(vacuum_time='1d', directories=[str(root)]), **over)
    result = run_main(cloudos_journal_vacuum.main, args, capsys)
    assert_clean_failure(result, message)
    assert all(o.exists() for o in olds)


# =========================================================================== rule 4: docker prune

NOW = datetime(2024, 2, 1, 12, 0, 0, tzinfo=timezone.utc)
T = int(NOW.timestamp())
OLD = T - 10 * 86400


def img(ident, created=OLD, containers=0, tags=None, **extra):
    raw = {'Id': 'sha256:' + ident, 'RepoTags': tags, 'RepoDigests': [], 'Size': 1000, 'SharedSize': 0,
           'Containers': containers, 'Created': created, 'ParentId': '', 'Labels': None}
    raw.update(extra)
    return raw


def ctr(ident, image_id='img', state='exited', created=OLD, **extra):
    raw = {'Id': ident, 'Names': ['/' + ident], 'Image': 'x', 'ImageID': 'sha256:' + image_id if image_id else '',
           'State': state, 'Status': state, 'Created': created, 'SizeRw': 10, 'Labels': {},
           'HostConfig': {'NetworkMode': 'bridge'}, 'NetworkSettings': {'Networks': {'bridge': {}}}, 'Mounts': []}
    raw.update(extra)
    return raw


def vol(name, refs=0, created='2024-01-01T00:00:00Z'):
    return {'Name': name, 'Driver': 'local', 'CreatedAt': created, 'Labels': None,
            'UsageData': {'Size': 5000, 'RefCount': refs}}


def inventory(images=(), containers=(), volumes=(), networks=(), cache=(), **extra):
    inv = {'images': list(images), 'containers': list(containers), 'volumes': list(volumes),
           'networks': list(networks), 'build_cache': list(cache), 'all_containers': list(containers)}
    inv.update(extra)
    return inv


def kept(result, kind):
    return dict((k['id'], k['reason']) for k in result['keep'][kind])


def removed_ids(result, kind):
    return [i['id'] for i in result['remove'][kind]]


ALL_SCOPES = ['dangling_images', 'unused_images', 'stopped_containers', 'unused_networks', 'unused_volumes',
              'build_cache']


@pytest.mark.parametrize('created, shown', [
    (None, 'missing'), (0, '0'), ('garbage', '"garbage"'), (-62135596800, '-62135596800'),
    ('0001-01-01T00:00:00Z', '"0001-01-01T00:00:00Z"'), ({'t': 1}, '{"t": 1}'),
])
def test_prune_older_than_keeps_an_image_whose_age_cannot_be_read(created, shown):
    raw = img('unknown', created=created)
    if created is None:
        del raw['Created']
    result = prune.plan(inventory([raw, img('old')]), scope=['dangling_images'], older_than='1d', now=NOW)
    assert removed_ids(result, 'images') == ['sha256:old']
    assert kept(result, 'images') == {
        'sha256:unknown': 'age unknown (Created is %s): not proven older than older_than' % shown}


def test_prune_without_older_than_age_does_not_matter():
    result = prune.plan(inventory([img('unknown', created='garbage')]), scope=['dangling_images'], now=NOW)
    assert removed_ids(result, 'images') == ['sha256:unknown']


@pytest.mark.parametrize('containers, shown', [(None, 'missing'), ('two', '"two"'), (-1, '-1'), (True, 'true')])
def test_prune_keeps_an_image_whose_container_count_cannot_be_read(containers, shown):
    raw = img('nocount', containers=containers)
    if containers is None:
        del raw['Containers']
    result = prune.plan(inventory([raw]), scope=['unused_images'], now=NOW)
    assert removed_ids(result, 'images') == []
    assert kept(result, 'images') == {'sha256:nocount': 'container count unknown (Containers is %s): not proven unused'
                                      % shown}


@pytest.mark.parametrize('usage, shown', [({'Size': 1}, 'missing'), (None, 'missing'), ({'RefCount': 'x'}, '"x"')])
def test_prune_keeps_a_volume_whose_reference_count_cannot_be_read(usage, shown):
    raw = vol('data')
    raw['UsageData'] = usage
    result = prune.plan(inventory(volumes=[raw, vol('spare')]), scope=['unused_volumes'], now=NOW)
    assert removed_ids(result, 'volumes') == ['spare']
    assert kept(result, 'volumes') == {
        'data': 'reference count unknown (UsageData.RefCount is %s): not proven unused' % shown}


def test_prune_keeps_every_image_volume_and_network_when_containers_cannot_be_listed():
    inv = inventory([img('a')], volumes=[vol('v')], networks=[{'Name': 'n', 'Id': 'n-id', 'Scope': 'local'}],
                    all_containers=None, containers_error='/containers/json: 500 Server Error')
    result = prune.plan(inv, scope=ALL_SCOPES, now=NOW)
    assert result['count'] == 0
    reason = 'containers could not be listed (/containers/json: 500 Server Error): not proven unused'
    assert kept(result, 'images') == {'sha256:a': reason}
    assert kept(result, 'volumes') == {'v': reason} and kept(result, 'networks') == {'n-id': reason}


@pytest.mark.parametrize('listing, fragment', [
    ('not a list', 'the engine answered "not a list" instead of a list'),
    ([ctr('c1'), 'junk'], 'the engine answered 1 record(s) that are not objects ("junk")'),
])
def test_prune_keeps_images_when_the_container_list_is_garbage(listing, fragment):
    result = prune.plan(inventory([img('a')], all_containers=listing), scope=['unused_images'], now=NOW)
    assert removed_ids(result, 'images') == [] and fragment in kept(result, 'images')['sha256:a']


def test_prune_keeps_images_when_a_container_image_is_unknown():
    result = prune.plan(inventory([img('a')], [ctr('c1', image_id='')]), scope=['unused_images'], now=NOW)
    assert kept(result, 'images') == {'sha256:a': "a container's image is unknown (c1): not proven unused"}


@pytest.mark.parametrize('kind, scope, raw, field', [
    ('containers', 'stopped_containers', ctr('c1', created='bad'), 'Created'),
    ('volumes', 'unused_volumes', vol('v1', created=None), 'CreatedAt'),
    ('networks', 'unused_networks', {'Name': 'n1', 'Id': 'n1', 'Scope': 'local', 'Created': 'never'}, 'Created'),
    ('build_cache', 'build_cache', {'ID': 'b1', 'Size': 5, 'InUse': False, 'Shared': False}, 'LastUsedAt'),
])
def test_prune_older_than_keeps_every_kind_whose_age_cannot_be_read(kind, scope, raw, field):
    key = {'containers': 'containers', 'volumes': 'volumes', 'networks': 'networks', 'build_cache': 'cache'}[kind]
    inv = inventory(**{key: [raw]})
    if kind != 'containers':
        inv['all_containers'] = []
    result = prune.plan(inv, scope=[scope], older_than='1h', now=NOW)
    assert result['count'] == 0
    (reason,) = kept(result, kind).values()
    assert reason.startswith('age unknown (%s is ' % field) and reason.endswith('not proven older than older_than')


def test_prune_items_without_an_id_are_never_removed():
    inv = inventory([img('')], [ctr('', state='exited')], cache=[{'Size': 5}])
    result = prune.plan(inv, scope=ALL_SCOPES, now=NOW)
    assert result['count'] == 0


class FakeEngine:
    """The adapter ``run`` talks to, over a fixed inventory; removal always succeeds."""

    errors = type('errors', (), {'APIError': type('APIError', (Exception,), {})})
    url = 'unix:///var/run/docker.sock'

    def __init__(self, inv):
        self.inv, self.calls = inv, []

    def inventory(self):
        return self.inv

    def inspect(self, kind, ident):
        return {'Id': ident, 'State': {'Status': 'exited'}, 'RepoTags': None}

    def remove(self, kind, ident):
        self.calls.append(ident)
        return 'removed', None


def test_prune_check_mode_list_and_real_deletions_are_the_same_set():
    inv = inventory([img('old'), img('noage', created='garbage'), img('nocount', containers=None)],
                    [ctr('c-old', image_id='other'), ctr('c-noage', image_id='other', created=None)],
                    volumes=[vol('v-old'), vol('v-norefs', refs='?')])
    args = dict(scope=ALL_SCOPES, older_than='1d', exclude_labels=[], exclude_names=[], image_inventory=[], timeout=60)
    check = prune.run(FakeEngine(inv), args, check_mode=True, now=NOW)
    engine = FakeEngine(inv)
    real = prune.run(engine, args, now=NOW)
    planned = sorted(i['id'] for k in prune.KINDS for i in check['plan'][k])
    done = sorted(i['id'] for k in prune.KINDS for i in real['removed'][k])
    assert planned == done == sorted(engine.calls) == ['c-old', 'sha256:old', 'v-old']
    assert sorted(i['id'] for k in prune.KINDS for i in real['kept'][k]) == [
        'c-noage', 'sha256:noage', 'sha256:nocount', 'v-norefs']


def test_prune_engine_adapter_reports_a_failed_container_listing_and_a_garbage_df():
    errors = type('errors', (), {'APIError': type('APIError', (Exception,), {}), 'NotFound': KeyError})
    client = mock.Mock()
    client.df.return_value = {'Images': [img('a')], 'Containers': [], 'Volumes': [], 'BuildCache': []}
    client.containers.side_effect = errors.APIError('500 Server Error')
    client.networks.return_value = []
    inv = prune.DockerEngine(client, errors, 'unix:///x.sock').inventory()
    assert inv['all_containers'] is None and inv['containers_error'] == '/containers/json: 500 Server Error'
    assert prune.plan(inv, scope=['unused_images'], now=NOW)['count'] == 0
    client.df.return_value = ['not', 'an', 'object']
    with pytest.raises(prune.PruneError, match=r'Docker engine at unix:///x.sock: /system/df answered \["not"'):
        prune.DockerEngine(client, errors, 'unix:///x.sock').inventory()


@pytest.mark.parametrize('args, message', [
    ({'older_than': '99999999999w'}, 'older_than'),
    ({'older_than': 'soon'}, 'older_than'),
    ({'older_than': '1d\x00'}, 'older_than'),
    ({'timeout': 0}, 'timeout must be a positive number of seconds, got 0'),
    ({'timeout': 10 ** 20}, 'timeout must be at most 86400 seconds'),
    ({'timeout': 'soon'}, 'timeout'),
    ({'scope': ['everything']}, 'scope'),
    ({'exclude_labels': ['=x']}, 'exclude_labels: each entry must be "key" or "key=value"'),
    ({'exclude_names': ['web\x00']}, "exclude_names: 'web\\x00' holds a NUL or control character"),
])
def test_prune_module_refuses_garbage_before_asking_the_engine(capsys, args, message):
    with mock.patch.object(cloudos_docker_prune._docker, 'connect') as connect:
        result = run_main(cloudos_docker_prune.main, args, capsys)
    assert_clean_failure(result, message)
    assert connect.call_count == 0


# =========================================================================== rule 5: reports

def health(checks, status='ok', findings=None):
    data = {'status': status, 'checks': checks}
    if findings is not None:
        data['findings'] = findings
    return {'health': data}


@pytest.mark.parametrize('given, shown', [('CRITICAL', 'critical'), ('Warning', 'warning'), (' OK ', 'ok'),
                                          ('Absent', 'absent')])
def test_report_check_status_case_is_normalised_where_the_meaning_is_clear(given, shown):
    entry = R.normalize_result('h', health({'disk': {'status': given, 'summary': 's'}}))
    assert entry['checks']['disk']['status'] == shown and entry['checks']['disk']['summary'] == 's'


@pytest.mark.parametrize('given', ['failed', 'bogus', '', None, 3, ['critical']])
def test_report_unknown_check_status_is_critical_with_a_finding(given):
    entry = R.normalize_result('h', health({'disk': {'status': given, 'summary': 's'}}))
    check = entry['checks']['disk']
    assert check['status'] == 'critical' and entry['status'] == 'critical'
    assert check['summary'].startswith('status %s not understood' % json.dumps(given))
    assert entry['findings'][0]['severity'] == 'critical' and 'was not understood' in entry['findings'][0]['message']


@pytest.mark.parametrize('check, shown', [('CRITICAL', 'critical'), ('ok', 'ok'), (42, 'critical'),
                                          (None, 'critical'), (['x'], 'critical')])
def test_report_non_dict_check_is_read_as_a_status_or_counted_critical(check, shown):
    entry = R.normalize_result('h', health({'disk': check}))
    assert entry['checks']['disk']['status'] == shown and entry['status'] == shown


@pytest.mark.parametrize('severity, shown', [('Critical', 'critical'), ('WARNING', 'warning'), ('info', 'info'),
                                             ('fatal', 'critical'), (7, 'critical'), (None, 'warning')])
def test_report_finding_severity_is_never_shown_lower_than_it_may_be(severity, shown):
    entry = R.normalize_result('h', health({'disk': {'status': 'critical', 'summary': 's',
                                                     'findings': [{'severity': severity, 'message': 'm'}]}}))
    assert [f['severity'] for f in entry['findings']] == [shown]


@pytest.mark.parametrize('status, shown', [('CRITICAL', 'critical'), ('Error', 'error'), ('bogus', 'critical'),
                                           ('', 'critical'), ('failed', 'critical')])
def test_report_host_status_is_never_hidden_by_ok_checks(status, shown):
    entry = R.normalize_result('h', health({'disk': {'status': 'ok', 'summary': 's'}}, status=status))
    assert entry['status'] == shown
    report = R.build_report([entry])
    assert report['summary']['status_counts'].get('ok', 0) == 0
    assert report['summary']['failing_hosts'] == ['h'] and report['summary']['fail_on_reached'] is True


@pytest.mark.parametrize('result', [{'health': {}}, {'health': {'checks': {}}}, {'health': {'status': None}}])
def test_report_empty_health_is_an_error_not_ok(result):
    entry = R.normalize_result('h', result)
    assert entry['status'] == 'error' and entry['error'] == "the check returned an empty 'health' result"
    assert entry['findings'][0]['severity'] == 'critical'


def test_report_host_entry_from_an_old_report_with_an_odd_status_is_critical():
    assert R.host_entry('h', 'UNREACHABLE')['status'] == 'unreachable'
    entry = R.host_entry('h', 'purple')
    assert entry['status'] == 'critical' and 'was not understood' in entry['findings'][0]['message']


def _action(tmp_path, **args):
    task = mock.MagicMock()
    task.async_val = 0
    task.args = dict(dict(dest=str(tmp_path / 'out'), results={'h': health({'d': 'ok'})}), **args)
    connection = mock.MagicMock()
    connection._shell.tmpdir = 'x'
    return fleet_action.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(),
                                     mock.MagicMock())


def test_report_formats_empty_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(AnsibleActionFail, match=r'fleet_report: formats must name at least one of json, '):
        _action(tmp_path, formats=[]).run(task_vars={})
    assert not (tmp_path / 'out').exists()


# =========================================================================== rule 6: sysctl state file

STATE = '/var/lib/cloudos-ops/sysctl-tune.json'


@pytest.fixture
def root(tmp_path):
    base = make_tree(str(tmp_path / 'root'))
    cron = os.path.join(base, 'etc/cron.d')
    os.makedirs(cron)
    with open(os.path.join(cron, 'job'), 'w') as handle:
        handle.write('* * * * * root backup\n')
    os.makedirs(os.path.join(base, 'var/lib/cloudos-ops'))
    return base


def snapshot(root):
    """Every file and link below root with its bytes, to prove nothing changed."""
    out = {}
    for base, dirs, files in os.walk(str(root)):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            path = os.path.join(base, name)
            if os.path.islink(path):
                out[os.path.relpath(path, str(root))] = '-> ' + os.readlink(path)
            else:
                with open(path, 'rb') as handle:
                    out[os.path.relpath(path, str(root))] = handle.read()
    return out


def put_state(root, content):
    path = os.path.join(root, STATE.lstrip('/'))
    with open(path, 'wb') as handle:
        handle.write(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


def revert(root, capsys, **extra):
    return run_main(cloudos_sysctl_tune.main, dict({'root': root, 'state': 'reverted'}, **extra), capsys)


@pytest.mark.parametrize('state, fragment', [
    ({'version': 1, 'sysctl': {}, 'sysfs': {'/etc/cron.d/job': 'pwned'}}, "sysfs entry '/etc/cron.d/job' is not a path"),
    ({'sysfs': {'/sys/block/../../etc/cron.d/job/queue/scheduler': 'x'}}, 'is not a path this module writes'),
    ({'sysfs': {'/sys/class/net/eth0/mtu': '9000'}}, "sysfs entry '/sys/class/net/eth0/mtu' is not a path"),
    ({'sysfs': {'/sys/block/vda/queue/scheduler/../../../../../etc/cron.d/job': 'x'}}, 'is not a path'),
    ({'sysctl': {'../../../etc/cron.d/job': 'x'}}, "sysctl entry '../../../etc/cron.d/job' is not a sysctl name"),
    ({'sysctl': {'net.core.somaxconn': '1\x00'}}, "sysctl entry 'net.core.somaxconn' has a value with a NUL"),
    ({'sysctl': {'net.core.somaxconn': '1\n* * * * * root sh'}}, 'has a value with a NUL or control character'),
    ({'sysctl': {'net.core.somaxconn': 128}}, "sysctl entry 'net.core.somaxconn' has the value 128, not a text value"),
    ({'sysctl': {'net.core.somaxconn': ['1']}}, 'not a text value'),
    ({'sysfs': {'/sys/block/vda/queue/scheduler': '\x1b[2J'}}, 'has a value with a NUL or control character'),
    ({'version': 2, 'sysctl': {}}, 'schema version 2, this module reads version 1'),
    ({'sysctl': {}, 'hosts': {}}, "not a cloudos_sysctl_tune state file (unknown key(s) 'hosts')"),
    ({'sysctl': ['net.core.somaxconn']}, 'sysctl must be an object of name to value, got list'),
    ([1, 2], 'does not hold a JSON object'),
    (b'{"sysctl": ', 'is not valid JSON'),
    (b'\xff\xfe{}', 'is not UTF-8 text'),
    (b' ' * (MB + 1), 'more than the 1.00 MB such a file may have'),
])
def test_sysctl_revert_refuses_a_hostile_state_file_and_changes_nothing(root, capsys, state, fragment):
    put_state(root, state)
    before = snapshot(root)
    result = revert(root, capsys)
    assert_clean_failure(result, 'state_file %s' % STATE, fragment)
    assert snapshot(root) == before


def test_sysctl_revert_refuses_a_state_file_that_is_a_symlink(root, capsys, tmp_path):
    decoy = tmp_path / 'decoy.json'
    decoy.write_text(json.dumps({'sysctl': {'net.core.somaxconn': '128'}}))
    os.symlink(str(decoy), os.path.join(root, STATE.lstrip('/')))
    before = snapshot(root)
    result = revert(root, capsys)
    assert_clean_failure(result, 'state_file %s is a symbolic link (to %s)' % (STATE, decoy))
    assert snapshot(root) == before


def test_sysctl_revert_refuses_a_state_file_that_is_a_directory(root, capsys):
    os.makedirs(os.path.join(root, STATE.lstrip('/')))
    result = revert(root, capsys)
    assert_clean_failure(result, 'state_file %s is a directory, not a file' % STATE)


def test_sysctl_revert_of_a_genuine_state_file_still_restores(root, capsys):
    put_state(root, {'version': 1, 'sysctl': {'net.core.somaxconn': '128'},
                     'sysfs': {'/sys/block/vda/queue/read_ahead_kb': '256'}})
    result = revert(root, capsys)
    assert result['changed'] is True and not result.get('failed')
    assert open(os.path.join(root, 'proc/sys/net/core/somaxconn')).read().strip() == '128'
    assert open(os.path.join(root, 'sys/block/vda/queue/read_ahead_kb')).read().strip() == '256'
    assert open(os.path.join(root, 'etc/cron.d/job')).read() == '* * * * * root backup\n'


@pytest.mark.parametrize('args, fragment', [
    ({'settings': {'net.core.somaxconn': '1024\x00'}}, "settings[net.core.somaxconn]: value '1024\\x00' holds a NUL"),
    ({'settings': {'net.ipv4.tcp_congestion_control': 'cubic\x1b[31m'}}, 'holds a NUL or control character'),
    ({'settings': {'net.core.somaxconn\x00': '1'}}, "settings: key 'net.core.somaxconn\\x00' is not a sysctl name"),
    ({'settings': {'net.core.somaxconn': 1.5}}, 'is not an integer'),
    ({'settings': {'net.core.somaxconn': {'a': 1}}}, 'has an unsupported type dict'),
    ({'settings': 'not a mapping'}, 'settings'),
    ({'read_ahead_kb': 10 ** 30}, 'read_ahead_kb: %d is more than 4194304' % 10 ** 30),
    ({'read_ahead_kb': -4}, 'read_ahead_kb: -4 is not a non-negative integer'),
    ({'cpu_governor': 'performance\x00'}, "cpu_governor: 'performance\\x00' holds a NUL"),
    ({'io_scheduler': 'bfq\x00'}, 'io_scheduler'),
    ({'block_devices': 'vd*\x00'}, 'block_devices'),
    ({'state_file': '/var/lib/x\x00.json'}, 'state_file'),
    ({'sysctl_file': 'relative.conf'}, "sysctl_file: 'relative.conf' must be an absolute path"),
    ({'systemd_unit': '../../x.service'}, 'systemd_unit'),
    ({'state': 'gone'}, 'state'),
    ({'persist': 'maybe'}, 'persist'),
])
def test_sysctl_module_refuses_garbage_cleanly_and_changes_nothing(root, capsys, args, fragment):
    before = snapshot(root)
    result = run_main(cloudos_sysctl_tune.main, dict({'root': root}, **args), capsys)
    assert_clean_failure(result, fragment)
    assert snapshot(root) == before


# =========================================================================== rule 6: daemon.json and the unit file

class Module:
    """What ModuleSystem asks of an AnsibleModule, without Ansible."""

    def __init__(self, tmpdir):
        self.tmpdir = str(tmpdir)
        self.params = {}
        self.warnings = []

    def run_command(self, argv):
        return 1, '', 'no systemd here'

    def warn(self, message):
        self.warnings.append(message)

    def get_bin_path(self, name, opt_dirs=None):
        return None

    def atomic_move(self, src, dest):
        os.replace(src, dest)

    def backup_local(self, path):
        return None


def dparams(path, options, **extra):
    base = dict(path=str(path), options=options, validate=False, dockerd=None, service='',
                allow_storage_driver_change=False, backup=False)
    base.update(extra)
    return base


def test_daemon_json_symlink_is_updated_through_the_link(tmp_path):
    target, link = linked_file(tmp_path, '{"debug": true}\n', real_dir='real')
    result = daemon.configure(daemon.ModuleSystem(Module(tmp_path)), dparams(link, {'log-level': 'warn'}))
    assert result['changed'] is True
    assert os.path.islink(str(link)) and os.readlink(str(link)) == str(target)
    assert json.loads(target.read_text()) == {'debug': True, 'log-level': 'warn'}


@pytest.mark.parametrize('make, fragment', [
    (lambda p: p.mkdir(), 'is a directory, not a file'),
    (lambda p: os.truncate(str(p), 100 * MB) if p.write_text('') is not None else None,
     'is 100.00 MB, more than the 1.00 MB such a file may have'),
    (lambda p: p.symlink_to(p.parent / 'nowhere.json'), 'which does not exist'),
    (lambda p: p.write_bytes(b'{"debug": true, "x": "\xff"}'), 'is not UTF-8 text (byte 22)'),
    (lambda p: p.write_text('{\n  "debug": true,\n  "log-level" "warn"\n}\n'),
     "is not valid JSON (line 3 column 15: Expecting ':' delimiter)"),
])
def test_daemon_json_that_is_not_a_plain_config_file_is_a_clear_error(tmp_path, make, fragment):
    path = tmp_path / 'daemon.json'
    make(path)
    before = sorted(os.listdir(str(tmp_path)))
    with pytest.raises(daemon.DaemonConfigError) as info:
        daemon.configure(daemon.ModuleSystem(Module(tmp_path)), dparams(path, {'debug': False}))
    assert str(path) in str(info.value) and fragment in str(info.value)
    assert sorted(os.listdir(str(tmp_path))) == before


def unit_tree(tmp_path, main='ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n',
              dropins=None, etc_main=None):
    lib = tmp_path / 'units' / 'lib/systemd/system'
    lib.mkdir(parents=True)
    (lib / 'docker.service').write_text('[Unit]\nDescription=Docker\n\n[Service]\nType=notify\n' + main)
    if etc_main is not None:
        etc = tmp_path / 'units' / 'etc/systemd/system'
        etc.mkdir(parents=True)
        (etc / 'docker.service').write_text('[Service]\n' + etc_main)
    for name, text in (dropins or {}).items():
        folder = tmp_path / 'units' / 'etc/systemd/system/docker.service.d'
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return str(tmp_path / 'units')


def configure_with_units(tmp_path, units, options):
    path = tmp_path / 'daemon.json'
    path.write_text('{}\n')
    system = daemon.ModuleSystem(Module(tmp_path), unit_root=units)
    return path, lambda: daemon.configure(system, dparams(path, options, validate=True, service='docker.service'))


def test_daemon_hosts_conflict_is_found_from_the_unit_file_without_systemd(tmp_path):
    path, call = configure_with_units(tmp_path, unit_tree(tmp_path), {'hosts': ['unix:///run/docker.sock']})
    with pytest.raises(daemon.DaemonConfigError) as info:
        call()
    message = str(info.value)
    assert "'hosts' set both in the file and as a flag of the Docker service" in message
    assert 'lib/systemd/system/docker.service' in message and path.read_text() == '{}\n'


def test_daemon_drop_in_that_resets_execstart_removes_the_conflict(tmp_path):
    units = unit_tree(tmp_path, dropins={'10-no-h.conf': '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd\n'})
    path, call = configure_with_units(tmp_path, units, {'hosts': ['unix:///run/docker.sock']})
    result = call()
    assert result['changed'] is True and 'service-flags' in result['validated_with']
    assert json.loads(path.read_text()) == {'hosts': ['unix:///run/docker.sock']}


def test_daemon_drop_in_that_adds_h_makes_a_conflict(tmp_path):
    units = unit_tree(tmp_path, main='ExecStart=/usr/sbin/dockerd\n',
                      dropins={'20-h.conf': '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd \\\n  -H tcp://0.0.0.0:2375\n'})
    _path, call = configure_with_units(tmp_path, units, {'hosts': ['unix:///run/docker.sock']})
    with pytest.raises(daemon.DaemonConfigError, match="'hosts' set both"):
        call()


def test_daemon_unit_in_etc_hides_the_one_in_lib(tmp_path):
    units = unit_tree(tmp_path, etc_main='ExecStart=/usr/sbin/dockerd --debug\n')
    _path, call = configure_with_units(tmp_path, units, {'hosts': ['unix:///run/docker.sock']})
    assert call()['changed'] is True
    _path, call = configure_with_units(tmp_path, units, {'debug': True})
    with pytest.raises(daemon.DaemonConfigError, match="'debug' set both"):
        call()


def test_systemd_parse_exec_start_follows_systemd_rules():
    texts = ['[Unit]\nExecStart=/not/this\n[Service]\n# ExecStart=/commented\nExecStart=-/usr/bin/a \\\n  --one\n',
             '[Service]\nExecStart=+/usr/bin/b\n',
             '[Service]\nExecStart=\n; comment\nExecStart=@/usr/bin/c -H fd://\n']
    assert _systemd.parse_exec_start(texts[:1]) == ['/usr/bin/a  --one']
    assert _systemd.parse_exec_start(texts[:2]) == ['/usr/bin/a  --one', '/usr/bin/b']
    assert _systemd.parse_exec_start(texts) == ['/usr/bin/c -H fd://']
    assert daemon.flags_in_execstart(_systemd.parse_exec_start(texts)[-1]) == {'hosts'}


@pytest.mark.parametrize('args, fragment', [
    ({'path': '/etc/docker/daemon.json\x00'}, "path: '/etc/docker/daemon.json\\x00' holds a NUL"),
    ({'service': 'docker\x00.service'}, 'service:'),
    ({'dockerd': '/usr/sbin/dockerd\x00'}, 'dockerd:'),
    ({'options': 'not a dict'}, 'options'),
    ({'validate': 'perhaps'}, 'validate'),
])
def test_daemon_module_refuses_garbage_cleanly(tmp_path, capsys, args, fragment):
    path = tmp_path / 'daemon.json'
    path.write_text('{"debug": true}\n')
    full = dict({'path': str(path), 'options': {'debug': False}, 'service': ''}, **args)
    result = run_main(cloudos_docker_daemon_config.main, full, capsys)
    assert_clean_failure(result, fragment)
    assert path.read_text() == '{"debug": true}\n'


# =========================================================================== rule 6: certificate files

def _hostile_certificates(tmp_path):
    good = der.cert()
    nested = b''
    for dummy in range(20000):  # nested SEQUENCE headers, each holding the rest (DER lengths)
        nested = b'\x30' + der.length(len(nested)) + nested
    rng = random.Random(6)
    files = {
        'truncated.pem': der.pem(good[:len(good) // 2]),
        'overlong.der': good[:1] + b'\x84\x7f\xff\xff\xff' + good[2:],
        'indefinite.der': b'\x30\x80' + good[2:] + b'\x00\x00',
        'nested.der': nested,
        'random.der': b'\x30\x82\x03\xe8' + rng.getrandbits(8000).to_bytes(1000, 'big'),
        'trailing.pem': der.pem(good + b'\x00'),
        'not-base64.pem': b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def test_hostile_certificate_files_are_critical_findings_naming_the_file(tmp_path):
    paths = _hostile_certificates(tmp_path)
    started = time.monotonic()
    sec = certificates.probe(core.Host(timeout=3), health_params(certificate_files=paths), THRESHOLDS)
    assert time.monotonic() - started < 2
    assert sec.status == 'critical'
    messages = [finding['message'] for finding in sec.findings]
    for path in paths:
        assert len([m for m in messages if m.startswith('%s: not a readable X.509 certificate: ' % path)]) == 1, (path, messages)
    assert not any('Traceback' in m or 'IndexError' in m for m in messages)


# =========================================================================== the shared file check

def test_check_file_accepts_a_file_and_a_link_when_asked_and_nothing_else(tmp_path):
    plain = tmp_path / 'a.json'
    plain.write_text('{}')
    link = tmp_path / 'b.json'
    link.symlink_to(plain)
    assert _common.check_file(str(plain)).st_size == 2
    assert _common.check_file(str(tmp_path / 'missing')) is None
    assert _common.check_file(str(link), kinds=('file', 'link')).st_size == 2
    with pytest.raises(_common.FileCheckError, match='is a symbolic link'):
        _common.check_file(str(link))
    with pytest.raises(_common.FileCheckError, match='resolves to .* outside'):
        _common.check_file(str(link), kinds=('link',), under=str(tmp_path / 'sub'))
    with pytest.raises(_common.FileCheckError, match='is not a regular file'):
        _common.check_file('/dev/null')
