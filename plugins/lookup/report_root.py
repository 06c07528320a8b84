# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup cloudos.ops.report_root: where a role's reports go on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: report_root
short_description: The controller directory that receives a role's report directories
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Returns the directory under which a role (C(cloudos.ops.daily_health), C(cloudos.ops.security_check),
    C(cloudos.ops.maintenance)) writes one dated report directory per run. The roles' C(<role>_report_root)
    defaults use it; setting C(<role>_report_root) bypasses it.
  - "The first that applies wins: (1) O(root), usually the collection-wide variable C(cloudos_report_root):
    C(<root>/<name>); (2) under ansible-runner (AWX, Automation Platform, C(ansible-runner run)), the job's
    artifact directory (environment variable E(AWX_ISOLATED_DATA_DIR)): C(<artifact dir>/cloudos-reports/<name>);
    (3) when the playbook is not inside a collection (no C(ansible_collections) directory in its path):
    C(<playbook dir>/reports/<name>); (4) otherwise (a playbook of an installed collection, such as
    C(ansible-playbook cloudos.ops.daily_health)): C(<user cache>/cloudos.ops/reports/<name>), the user cache
    being E(XDG_CACHE_HOME) or C(~/.cache)."
  - The default is never inside a collection path, so an installed collection stays unmodified (and may be
    read-only). The current directory (E(PWD)) plays no part.
  - The directory is computed, not created; the report writer creates it.
options:
  _terms:
    description: The report's name, usually the role name (C(daily_health), C(security_check), C(maintenance)).
    type: list
    elements: str
    required: true
  root:
    description:
      - An explicit root shared by every role, usually C(cloudos_report_root | default('')). When not empty
        the result is C(<root>/<name>), whatever the environment.
    type: str
    default: ''
  playbook_dir:
    description:
      - The playbook's directory (pass C(playbook_dir)). Defaults to the C(playbook_dir) variable.
    type: str
notes:
  - Runs on the controller. Under ansible-runner the report then lands in the job's artifacts; AWX deletes
    them with the job, so publish the report (C(daily_health_publish_host)) or set C(cloudos_report_root)
    to persistent storage when it must be kept.
seealso:
  - module: cloudos.ops.fleet_report
"""

RETURN = r"""
_raw:
  description: One absolute directory per term.
  elements: path
  type: list
  sample: [/runner/artifacts/0f7c.../cloudos-reports/daily_health]
"""

EXAMPLES = r"""
# A role default (this is how the roles use it)
# daily_health_report_root: >-
#   {{ lookup('cloudos.ops.report_root', 'daily_health', root=cloudos_report_root | default(''),
#             playbook_dir=playbook_dir) }}

- name: Where daily_health writes its reports in this run
  ansible.builtin.debug:
    msg: "{{ lookup('cloudos.ops.report_root', 'daily_health', root=cloudos_report_root | default('')) }}"
  run_once: true
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

ARTIFACTS_ENV = 'AWX_ISOLATED_DATA_DIR'


def inside_collection(path):
    """True when ``path`` (or the path it resolves to) has an ``ansible_collections`` directory."""
    for candidate in (os.path.abspath(path), os.path.realpath(path)):
        if 'ansible_collections' in candidate.split(os.sep):
            return True
    return False


def report_root(name, root='', playbook_dir='', environ=None):
    """The report root for ``name``: explicit root, runner artifacts, playbook dir, user cache."""
    environ = os.environ if environ is None else environ
    if not name or '/' in name or name in ('.', '..'):
        raise ValueError('report_root: %r is not a plain name' % (name,))
    if root:
        return os.path.join(os.path.abspath(os.path.expanduser(root)), name)
    artifacts = environ.get(ARTIFACTS_ENV)
    if artifacts and not inside_collection(artifacts):
        return os.path.join(os.path.abspath(artifacts), 'cloudos-reports', name)
    if playbook_dir and not inside_collection(playbook_dir):
        return os.path.join(os.path.abspath(playbook_dir), 'reports', name)
    cache = environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(os.path.abspath(cache), 'cloudos.ops', 'reports', name)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        playbook_dir = self.get_option('playbook_dir')
        if playbook_dir is None:
            playbook_dir = (variables or {}).get('playbook_dir') or ''
        try:
            return [report_root(str(term), root=self.get_option('root') or '', playbook_dir=str(playbook_dir))
                    for term in terms]
        except ValueError as exc:
            raise AnsibleLookupError(str(exc))
