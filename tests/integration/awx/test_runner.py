"""Every playbook the way AWX runs it: `ansible-runner run <private data dir> -p site.yml` with a
project whose site.yml only imports `cloudos.ops.<playbook>`, the collection installed read-only
from its tarball, two fleet hosts over the docker connection. Asserted: the job's rc and status
files, the set_stats artifact data of playbook_on_stats, and where the report files went (the
job's artifact directory; never the collection, never the project)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from tests.integration.awx.runner_helpers import CALM, Job, silences, tree_state

pytestmark = [pytest.mark.fleet, pytest.mark.docker]


@pytest.fixture(scope='module')
def two(awx_fleet):
    return awx_fleet[:2]


def assert_reports_in_artifacts(job, data, installed):
    root = os.path.realpath(job.artifacts)
    report_dir = os.path.realpath(data['report_dir'])
    assert report_dir.startswith(root + os.sep + 'cloudos-reports' + os.sep), report_dir
    for path in data['report_files'].values():
        assert os.path.isfile(path) and os.path.realpath(path).startswith(report_dir + os.sep)
        assert 'ansible_collections' not in os.path.realpath(path)
    assert not os.path.exists(os.path.join(job.dir, 'project', 'reports'))
    assert not os.path.realpath(installed.collection) in report_dir


def test_daily_health(tmp_path, installed, two):
    before = tree_state(installed.collection)
    job = Job(tmp_path, installed, 'cloudos.ops.daily_health', two,
              extravars={'daily_health_thresholds': CALM}).run().check()
    data = job.artifact_data()['daily_health']
    assert data['hosts'] == 2
    assert data['status'] in ('ok', 'warning') and data['failing_hosts'] == []
    assert set(data['report_files']) == {'json', 'markdown', 'html', 'junit'}
    assert_reports_in_artifacts(job, data, installed)
    assert os.path.dirname(data['report_dir']) == os.path.join(job.artifacts, 'cloudos-reports', 'daily_health')
    with open(data['report_files']['json']) as handle:
        report = json.load(handle)
    assert sorted(h['host'] for h in report['hosts']) == sorted(two)
    assert os.readlink(os.path.join(os.path.dirname(data['report_dir']), 'latest')) == os.path.basename(data['report_dir'])
    # The installed collection is exactly as installed.
    assert tree_state(installed.collection) == before
    verify = installed.verify()
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_security_check(tmp_path, installed, two):
    job = Job(tmp_path, installed, 'cloudos.ops.security_check', two,
              extravars={'security_check_fail_on': 'never'}).run().check()
    data = job.artifact_data()['security_check']
    assert data['status'] in ('ok', 'warning', 'critical') and set(data['finding_counts']) >= {'critical', 'warning'}
    assert os.path.dirname(data['report_dir']) == os.path.join(job.artifacts, 'cloudos-reports', 'security_check')
    files = dict((name, os.path.join(data['report_dir'], name)) for name in os.listdir(data['report_dir']))
    assert sorted(files) == ['junit.xml', 'report.html', 'report.json', 'report.md']
    assert_reports_in_artifacts(job, dict(data, report_files=files), installed)
    with open(files['report.json']) as handle:
        assert sorted(h['host'] for h in json.load(handle)['hosts']) == sorted(two)


def test_maintenance_window_start_and_end(tmp_path, installed, two, alertmanager):
    """The Alertmanager URL comes from the environment, as the AWX credential type injects it."""
    name = 'awx %s' % uuid.uuid4().hex[:8]
    comment = 'Maintenance window: %s' % name
    envvars = {'CLOUDOS_ALERTMANAGER_URL': alertmanager.url}
    Job(tmp_path, installed, 'cloudos.ops.maintenance_window', two, envvars=envvars,
        extravars={'maintenance_window_action': 'start', 'maintenance_window_name': name,
                   'maintenance_window_duration': '30m'}).run().check()
    live = silences(alertmanager.url, comment)
    assert len(live) == 2
    assert sorted(m['value'] for s in live for m in s['matchers']) == sorted('(%s)(:[0-9]+)?' % h for h in two)
    Job(tmp_path, installed, 'cloudos.ops.maintenance_window', two, envvars=envvars,
        extravars={'maintenance_window_action': 'end', 'maintenance_window_name': name}).run().check()
    assert silences(alertmanager.url, comment) == []


def test_backup_in_check_mode(tmp_path, installed, two):
    job = Job(tmp_path, installed, 'cloudos.ops.backup', two, cmdline='--check').run().check()
    data = job.artifact_data()['cloudos_backup']
    assert len(data) == 2
    for host in two:
        # --check: no set written on the host.
        probe = subprocess.run(['docker', 'exec', host, 'sh', '-c', 'ls /backup/cloudos 2>/dev/null | wc -l'],
                               capture_output=True, text=True, check=True)
        assert probe.stdout.strip() == '0'
