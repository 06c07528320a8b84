"""playbooks/daily_health.yml end to end on this machine (inventories/local), as `make demo` runs it.

The real cloudos_health module checks localhost; components that are not installed here come
out `absent`. Required-but-absent components are made deterministic by pointing their URL at a
free 127.0.0.1 port where nothing listens. An unreachable host is an SSH host on 127.0.0.1 at a
closed port. The report files are then read back and parsed.
"""

from __future__ import annotations

import json
import os

from xml.etree import ElementTree

import pytest

from tests.integration.lib import ROOT, free_port, run_playbook

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'daily_health.yml')
LOCAL = os.path.join(ROOT, 'inventories', 'local')
SECTIONS = ['system', 'services', 'containers', 'kubernetes', 'monitoring', 'alerts', 'resources',
            'ai_engine', 'certificates']
# This machine's load and disks are not ours to control: thresholds nothing can cross.
CALM = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}
STATS = {'ANSIBLE_SHOW_CUSTOM_STATS': '1'}


def play(report_dir, extra=None, inventory=LOCAL, playbook=PLAYBOOK, **kwargs):
    extra_vars = {'daily_health_report_dir': str(report_dir), 'daily_health_thresholds': CALM}
    extra_vars.update(extra or {})
    env = dict(STATS)
    env.update(kwargs.pop('env', {}))
    proc = run_playbook(playbook, inventory=inventory, extra_vars=extra_vars, env=env, **kwargs)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('no json output (rc %d)\n%s\n%s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc, out


def task_results(out, name):
    for playrec in out['plays']:
        for task in playrec['tasks']:
            if task['task']['name'].endswith(name):
                return task['hosts']
    raise AssertionError('task %r did not run' % name)


def load(report_dir):
    with open(os.path.join(str(report_dir), 'report.json')) as handle:
        report = json.load(handle)
    with open(os.path.join(str(report_dir), 'junit.xml'), 'rb') as handle:
        junit = ElementTree.parse(handle).getroot()
    return report, junit


def junit_case(junit, host, check):
    for suite in junit.findall('testsuite'):
        if suite.get('name') == host:
            for case in suite.findall('testcase'):
                if case.get('name') == check:
                    return case
    raise AssertionError('no test case %s/%s' % (host, check))


def absent_ai_engine():
    """The AI engine required, at an address where nothing answers: critical on any machine."""
    return {'daily_health_required': ['ai_engine'],
            'daily_health_urls': {'ai_engine': 'http://127.0.0.1:%d' % free_port()}}


def test_local_run_writes_the_four_files_prints_the_path_and_publishes_stats(tmp_path):
    """What `make demo` does. Whether this machine has something installed but broken (for
    example Debian's prometheus package installed and not running) is not ours to decide, so
    the exit code is checked against the report: 0 unless a host reached critical."""
    report_dir = tmp_path / 'run'
    proc, out = play(report_dir)
    assert sorted(os.listdir(str(report_dir))) == ['junit.xml', 'report.html', 'report.json', 'report.md']
    report, junit = load(report_dir)
    assert [h['host'] for h in report['hosts']] == ['localhost']
    host = report['hosts'][0]
    assert list(host['checks']) == SECTIONS
    assert proc.returncode == (2 if report['summary']['fail_on_reached'] else 0), proc.stdout[-3000:]
    assert report['summary']['fail_on_reached'] == (host['status'] == 'critical')
    assert int(junit.get('tests')) == 9
    # Changed with daily_health_junit_fail_on (default warning): warnings are JUnit failures too.
    assert int(junit.get('failures')) == sum(1 for c in host['checks'].values() if c['status'] in ('critical', 'warning'))
    shown = task_results(out, 'Show where the report is')['localhost']['msg']
    assert shown[0] == 'Fleet report: %s' % (report_dir / 'report.html')
    stats = out['global_custom_stats']['daily_health']
    assert stats['report_dir'] == str(report_dir)
    assert stats['hosts'] == 1 and stats['status'] == host['status']
    # Report-only: nothing changed anywhere.
    assert out['stats']['localhost']['changed'] == 0


def test_absent_components_are_not_failures(tmp_path):
    # No kubeconfig and no certificate file on this machine: both sections are `absent`.
    extra = {'daily_health_checks': ['system', 'resources', 'kubernetes', 'certificates'],
             'daily_health_certificate_files': [str(tmp_path / 'no-such.crt')],
             'daily_health_kubeconfig': str(tmp_path / 'no-such-kubeconfig')}
    proc, out = play(tmp_path / 'run', extra, env={'KUBECONFIG': str(tmp_path / 'none')})
    assert proc.returncode == 0, proc.stdout[-3000:]
    report, junit = load(tmp_path / 'run')
    checks = report['hosts'][0]['checks']
    assert checks['kubernetes']['status'] == 'absent', checks['kubernetes']
    assert checks['certificates']['status'] == 'absent', checks['certificates']
    assert report['summary']['fail_on_reached'] is False
    assert junit_case(junit, 'localhost', 'kubernetes').find('skipped') is not None
    assert out['global_custom_stats']['daily_health']['failing_hosts'] == []


def test_required_component_absent_is_critical_and_fails_the_play_after_the_report(tmp_path):
    report_dir = tmp_path / 'run'
    proc, out = play(report_dir, absent_ai_engine())
    assert proc.returncode == 2, proc.stdout[-3000:]
    report, junit = load(report_dir)
    host = report['hosts'][0]
    assert host['status'] == 'critical'
    assert host['checks']['ai_engine']['status'] == 'critical'
    assert any(f['check'] == 'ai_engine' and f['severity'] == 'critical' and f['action'] for f in host['findings'])
    assert report['summary']['failing_hosts'] == ['localhost']
    assert junit_case(junit, 'localhost', 'ai_engine').find('failure') is not None
    failed = task_results(out, 'Fail when a host is at or above daily_health_fail_on')['localhost']
    assert failed['failed'] is True
    assert '1 host(s) at or above critical: localhost' in failed['msg']
    assert str(report_dir / 'report.html') in failed['msg']


def test_fail_on_never_reports_the_critical_host_but_passes(tmp_path):
    extra = absent_ai_engine()
    extra['daily_health_fail_on'] = 'never'
    proc = play(tmp_path / 'run', extra)[0]
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load(tmp_path / 'run')[0]
    assert report['summary']['status'] == 'critical'
    assert report['summary']['fail_on_reached'] is False


def test_fail_on_warning_fails_on_a_warning(tmp_path):
    # A disk threshold of 0 % makes every mounted file system a warning, never critical.
    extra = {'daily_health_checks': ['resources'], 'daily_health_fail_on': 'warning',
             'daily_health_thresholds': dict(CALM, disk=0)}
    proc = play(tmp_path / 'run', extra)[0]
    report, junit = load(tmp_path / 'run')
    assert report['hosts'][0]['checks']['resources']['status'] == 'warning'
    assert proc.returncode == 2
    # With fail_on=warning the JUnit case is a failure too (it is a note otherwise).
    assert junit_case(junit, 'localhost', 'resources').find('failure') is not None


def test_check_mode_still_writes_the_report(tmp_path):
    proc, out = play(tmp_path / 'run', absent_ai_engine(), check=True)
    assert proc.returncode == 2
    report = load(tmp_path / 'run')[0]
    assert report['run']['metadata']['check mode'] is True
    assert report['hosts'][0]['checks']['ai_engine']['status'] == 'critical'
    # Printed for people, not in Python's spelling.
    with open(str(tmp_path / 'run' / 'report.md')) as handle:
        markdown = handle.read()
    assert '- **check mode:** yes' in markdown and 'True' not in markdown


def test_unreachable_hosts_are_reported_and_fail_the_play(tmp_path):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(
        'all:\n  hosts:\n'
        '    localhost:\n      ansible_connection: local\n'
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        '    cloudos-gone-1:\n      ansible_host: 127.0.0.1\n      ansible_port: %d\n'
        '      ansible_connection: ssh\n      ansible_user: nobody\n' % free_port())
    proc, out = play(tmp_path / 'run', {'daily_health_checks': ['system']}, inventory=str(inventory))
    assert proc.returncode == 2, proc.stdout[-3000:]
    report, junit = load(tmp_path / 'run')
    statuses = dict((h['host'], h['status']) for h in report['hosts'])
    assert statuses == {'cloudos-gone-1': 'unreachable', 'localhost': 'ok'}
    gone = report['hosts'][0]
    assert 'Connection refused' in gone['error'] or 'connect' in gone['error']
    assert junit_case(junit, 'cloudos-gone-1', 'system').find('error') is not None
    assert report['summary']['failing_hosts'] == ['cloudos-gone-1']

    # Every host unreachable: the report is still written.
    proc = play(tmp_path / 'all-gone', {'daily_health_checks': ['system'], 'target': 'cloudos-gone-1'},
                inventory=str(inventory))[0]
    assert proc.returncode == 2
    report = load(tmp_path / 'all-gone')[0]
    assert [(h['host'], h['status']) for h in report['hosts']] == [('cloudos-gone-1', 'unreachable')]


def test_fqcn_playbook_writes_a_dated_report_under_the_user_cache(tmp_path):
    """`ansible-playbook cloudos.ops.daily_health`: the playbook lives in the collection, so the
    default report root is the user's cache (never the collection, never $PWD)."""
    extra = {'daily_health_thresholds': CALM, 'daily_health_checks': ['system']}
    proc = run_playbook('cloudos.ops.daily_health', inventory=LOCAL, extra_vars=extra,
                        env={'PWD': str(tmp_path / 'pwd'), 'XDG_CACHE_HOME': str(tmp_path / 'cache')})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (tmp_path / 'pwd').exists()
    root = tmp_path / 'cache' / 'cloudos.ops' / 'reports' / 'daily_health'
    runs = [p for p in os.listdir(str(root)) if p != 'latest']
    assert len(runs) == 1 and runs[0].endswith('Z')
    assert os.readlink(str(root / 'latest')) == runs[0]
    assert (root / 'latest' / 'report.html').is_file()


@pytest.mark.parametrize('bad,message', [
    ({'daily_health_fail_on': 'sometimes'}, 'daily_health_fail_on'),
    ({'daily_health_report_formats': ['pdf']}, 'daily_health_report_formats'),
])
def test_bad_role_variables_are_refused_before_any_check(tmp_path, bad, message):
    proc, out = play(tmp_path / 'run', bad)
    assert proc.returncode == 2
    assert message in proc.stdout
    assert not (tmp_path / 'run').exists()
    with pytest.raises(AssertionError):
        task_results(out, 'Check CloudOS health')


# --------------------------------------------------------------------------- the action alone

ACTION_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - cloudos.ops.fleet_report:
        dest: "{{ dest }}"
        hosts: [web1, web2]
        results:
          web1:
            health:
              status: warning
              checks:
                disk: {status: warning, summary: "/ 86 % full", metrics: {}, findings: []}
              findings:
                - {check: disk, severity: warning, message: "/ is 86 % full", action: "Clean up old logs"}
        formats: "{{ formats | default(omit) }}"
        latest_link: "{{ link | default(omit) }}"
      register: written
    - ansible.builtin.debug:
        var: written
"""


def run_action(tmp_path, extra, check=False):
    playbook = tmp_path / 'action.yml'
    playbook.write_text(ACTION_PLAY)
    proc = run_playbook(str(playbook), extra_vars=extra, check=check)
    out = json.loads(proc.stdout)
    return proc, task_results(out, '')  # first task with an empty-suffix match: fleet_report


def test_action_check_mode_writes_nothing_and_says_what_it_would_write(tmp_path):
    dest = tmp_path / 'r'
    proc, hosts = run_action(tmp_path, {'dest': str(dest)}, check=True)
    assert proc.returncode == 0
    result = hosts['localhost']
    assert result['changed'] is True
    assert result['files']['json'] == str(dest / 'report.json')
    assert not dest.exists()
    assert result['summary']['status_counts']['unreachable'] == 1  # web2 had no result


def test_action_writes_atomically_is_idempotent_and_links_latest(tmp_path):
    dest = tmp_path / 'reports' / '2025-11-26T065012Z'
    proc, hosts = run_action(tmp_path, {'dest': str(dest), 'formats': ['json', 'junit'], 'link': 'latest'})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert hosts['localhost']['changed'] is True
    assert sorted(os.listdir(str(dest))) == ['junit.xml', 'report.json']  # no temp file left behind
    assert os.readlink(str(tmp_path / 'reports' / 'latest')) == '2025-11-26T065012Z'
    data = json.loads((dest / 'report.json').read_text())
    assert [(h['host'], h['status']) for h in data['hosts']] == [('web2', 'unreachable'), ('web1', 'warning')]


def test_action_refuses_a_bad_format_naming_it(tmp_path):
    proc, hosts = run_action(tmp_path, {'dest': str(tmp_path / 'r'), 'formats': ['html', 'pdf']})
    assert proc.returncode == 2
    assert 'pdf' in hosts['localhost']['msg']
    assert not (tmp_path / 'r').exists()
