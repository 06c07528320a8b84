#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudos_docker_prune
short_description: Docker clean-up with an explicit scope and an exact preview of what goes and the bytes it frees
version_added: 0.1.0
author: cloudos.ops contributors (@cloudos)
description:
  - Replaces C(docker system prune -f), which also deletes every stopped container. Only what O(scope) names is
    removed; the default is dangling images and unused build cache.
  - Plans first, from one C(/system/df) answer of the Docker Engine API (sizes of images, containers, volumes and
    build cache) plus the container and network lists, then removes exactly the planned items, one API call per
    item. No C(prune) endpoint is called that could remove more than the plan; build cache records are pruned with
    an C(id) filter, one record at a time, and the engine's answer is checked.
  - In check mode the module returns the plan - every item that would be removed with its size, and the total
    bytes it would free - and changes nothing. With C(--diff) the plan is shown as a list.
  - Races are resolved towards keeping data. Each item is inspected again right before its removal and kept when
    it no longer matches the plan (an image that got a tag, a container that was started); removals are never
    forced, so Docker itself refuses an image or volume that a container started using meanwhile, a running
    container or a network with endpoints. Such items are listed in RV(not_removed) with the reason. A real run removes
    the plan or less, never more.
  - Talks to the engine through the C(docker) Python SDK (5.x as in Debian 12, up to 7.x).
options:
  scope:
    description:
      - What may be removed.
      - V(dangling_images) - images without a tag that no container (running or stopped) uses.
      - V(unused_images) - every image no container uses, tagged or not (implies V(dangling_images)).
      - V(stopped_containers) - containers in state C(created), C(exited) or C(dead).
      - V(unused_networks) - user-defined networks no container is connected to (predefined and swarm networks
        are never removed).
      - V(unused_volumes) - volumes no container mounts, named volumes included. Volumes hold data; enable with care
        and consider O(exclude_labels) or O(exclude_names).
      - V(build_cache) - build cache records that are neither in use nor shared with an image.
      - Containers removed in this run no longer count as users of images, volumes and networks.
    type: list
    elements: str
    choices: [dangling_images, unused_images, stopped_containers, unused_networks, unused_volumes, build_cache]
    default: [dangling_images, build_cache]
  older_than:
    description:
      - Remove only items created (build cache - last used) longer ago than this, for example V(24h), V(7d), V(1w).
        Empty means any age.
      - An item whose age the engine does not give (a missing, zero or unreadable creation time) is kept and listed
        in RV(kept) with the reason. Whatever O(older_than), an image, volume or network whose use cannot be read (no
        container count or reference count, or containers that cannot be listed) is kept too.
    type: str
    default: ''
  exclude_labels:
    description:
      - Keep items carrying one of these labels, V(key) (any value) or V(key=value).
    type: list
    elements: str
    default: []
  exclude_names:
    description:
      - Keep containers, volumes and networks whose name, and images with a tag, matching one of these shell
        patterns, for example V(cloudos-*).
    type: list
    elements: str
    default: []
  image_inventory:
    description:
      - Also return RV(images) - repository, tag, created and size of every image whose repository matches one of
        these shell patterns (V(*) for all). Empty returns no inventory.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds to wait for each Docker API call.
      - If not given, the value of E(DOCKER_TIMEOUT) is used when set.
    type: int
    default: 120
extends_documentation_fragment:
  - cloudos.ops.docker
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make.
    support: full
    details: Returns the exact plan, with sizes; nothing is removed.
  diff_mode:
    description: Returns details on what changed (or would change) in C(diff).
    support: full
    details: One line per item in scope; C(after) lists those that stayed.
requirements:
  - docker (the Python SDK) 5.0 or later on the managed host
notes:
  - Bytes freed are Docker's own accounting - for an image its size minus the size it shares with other images,
    for a container its writable layer, for a volume its data as C(docker system df) reports it, for build cache the
    record's size. Layers shared only among removed images are not counted, so the number errs on the low side.
  - Removing a stopped container does not remove its anonymous volumes; they become unused volumes for a later run
    with V(unused_volumes).
seealso:
  - module: cloudos.ops.cloudos_health
'''

EXAMPLES = r'''
- name: Preview the weekly clean-up (run with --check --diff)
  cloudos.ops.cloudos_docker_prune:
    scope: [dangling_images, build_cache]
  register: docker_cleanup

- name: Also remove stopped containers older than a day, but never CloudOS ones
  cloudos.ops.cloudos_docker_prune:
    scope: [dangling_images, build_cache, stopped_containers]
    older_than: 24h
    exclude_names: ['cloudos-*']
    exclude_labels: [com.cloudos.keep]

- name: List CloudOS images (nothing is removed with an empty scope)
  cloudos.ops.cloudos_docker_prune:
    scope: []
    image_inventory: ['*cloudos*']
'''

RETURN = r'''
plan:
  description: What the run removes (check mode - would remove), per kind, with each item's size and the totals.
  returned: always
  type: dict
  sample: {"scope": ["dangling_images", "build_cache"], "count": 2, "bytes": 73400320, "bytes_human": "70.00 MB",
           "images": [{"id": "sha256:4e36...", "tags": [], "created": "2024-01-30T10:00:00Z", "size": 73400320,
                       "bytes": 73400320}],
           "containers": [], "networks": [], "volumes": [], "build_cache": [
             {"id": "x3k...", "type": "regular", "description": "mount / from exec /bin/sh", "bytes": 0,
              "last_used": "2024-01-29T08:00:00Z"}]}
kept:
  description: Items of the kinds in scope that stay, with the reason (tagged, used by a container, excluded, ...).
  returned: always
  type: dict
  sample: {"images": [{"id": "sha256:78f4...", "tags": ["cloudos/web:1.4"], "reason": "used by a container"}]}
removed:
  description: Items removed, per kind (empty in check mode).
  returned: always
  type: dict
not_removed:
  description: Planned items not removed because they changed between plan and removal, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "containers", "id": "0a1b...", "name": "batch-7", "reason": "state is running now"}]
bytes_freed:
  description: Bytes freed by the removed items (check mode - bytes that would be freed).
  returned: always
  type: int
images:
  description: Image inventory for O(image_inventory), newest first, one row per tag.
  returned: when O(image_inventory) is not empty
  type: list
  elements: dict
  sample: [{"repository": "cloudos/web", "tag": "1.4", "id": "sha256:78f4...", "created": "2024-01-30T10:00:00Z",
            "size": 73400320}]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudos.ops.plugins.module_utils import _docker, _docker_prune as prune


def main():
    module = AnsibleModule(
        argument_spec=_docker.argument_spec(
            scope=dict(type='list', elements='str', choices=list(prune.SCOPES), default=list(prune.DEFAULT_SCOPE)),
            older_than=dict(type='str', default=''),
            exclude_labels=dict(type='list', elements='str', default=[]),
            exclude_names=dict(type='list', elements='str', default=[]),
            image_inventory=dict(type='list', elements='str', default=[]),
            timeout=dict(_docker.DOCKER_COMMON_ARGS['timeout'], default=120),
        ),
        supports_check_mode=True,
    )
    try:
        prune.check_params(module.params)
        conn = _docker.connect(module.params, low_level=True)
    except prune.PruneError as exc:
        module.fail_json(msg=str(exc))
    except _docker.DockerError as exc:
        if exc.reason == _docker.LIBRARY:
            module.fail_json(msg=missing_required_lib('docker (the Python SDK, Debian package python3-docker)'),
                             exception=str(exc))
        module.fail_json(msg=str(exc))
    try:
        result = prune.run(prune.DockerEngine(conn.client, conn.errors, conn.url), module.params,
                           check_mode=module.check_mode, diff=module._diff)
    except prune.PruneError as exc:
        module.fail_json(msg=str(exc), **exc.partial)
    finally:
        _docker.close(conn.client)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
