#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_docker_daemon_config
short_description: Merge options into Docker's daemon.json and validate the result before writing it
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Merges O(options) into the existing C(daemon.json) as a JSON Merge Patch (RFC 7386) - objects merge
    key by key, C(null) removes a key, other values replace - so keys set by others stay.
  - Validates the result before writing it - it must be a JSON object; every key must be one the
    installed C(dockerd) knows, with a value of the type its flag takes (read from C(dockerd --help),
    which catches for example a number as C(max-file) in C(log-opts), where dockerd wants a string);
    no key may also be set as a flag of the Docker service (dockerd refuses to start with that); and,
    where the installed Docker has it (23.0 and later), C(dockerd --validate --config-file) on a
    temporary copy.
  - Writes atomically and only when the content changes (compared as JSON, so formatting is kept
    when nothing changes). Restarting Docker is left to a handler of the caller.
  - Does not change the storage driver under a running daemon that uses another one (its images and
    containers would disappear from view) unless O(allow_storage_driver_change=true).
options:
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  options:
    description:
      - Keys to merge into the file. A C(null) value removes the key.
    type: dict
    required: true
  validate:
    description: Validate the merged result (schema from the installed dockerd, service flags, C(dockerd --validate)).
    type: bool
    default: true
  dockerd:
    description: Path of the dockerd binary used for validation; by default looked up in E(PATH) and C(/usr/sbin).
    type: path
  service:
    description:
      - systemd unit whose C(ExecStart) flags must not be repeated in the file. Empty to skip the check.
    type: str
    default: docker.service
  allow_storage_driver_change:
    description:
      - Allow a C(storage-driver) different from the one the running daemon uses. Without it, such a
        change is left out (with a warning) and the rest is applied.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the previous file when it changes.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Validates and reports the change with its diff; writes nothing.
  diff_mode:
    support: full
    description: Shows the file before and after.
seealso:
  - name: dockerd configuration file reference
    description: All keys of daemon.json.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
'''

EXAMPLES = r'''
- name: The guide's logging and ulimit settings, keeping every other key
  cloudos.ops.cloudos_docker_daemon_config:
    options:
      log-driver: json-file
      log-opts:
        max-size: 10m
        max-file: "3"
      default-ulimits:
        nofile: {Name: nofile, Hard: 64000, Soft: 64000}
  notify: Restart docker

- name: Remove a key
  cloudos.ops.cloudos_docker_daemon_config:
    options:
      debug: null
'''

RETURN = r'''
config:
  description: The configuration after the merge.
  returned: always
  type: dict
  sample: {"log-driver": "json-file", "log-opts": {"max-file": "3", "max-size": "10m"}}
validated_with:
  description: Validations performed (V(json), V(schema), V(service-flags), V(dockerd)).
  returned: always
  type: list
  elements: str
  sample: [json, schema, service-flags]
backup_file:
  description: The copy of the previous file.
  returned: when O(backup=true) and the file changed
  type: str
diff:
  description: The file before and after.
  returned: when changed
  type: dict
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudos.ops.plugins.module_utils import _docker_daemon as D


def _read(path):
    try:
        with open(path, 'r') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _running_storage_driver(module):
    docker = module.get_bin_path('docker')
    if not docker:
        return None
    rc, out, _err = module.run_command([docker, 'info', '--format', '{{.Driver}}'], environ_update={'LANG': 'C'})
    return out.strip() if rc == 0 and out.strip() else None


def _service_flags(module, service):
    systemctl = module.get_bin_path('systemctl')
    if not service or not systemctl or not os.path.isdir('/run/systemd/system'):
        return None
    rc, out, _err = module.run_command([systemctl, 'show', service, '-p', 'ExecStart', '--value'],
                                       environ_update={'LANG': 'C'})
    return D.flags_in_execstart(out) if rc == 0 and out.strip() else None


def _validate(module, config, dockerd, service):
    used = ['json']
    errors = []
    if dockerd:
        rc, out, err = module.run_command([dockerd, '--help'], environ_update={'LANG': 'C'})
        help_text = out + err
        known = D.parse_help(help_text)
        if known:
            used.append('schema')
            errors += D.check_schema(config, known)
    else:
        help_text = ''
        module.warn('dockerd not found: daemon.json checked as JSON only')
    flags = _service_flags(module, service)
    if flags is not None:
        used.append('service-flags')
        errors += D.check_conflicts(config, flags)
    if errors:
        return used, errors
    if dockerd and '--validate' in help_text:
        fd, tmp = tempfile.mkstemp(prefix='daemon-', suffix='.json', dir=module.tmpdir)
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(D.render(config))
            rc, out, err = module.run_command([dockerd, '--validate', '--config-file', tmp], environ_update={'LANG': 'C'})
        finally:
            os.unlink(tmp)
        used.append('dockerd')
        problem = D.validate_output_ok(rc, out, err)
        if problem:
            errors.append(problem.replace(tmp, 'the merged configuration'))
    return used, errors


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/docker/daemon.json'),
            options=dict(type='dict', required=True),
            validate=dict(type='bool', default=True),
            dockerd=dict(type='path'),
            service=dict(type='str', default='docker.service'),
            allow_storage_driver_change=dict(type='bool', default=False),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p['path']
    before_text = _read(path)
    try:
        current = D.parse_existing(before_text, path)
    except D.DaemonConfigError as exc:
        module.fail_json(msg=str(exc))

    patch = dict(p['options'])
    wanted_driver = patch.get('storage-driver')
    if wanted_driver and not p['allow_storage_driver_change']:
        running = _running_storage_driver(module)
        if running and running != wanted_driver:
            module.warn('storage-driver %s left out: the running daemon uses %s and would no longer see its images '
                        'and containers (set allow_storage_driver_change to switch)' % (wanted_driver, running))
            del patch['storage-driver']

    merged = D.merge_patch(current, patch)
    result = dict(changed=False, config=merged, validated_with=['json'])
    if merged == current and before_text is not None:
        module.exit_json(**result)

    if p['validate']:
        dockerd = p['dockerd'] or module.get_bin_path('dockerd', opt_dirs=['/usr/sbin', '/usr/bin'])
        if p['dockerd'] and not os.access(p['dockerd'], os.X_OK):
            module.fail_json(msg='dockerd: %s is not an executable' % p['dockerd'])
        used, errors = _validate(module, merged, dockerd, p['service'])
        result['validated_with'] = used
        if errors:
            module.fail_json(msg='options: the merged %s would be invalid, nothing written: %s' % (path, '; '.join(errors)),
                             config=merged, validated_with=used)

    after_text = D.render(merged)
    result['changed'] = True
    result['diff'] = dict(before_header=path, after_header=path, before=before_text or '', after=after_text)
    if module.check_mode:
        module.exit_json(**result)

    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    if p['backup'] and before_text is not None:
        result['backup_file'] = module.backup_local(path)
    fd, tmp = tempfile.mkstemp(prefix='.daemon.json.', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(after_text)
        if before_text is None:
            os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
