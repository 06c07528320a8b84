"""cloudos.ops.report_root: explicit root, runner artifacts, playbook dir, user cache; never a collection."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.cloudos.ops.plugins.lookup import report_root as plugin
from ansible_collections.cloudos.ops.plugins.lookup.report_root import LookupModule, inside_collection, report_root

PROJECT = '/srv/project/playbooks'
INSTALLED = '/usr/share/ansible/collections/ansible_collections/cloudos/ops/playbooks'


def test_an_explicit_root_wins_over_everything():
    env = {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/7', 'XDG_CACHE_HOME': '/c'}
    assert report_root('daily_health', root='/srv/reports', playbook_dir=INSTALLED, environ=env) == \
        '/srv/reports/daily_health'


def test_under_ansible_runner_the_job_artifact_directory():
    env = {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/7'}
    for playbook_dir in (PROJECT, INSTALLED):
        assert report_root('security_check', playbook_dir=playbook_dir, environ=env) == \
            '/runner/artifacts/7/cloudos-reports/security_check'


def test_a_project_playbook_keeps_its_reports_next_to_it():
    assert report_root('daily_health', playbook_dir=PROJECT, environ={}) == '/srv/project/playbooks/reports/daily_health'


def test_a_collection_playbook_writes_to_the_user_cache_not_into_the_collection():
    assert report_root('maintenance', playbook_dir=INSTALLED, environ={'XDG_CACHE_HOME': '/home/u/.cache'}) == \
        '/home/u/.cache/cloudos.ops/reports/maintenance'
    home = os.path.expanduser('~')
    assert report_root('maintenance', playbook_dir=INSTALLED, environ={}) == \
        os.path.join(home, '.cache', 'cloudos.ops', 'reports', 'maintenance')
    # PWD plays no part.
    assert report_root('maintenance', playbook_dir=INSTALLED, environ={'PWD': '/tmp', 'XDG_CACHE_HOME': '/x'}) == \
        '/x/cloudos.ops/reports/maintenance'


def test_a_symlink_into_a_collection_counts_as_inside(tmp_path):
    real = tmp_path / 'ansible_collections' / 'cloudos' / 'ops' / 'playbooks'
    real.mkdir(parents=True)
    link = tmp_path / 'checkout'
    link.symlink_to(real)
    assert inside_collection(str(link))
    assert not inside_collection(str(tmp_path))
    # an artifact directory inside a collection is not used either
    env = {'AWX_ISOLATED_DATA_DIR': str(real), 'XDG_CACHE_HOME': '/x'}
    assert report_root('daily_health', playbook_dir=str(link), environ=env) == '/x/cloudos.ops/reports/daily_health'


@pytest.mark.parametrize('name', ['', 'a/b', '..'])
def test_names_are_plain(name):
    with pytest.raises(ValueError):
        report_root(name, playbook_dir=PROJECT, environ={})


def test_the_lookup_reads_playbook_dir_from_the_variables(monkeypatch):
    monkeypatch.setattr(plugin.os, 'environ', {})
    lookup = LookupModule()
    options = {}
    # the options as the plugin loader would set them from DOCUMENTATION
    monkeypatch.setattr(lookup, 'set_options', lambda var_options=None, direct=None: options.update(direct or {}))
    monkeypatch.setattr(lookup, 'get_option', lambda name: options.get(name, '' if name == 'root' else None))
    assert lookup.run(['daily_health'], variables={'playbook_dir': PROJECT}) == ['/srv/project/playbooks/reports/daily_health']
    assert lookup.run(['a', 'b'], variables={}, root='/r') == ['/r/a', '/r/b']
    with pytest.raises(AnsibleLookupError):
        lookup.run(['x/y'], variables={'playbook_dir': PROJECT})
