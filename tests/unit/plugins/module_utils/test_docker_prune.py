# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning and removal logic of cloudos_docker_prune, driven with engine-shaped data (no Docker)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _docker_prune as prune
from ansible_collections.cloudos.ops.plugins.module_utils._common import parse_time

NOW = datetime(2024, 2, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = 86400
T = int(NOW.timestamp())


def image(ident, tags=(), size=1000, shared=0, containers=0, created=T - 10 * DAY, parent='', labels=None):
    return {'Id': 'sha256:' + ident, 'RepoTags': list(tags) or None, 'RepoDigests': [], 'Size': size,
            'SharedSize': shared, 'Containers': containers, 'Created': created, 'ParentId': parent,
            'Labels': labels}


def container(ident, name, image_id, state='exited', size=50, created=T - 10 * DAY, networks=('bridge',),
              volumes=(), labels=None):
    return {'Id': ident, 'Names': ['/' + name], 'Image': name + '-img', 'ImageID': 'sha256:' + image_id,
            'State': state, 'Status': state, 'Created': created, 'SizeRw': size, 'Labels': labels or {},
            'HostConfig': {'NetworkMode': networks[0] if networks else 'none'},
            'NetworkSettings': {'Networks': dict((n, {}) for n in networks)},
            'Mounts': [{'Type': 'volume', 'Name': v} for v in volumes]}


def volume(name, size=5000, refs=0, labels=None):
    return {'Name': name, 'Driver': 'local', 'CreatedAt': '2024-01-01T00:00:00Z', 'Labels': labels,
            'UsageData': {'Size': size, 'RefCount': refs}}


def network(name, ident=None, scope='local'):
    return {'Name': name, 'Id': ident or name + '-id', 'Driver': 'bridge', 'Scope': scope,
            'Created': '2024-01-01T00:00:00.123456789Z', 'Labels': {}}


def cache(ident, size=300, in_use=False, shared=False, last_used='2024-01-20T00:00:00Z'):
    return {'ID': ident, 'Type': 'regular', 'Description': 'RUN make', 'Size': size, 'InUse': in_use,
            'Shared': shared, 'CreatedAt': '2024-01-01T00:00:00Z', 'LastUsedAt': last_used}


def fleet_inventory():
    containers = [
        container('c-run', 'cloudos-web', 'web', state='running', volumes=('prometheus_data',), networks=('cloudos-net',)),
        container('c-old', 'batch-1', 'batch', state='exited', size=700, networks=('batch-net',), volumes=('batch_data',)),
        container('c-new', 'batch-2', 'batch', state='exited', size=60, created=T - 3600),
        container('c-keep', 'cloudos-worker', 'web', state='exited', size=90),
    ]
    return {
        'images': [
            image('web', tags=['cloudos/web:1.4'], size=90000, containers=2),
            image('batch', tags=['batch:1'], size=40000, shared=30000, containers=2),
            image('dang1', size=7000, shared=2000),
            image('dang2', size=3000),
            image('oldtag', tags=['cloudos/web:1.3'], size=88000),
        ],
        'containers': containers,
        'all_containers': containers,
        'volumes': [volume('prometheus_data', refs=1), volume('batch_data', size=8000, refs=1), volume('orphan', size=1234)],
        'networks': [network('bridge'), network('host'), network('none'), network('cloudos-net'), network('batch-net'),
                     network('old-net'), network('swarm-net', scope='swarm')],
        'build_cache': [cache('bc1', 300), cache('bc2', 500, in_use=True), cache('bc3', 200, shared=True)],
    }


def ids(result, kind):
    return sorted(i['id'] for i in result['remove'][kind])


def reasons(result, kind):
    return dict((i['id'], i['reason']) for i in result['keep'][kind])


def test_default_scope_removes_only_dangling_images_and_free_build_cache():
    result = prune.plan(fleet_inventory(), now=NOW)
    assert ids(result, 'images') == ['sha256:dang1', 'sha256:dang2']
    assert ids(result, 'build_cache') == ['bc1']
    assert result['remove']['containers'] == [] and result['remove']['volumes'] == [] and result['remove']['networks'] == []
    # dang1 shares 2000 bytes with other images: only its own 5000 are freed.
    assert result['bytes'] == 5000 + 3000 + 300
    assert result['count'] == 3
    kept = reasons(result, 'images')
    assert kept['sha256:web'].startswith('tagged')
    assert reasons(result, 'build_cache') == {'bc2': 'in use by a build', 'bc3': 'shared with an image (removing it frees nothing)'}


def test_stopped_containers_scope_and_the_images_they_free():
    result = prune.plan(fleet_inventory(), scope=['stopped_containers', 'unused_images'], exclude_names=['cloudos-*'], now=NOW)
    assert ids(result, 'containers') == ['c-new', 'c-old']
    kept = reasons(result, 'containers')
    assert kept['c-run'] == 'state running'
    assert kept['c-keep'] == 'excluded by name pattern cloudos-*'
    # batch's two users are both removed in this run, so the image goes too; web is still used.
    assert 'sha256:batch' in ids(result, 'images')
    assert reasons(result, 'images')['sha256:web'] == 'used by a container'
    assert 'sha256:oldtag' in ids(result, 'images')


def test_older_than_keeps_recent_items():
    result = prune.plan(fleet_inventory(), scope=['stopped_containers'], older_than='1d', now=NOW)
    assert ids(result, 'containers') == ['c-keep', 'c-old']
    assert 'newer than older_than' in reasons(result, 'containers')['c-new']


def test_volumes_and_networks_follow_the_containers_that_stay():
    inv = fleet_inventory()
    only_volumes = prune.plan(inv, scope=['unused_volumes', 'unused_networks'], now=NOW)
    assert ids(only_volumes, 'volumes') == ['orphan']
    assert ids(only_volumes, 'networks') == ['old-net-id']
    kept = reasons(only_volumes, 'networks')
    assert kept['bridge-id'] == 'predefined network'
    assert kept['swarm-net-id'] == 'swarm network'
    assert kept['batch-net-id'] == 'used by a container'
    with_containers = prune.plan(inv, scope=['unused_volumes', 'unused_networks', 'stopped_containers'], now=NOW)
    # batch-1 goes, so its volume and its network become unused in the same plan.
    assert ids(with_containers, 'volumes') == ['batch_data', 'orphan']
    assert ids(with_containers, 'networks') == ['batch-net-id', 'old-net-id']
    assert with_containers['bytes'] == 700 + 60 + 90 + 8000 + 1234


def test_exclude_labels():
    inv = fleet_inventory()
    inv['volumes'].append(volume('keepme', labels={'com.cloudos.keep': 'yes'}))
    inv['images'].append(image('dang3', labels={'tier': 'db'}))
    result = prune.plan(inv, scope=['unused_volumes', 'dangling_images'], exclude_labels=['com.cloudos.keep', 'tier=db'], now=NOW)
    assert 'keepme' not in ids(result, 'volumes')
    assert reasons(result, 'volumes')['keepme'] == 'excluded by label com.cloudos.keep'
    assert reasons(result, 'images')['sha256:dang3'] == 'excluded by label tier=db'


def test_parent_of_an_image_that_stays_is_kept():
    inv = {'images': [image('base'), image('mid', parent='sha256:base'), image('top', tags=['app:1'], parent='sha256:mid')]}
    result = prune.plan(inv, scope=['dangling_images'], now=NOW)
    assert ids(result, 'images') == []
    assert reasons(result, 'images')['sha256:base'] == 'parent of an image that stays'


def test_empty_scope_removes_nothing():
    result = prune.plan(fleet_inventory(), scope=[], now=NOW)
    assert result['count'] == 0 and result['bytes'] == 0


@pytest.mark.parametrize('bad, name', [
    ({'scope': ['everything']}, 'scope'),
    ({'older_than': 'soon'}, 'older_than'),
    ({'exclude_labels': ['=x']}, 'exclude_labels'),
])
def test_bad_input_names_the_parameter(bad, name):
    with pytest.raises(prune.PruneError, match=name):
        prune.plan(fleet_inventory(), now=NOW, **bad)


def test_durations_and_times():
    assert prune.older_than_seconds('1w2d3h4m5s') == ((9 * 24 + 3) * 60 + 4) * 60 + 5
    assert prune.older_than_seconds('90m') == 5400
    assert prune.older_than_seconds('3600') == 3600
    assert prune.older_than_seconds('') == 0
    # engine times go through the shared parser
    assert parse_time('2024-01-01T00:00:00.123456789+01:00') == datetime(2023, 12, 31, 23, 0, 0, 123456, tzinfo=timezone.utc)
    assert parse_time('0001-01-01T00:00:00Z') is None


class FakeEngine:
    """Answers like the Docker adapter: inspect returns the engine's view, remove may refuse."""

    def __init__(self, inventory, refuse=(), changed=None):
        self.state = dict((('images', i['Id']), i) for i in inventory['images'])
        for c in inventory['containers']:
            self.state[('containers', c['Id'])] = {'Id': c['Id'], 'State': {'Status': c['State']}}
        for v in inventory['volumes']:
            self.state[('volumes', v['Name'])] = v
        for n in inventory['networks']:
            self.state[('networks', n['Id'])] = n
        for b in inventory['build_cache']:
            self.state[('build_cache', b['ID'])] = b
        self.refuse = set(refuse)
        self.changed = changed or {}
        self.calls = []

    def inspect(self, kind, ident):
        if (kind, ident) in self.changed:
            return self.changed[(kind, ident)]
        return self.state.get((kind, ident))

    def remove(self, kind, ident):
        self.calls.append((kind, ident))
        if (kind, ident) in self.refuse:
            return 'skipped', 'Docker refused: conflict'
        if self.state.pop((kind, ident), None) is None:
            return 'gone', 'already gone'
        return 'removed', None


def test_apply_removes_exactly_the_plan_item_by_item():
    inv = fleet_inventory()
    result = prune.plan(inv, scope=['dangling_images', 'build_cache', 'stopped_containers'], now=NOW)
    engine = FakeEngine(inv)
    done = prune.apply(engine, result)
    planned = sorted((k, i['id']) for k in prune.KINDS for i in result['remove'][k])
    assert sorted(engine.calls) == planned
    assert done['not_removed'] == []
    assert done['bytes_freed'] == result['bytes']
    # containers go before the images they used
    kinds = [kind for kind, dummy in engine.calls]
    assert kinds.index('containers') < kinds.index('images')


def test_apply_keeps_items_that_changed_since_the_plan():
    inv = fleet_inventory()
    result = prune.plan(inv, scope=['dangling_images', 'stopped_containers'], now=NOW)
    changed = {
        ('images', 'sha256:dang1'): dict(image('dang1'), RepoTags=['rescued:1']),
        ('containers', 'c-old'): {'Id': 'c-old', 'State': {'Status': 'running'}},
        ('containers', 'c-new'): None,
    }
    engine = FakeEngine(inv, refuse={('images', 'sha256:dang2')}, changed=changed)
    done = prune.apply(engine, result)
    assert ('images', 'sha256:dang1') not in engine.calls
    assert ('containers', 'c-old') not in engine.calls
    skipped = dict((s['id'], s['reason']) for s in done['not_removed'])
    assert skipped['sha256:dang1'].startswith('tagged since the plan')
    assert skipped['c-old'] == 'state is running now'
    assert skipped['c-new'] == 'already gone'
    assert skipped['sha256:dang2'] == 'Docker refused: conflict'
    assert [i['id'] for i in done['removed']['containers']] == ['c-keep']
    assert done['bytes_freed'] == 90


def test_diff_lists_planned_and_remaining_items():
    result = prune.plan(fleet_inventory(), now=NOW)
    diff = prune.diff_of(result, removed_ids={'sha256:dang1', 'bc1'})
    assert diff['before'].count('\n') == 3
    assert 'dang2' in diff['after'] and 'dang1' not in diff['after']


def test_image_inventory_rows():
    rows = prune.image_inventory(fleet_inventory()['images'] + [image('reg', tags=['registry:5000/cloudos/api'])],
                                 patterns=['*cloudos*'])
    assert sorted((r['repository'], r['tag']) for r in rows) == [
        ('cloudos/web', '1.3'), ('cloudos/web', '1.4'), ('registry:5000/cloudos/api', '')]


class APIError(Exception):
    pass


class InventoryEngine(FakeEngine):
    """FakeEngine plus the inventory and error classes of the adapter ``run`` talks to."""

    errors = type('errors', (), {'APIError': APIError})
    url = 'unix:///var/run/docker.sock'

    def __init__(self, inventory, fail=None, **kw):
        super().__init__(inventory, **kw)
        self._inventory = inventory
        self.fail = fail

    def inventory(self):
        if self.fail:
            raise self.fail
        return self._inventory


def params(**over):
    base = dict(scope=list(prune.DEFAULT_SCOPE), older_than='', exclude_labels=[], exclude_names=[], image_inventory=[],
                timeout=120)
    base.update(over)
    return base


def test_run_check_mode_returns_the_plan_and_removes_nothing():
    engine = InventoryEngine(fleet_inventory())
    out = prune.run(engine, params(), check_mode=True, diff=True, now=NOW)
    assert out['changed'] and engine.calls == []
    assert out['bytes_freed'] == out['plan']['bytes'] == 5000 + 3000 + 300
    assert out['plan']['bytes_human'] == '8.11 KB'  # ansible-core's binary units, as every report of the collection
    assert out['msg'] == 'would remove 3 item(s), freeing 8.11 KB'
    assert out['diff']['before'].count('\n') == 3 and out['diff']['after'] == ''  # the check run predicts all gone


def test_run_removes_reports_and_lists_images():
    engine = InventoryEngine(fleet_inventory())
    out = prune.run(engine, params(image_inventory=['*']), now=NOW)
    assert out['changed'] and sorted(engine.calls) == [('build_cache', 'bc1'), ('images', 'sha256:dang1'),
                                                        ('images', 'sha256:dang2')]
    assert out['msg'] == 'removed 3 item(s), freed 8.11 KB; 0 not removed (changed since the plan)'
    assert [r['tag'] for r in out['images']][:1] and 'diff' not in out
    assert prune.run(InventoryEngine(fleet_inventory()), params(scope=[]), now=NOW)['msg'] == 'nothing to remove'


def test_run_engine_errors_name_the_endpoint():
    with pytest.raises(prune.PruneError, match='Docker engine at unix:///var/run/docker.sock: boom'):
        prune.run(InventoryEngine(fleet_inventory(), fail=APIError('boom')), params(), now=NOW)
    with pytest.raises(prune.PruneError, match='timeout must be a positive'):
        prune.check_params(params(timeout=0))
    with pytest.raises(prune.PruneError, match='older_than'):
        prune.check_params(params(older_than='soon'))
