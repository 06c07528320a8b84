"""daily_health's publish step: the report directory copied to a host that serves reports.

The publish host is a second inventory name for this machine (local connection), so the
published copy lands in a temporary directory here; the role does not know the difference.
"""

from __future__ import annotations

import json
import os
import time

from tests.integration.lib import ROOT, free_port, run_playbook

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'daily_health.yml')
CALM = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}


def inventory(tmp_path):
    path = tmp_path / 'hosts.yml'
    path.write_text(
        'all:\n'
        '  vars:\n'
        '    ansible_connection: local\n'
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        '  children:\n'
        '    cloudos:\n'
        '      hosts:\n'
        '        localhost:\n'
        '    report_servers:\n'
        '      hosts:\n'
        '        reports.example:\n')
    return str(path)


def run_id(seconds_ago):
    return time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime(time.time() - seconds_ago))


def play(tmp_path, publish_dir, **extra):
    extra_vars = {'target': 'cloudos', 'daily_health_checks': ['system'], 'daily_health_thresholds': CALM,
                  'cloudos_report_root': str(tmp_path / 'reports'),
                  'daily_health_publish_host': 'reports.example', 'daily_health_publish_dir': str(publish_dir),
                  'daily_health_publish_keep_days': 7,
                  'daily_health_publish_url': 'https://reports.example/daily_health/'}
    extra_vars.update(extra)
    proc = run_playbook(PLAYBOOK, inventory=inventory(tmp_path), extra_vars=extra_vars,
                        env={'ANSIBLE_SHOW_CUSTOM_STATS': '1'})
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('no json output (rc %d)\n%s\n%s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc, out


def test_publish_copies_atomically_links_latest_and_prunes_only_old_run_directories(tmp_path):
    publish = tmp_path / 'www' / 'daily_health'
    old, recent = run_id(10 * 86400), run_id(2 * 86400)
    for name in (old, recent, 'keep-me', '2001-01-01'):
        (publish / name).mkdir(parents=True)
        (publish / name / 'planted.txt').write_text('a run directory planted by the test')
    (publish / '2001-01-01T000000Z').write_text('a file named like a run id')   # not a directory: kept
    proc, out = play(tmp_path, publish)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    local = tmp_path / 'reports' / 'daily_health'
    runs = [p for p in os.listdir(str(local)) if p != 'latest']
    assert len(runs) == 1
    name = runs[0]
    assert sorted(os.listdir(str(publish))) == sorted([name, recent, 'keep-me', '2001-01-01', '2001-01-01T000000Z', 'latest'])
    assert os.readlink(str(publish / 'latest')) == name
    assert sorted(os.listdir(str(publish / name))) == sorted(os.listdir(str(local / name)))
    for file_name in os.listdir(str(local / name)):
        assert (publish / name / file_name).read_bytes() == (local / name / file_name).read_bytes()
    assert oct((publish / name / 'report.html').stat().st_mode & 0o777) == '0o644'

    published = out['global_custom_stats']['daily_health']['published_to']
    assert published == {'host': 'reports.example', 'dir': str(publish / name), 'latest': str(publish / 'latest'),
                         'url': 'https://reports.example/daily_health/%s/report.html' % name}
    # The rest of the stats is still there (set_stats merges).
    assert out['global_custom_stats']['daily_health']['report_dir'] == str(local / name)

    # Publishing the same run again replaces its copy; keep_days 0 removes nothing.
    (local / name / 'extra.txt').write_text('second copy')
    proc, out = play(tmp_path, publish, daily_health_report_dir=str(local / name), daily_health_publish_keep_days=0)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (publish / name / 'extra.txt').read_text() == 'second copy'
    assert not [p for p in os.listdir(str(publish)) if p.startswith('.')]
    assert recent in os.listdir(str(publish))


def test_a_failing_run_is_published_too(tmp_path):
    publish = tmp_path / 'www'
    proc, out = play(tmp_path, publish, daily_health_checks=['system', 'ai_engine'], daily_health_required=['ai_engine'],
                     daily_health_urls={'ai_engine': 'http://127.0.0.1:%d' % free_port()})
    assert proc.returncode == 2, proc.stdout[-3000:]
    latest = publish / 'latest' / 'report.json'
    report = json.loads(latest.read_text())
    assert report['summary']['status'] == 'critical'
    assert out['global_custom_stats']['daily_health']['published_to']['dir'] == str(publish / os.readlink(str(publish / 'latest')))


def test_no_publish_host_publishes_nothing(tmp_path):
    proc, out = play(tmp_path, tmp_path / 'www', daily_health_publish_host='')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert not (tmp_path / 'www').exists()
    assert 'published_to' not in out['global_custom_stats']['daily_health']
