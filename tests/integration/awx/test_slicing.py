"""AWX job slicing: one job run as N slices, each on a part of the inventory (ansible-runner
with `--limit` partitions, each slice its own private data and artifact directory), then the
`cloudos.ops.report_merge` playbook (an AWX workflow node) makes one fleet report of them."""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.awx.runner_helpers import CALM, Job

pytestmark = [pytest.mark.fleet, pytest.mark.docker]


def load(path):
    with open(path) as handle:
        return json.load(handle)


def test_two_slices_and_a_merge_make_one_fleet_report(tmp_path, installed, awx_fleet):
    parts = [awx_fleet[:2], awx_fleet[2:]]
    per_host = {}
    for number, part in enumerate(parts):
        job = Job(tmp_path, installed, 'cloudos.ops.daily_health', awx_fleet, ident='slice%d' % (number + 1),
                  extravars={'daily_health_thresholds': CALM}, cmdline='--limit %s' % ','.join(part)).run().check()
        data = job.artifact_data()['daily_health']
        assert data['hosts'] == len(part)
        assert data['report_dir'].startswith(os.path.join(job.artifacts, 'cloudos-reports', 'daily_health') + os.sep)
        report = load(data['report_files']['json'])
        assert sorted(h['host'] for h in report['hosts']) == sorted(part)
        assert report['run']['metadata']['limit'] == ','.join(part)
        for entry in report['hosts']:
            per_host[entry['host']] = entry
    assert sorted(per_host) == sorted(awx_fleet)

    # The workflow node after the sliced job: every slice's report root (a glob over the jobs).
    sources = [os.path.join(str(tmp_path), 'job-slice*', 'artifacts', '*', 'cloudos-reports', 'daily_health')]
    publish = tmp_path / 'www'
    merge = Job(tmp_path, installed, 'cloudos.ops.report_merge', awx_fleet, ident='merge',
                extravars={'report_merge_sources': sources, 'daily_health_publish_host': 'localhost',
                           'daily_health_publish_dir': str(publish)}).run().check()
    artifacts = merge.artifact_data()
    data = artifacts['report_merge']
    assert data['hosts'] == 3 and data['kind'] == 'daily_health'
    assert data['report_dir'].startswith(os.path.join(merge.artifacts, 'cloudos-reports', 'daily_health-merged') + os.sep)
    merged = load(data['report_files']['json'])
    assert merged['kind'] == 'daily_health' and merged['summary']['hosts'] == 3
    assert sorted(h['host'] for h in merged['hosts']) == sorted(awx_fleet)
    for entry in merged['hosts']:
        assert entry == per_host[entry['host']]
    statuses = [h['status'] for h in merged['hosts']]
    assert merged['summary']['status_counts'] == dict((s, statuses.count(s)) for s in merged['summary']['status_counts'])
    for name in ('report.html', 'report.md', 'junit.xml'):
        assert os.path.isfile(os.path.join(data['report_dir'], name))
    # ... and published like a daily_health report.
    published = artifacts['daily_health']['published_to']
    assert published['dir'] == str(publish / os.path.basename(data['report_dir']))
    assert load(str(publish / 'latest' / 'report.json')) == merged
