"""profiles/mitogen.sh: Mitogen lists the installed collections once per run, not once per host.

Mitogen 0.3.54 lists every installed collection (``ansible.collections.list.list_collection_dirs``)
for each task that runs a collection's module, in the worker Ansible forks for that host and
task. The profile's ``mitogen_linear`` (profiles/mitogen/mitogen_linear.py) makes the list once,
before the workers are forked. Three hosts on this machine (``ansible_connection: local``, which
Mitogen drives), the check limited to the ``system`` section; a ``sitecustomize`` on the
controller's ``PYTHONPATH`` counts the calls. Mitogen's own strategy, in the same test, shows
that the counter sees them.
"""

from __future__ import annotations

import json
import os
import subprocess

from tests.integration.lib import BIN, ROOT, ansible_env

try:
    import ansible_mitogen
except ImportError as exc:  # fails, never skips: make setup installs it
    raise AssertionError('mitogen==0.3.54 (requirements-dev.txt) is not installed: run make setup') from exc

HOSTS = ['node-1', 'node-2', 'node-3']
COUNTER = '''
import importlib.util
import os
import sys


class _CountCollectionListing:
    # Wraps ansible.collections.list.list_collection_dirs once Ansible imports it; an interpreter
    # that never imports it (a Mitogen context on a host) is left as it is.
    def find_spec(self, name, path=None, target=None):
        if name != 'ansible.collections.list':
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            real = module.list_collection_dirs

            def counted(*args, **kwargs):
                with open(os.environ['CLOUDOS_COUNT_FILE'], 'a') as handle:
                    handle.write('%d\\n' % os.getpid())
                return real(*args, **kwargs)
            module.list_collection_dirs = counted
        spec.loader.exec_module = exec_module
        return spec


if os.environ.get('CLOUDOS_COUNT_FILE'):
    sys.meta_path.insert(0, _CountCollectionListing())
'''


def play(tmp_path, strategy_dirs):
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(COUNTER)
    inventory = tmp_path / 'hosts.json'
    inventory.write_text(json.dumps({'all': {'hosts': dict(
        (name, {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'})
        for name in HOSTS)}}))
    count = tmp_path / 'count'
    count.write_text('')
    report_dir = tmp_path / 'run'
    command = ('. profiles/mitogen.sh && if [ -n "$STRATEGY_DIRS" ]; then export ANSIBLE_STRATEGY_PLUGINS="$STRATEGY_DIRS"; fi; '
               'ansible-playbook -i "$1" playbooks/daily_health.yml -e daily_health_fail_on=never '
               '-e daily_health_report_dir="$2" -e \'{"daily_health_checks": ["system"]}\'')
    env = ansible_env({'ANSIBLE_STDOUT_CALLBACK': 'default', 'PYTHON': os.path.join(BIN, 'python'),
                       'PYTHONPATH': str(site), 'CLOUDOS_COUNT_FILE': str(count), 'STRATEGY_DIRS': strategy_dirs})
    proc = subprocess.run(['bash', '-c', command, 'bash', str(inventory), str(report_dir)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(str(report_dir / 'report.json')) as handle:
        report = json.load(handle)
    assert sorted(h['host'] for h in report['hosts']) == HOSTS
    assert all(h['checks']['system']['status'] == 'ok' for h in report['hosts'])
    return len(count.read_text().split())


def test_the_profile_lists_the_collections_once_per_run(tmp_path):
    assert play(tmp_path, '') == 1


def test_mitogens_own_strategy_lists_them_for_every_host(tmp_path):
    own = os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy')
    assert play(tmp_path, own) >= len(HOSTS)
