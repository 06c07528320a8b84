"""playbooks/backup.yml, restore.yml and restore_drill.yml on localhost with temp sources and dest."""

from __future__ import annotations

import json
import os

from tests.integration.backup.bk_helpers import ROOT, make_tree, run_playbook, snapshot


def _play(name, extra, check=False):
    proc = run_playbook(os.path.join(ROOT, 'playbooks', name), inventory='localhost,',
                        extra_vars=dict(extra, ansible_connection='local', ansible_become=False), check=check)
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith('{') else {}
    assert data, 'no json output: %s\n%s' % (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.returncode, data


def _task(data, name):
    for play in data['plays']:
        for task in play['tasks']:
            if task['task']['name'].split(' : ')[-1] == name:
                return task['hosts']['localhost']
    raise AssertionError('task %r not run' % name)


def test_backup_restore_and_drill_playbooks(tmp_path):
    src = tmp_path / 'etc' / 'cloudos'
    src.mkdir(parents=True)
    make_tree(str(src))
    dest = tmp_path / 'backups'
    backup_vars = {'backup_dest': str(dest), 'backup_paths': [str(src)], 'backup_docker_volumes': [],
                   'backup_system_state': ['units'], 'backup_retention': {'keep_daily': 3}}
    rc, check = _play('backup.yml', backup_vars, check=True)
    assert rc == 0 and not dest.exists()
    rc, first = _play('backup.yml', backup_vars)
    assert rc == 0 and first['stats']['localhost']['changed'] == 1
    summary = _task(first, 'Record this host\'s summary')['ansible_facts']['__backup_summary']
    assert summary['verified'] is True and int(summary['size_bytes']) > 0
    rc, second = _play('backup.yml', backup_vars)
    assert rc == 0 and second['stats']['localhost']['changed'] == 0

    rc, drill = _play('restore_drill.yml', {'restore_dest': str(dest), 'restore_drill_parent': str(tmp_path)})
    assert rc == 0, drill
    report = _task(drill, 'Record the drill result')['ansible_facts']['__restore_drill_report']
    source = report['sources'][0]
    assert source['manifest']['ok'] is True and source['manifest']['same'] == len(snapshot(str(src))[0])
    assert source['live']['differ'] == 0 and source['live']['only_in_live'] == 0
    assert sorted(os.listdir(str(tmp_path))) == ['backups', 'etc']  # scratch removed
    assert drill['stats']['localhost']['changed'] == 0

    before = snapshot(str(src))
    (src / 'conf' / 'app.yml').write_text('broken\n')
    (src / 'conf' / 'junk').write_text('junk\n')
    restore_vars = {'restore_dest': str(dest), 'restore_stop_services': False, 'restore_health_checks': ['system'],
                    'restore_health_retries': 0}
    rc, planned = _play('restore.yml', restore_vars, check=True)
    assert rc == 0 and (src / 'conf' / 'junk').exists()
    rc, restored = _play('restore.yml', restore_vars)
    assert rc == 0, restored
    assert snapshot(str(src)) == before
    rc, again = _play('restore.yml', restore_vars)
    assert rc == 0 and again['stats']['localhost']['changed'] == 0
