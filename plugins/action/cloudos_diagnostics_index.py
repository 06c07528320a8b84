# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for cloudos.ops.cloudos_diagnostics_index: verify, obfuscate and index the fetched bundles."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cloudos.ops.plugins.plugin_utils import _diagnostics_index as index

ARGUMENT_SPEC = dict(
    dest=dict(type='path', required=True),
    hosts=dict(type='list', elements='str', required=True),
    result_var=dict(type='str', default='diagnostics_fetched'),
    obfuscate=dict(type='bool', default=False),
    map_path=dict(type='path'),
    keywords=dict(type='list', elements='str', default=[], no_log=False),
    run_id=dict(type='str'),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args['obfuscate'] and not args['map_path']:
            raise AnsibleActionFail('cloudos_diagnostics_index: obfuscate needs map_path (kept on the controller)')
        hostvars = task_vars.get('hostvars', {})
        fetched, hostnames, users = {}, [], []
        for host in args['hosts']:
            try:
                value = hostvars[host].get(args['result_var']) if host in hostvars else None
            except Exception as exc:  # pylint: disable=broad-except
                value = {'failed': True, 'msg': 'could not read %s: %s' % (args['result_var'], to_native(exc))}
            value = dict(value or {'failed': True, 'msg': 'no bundle (the host failed or was unreachable)'})
            hints = value.get('obfuscation') or {}
            hostnames += hints.get('hostnames') or []
            users += hints.get('users') or []
            fetched[host] = value
        if self._task.check_mode:
            result.update(changed=False, msg='check mode: nothing verified or written', hosts=sorted(fetched))
            return result
        try:
            built = index.process(args['dest'], fetched, obfuscate=args['obfuscate'], map_path=args['map_path'],
                                  hostnames=hostnames, users=users, keywords=args['keywords'], run_id=args['run_id'])
        except (index.BundleError, OSError, ValueError) as exc:
            raise AnsibleActionFail('cloudos_diagnostics_index: %s' % to_native(exc))
        result.update(changed=True, index=built, index_json=args['dest'].rstrip('/') + '/index.json',
                      index_md=args['dest'].rstrip('/') + '/index.md',
                      failed=built['totals']['problems'] > 0,
                      msg='%d bundle(s), %d verified' % (built['totals']['hosts'], built['totals']['verified']))
        return result
