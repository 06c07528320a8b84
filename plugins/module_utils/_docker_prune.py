# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker clean-up with an explicit scope and an exact preview.

Private to this collection: no compatibility promise.

:func:`plan` is pure: given what the Docker Engine API reports (``/system/df`` for images,
containers, volumes and build cache with their sizes, ``/containers/json?all=1`` for network
use, ``/networks``) and a scope, it returns exactly the items that would be removed, the bytes
that frees and, for every item of an enabled kind that stays, why it stays. Check mode returns
that plan; a real run (:func:`apply`) removes exactly those items, one API call per item, and
never calls a ``prune`` endpoint that could remove more than was previewed (build cache records
are pruned with an ``id`` filter, one record per call, and the answer is checked).

Races between the plan and the removal are resolved towards keeping data: each item is looked
at again right before it is removed and kept when it no longer matches the plan (an image
that got a tag, a container that was started); every removal is the non-forced API call, so
Docker itself refuses an image or volume a container started using in the meantime, a running
container or a network with endpoints. Those items are reported in ``not_removed`` with the reason;
an item already gone is reported as such. A real run therefore removes the plan or less, never more.
"""

from __future__ import annotations

import fnmatch
import json

from datetime import timedelta

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    DurationError, has_control, human_size, parse_duration, parse_time, rfc3339 as iso, utcnow)

KINDS = ('images', 'containers', 'networks', 'volumes', 'build_cache')
SCOPES = ('dangling_images', 'unused_images', 'stopped_containers', 'unused_networks', 'unused_volumes', 'build_cache')
DEFAULT_SCOPE = ('dangling_images', 'build_cache')
# Networks Docker creates itself and never lets anyone remove.
PREDEFINED_NETWORKS = ('bridge', 'host', 'none', 'ingress', 'docker_gwbridge')
STOPPED_STATES = ('created', 'exited', 'dead')
MAX_TIMEOUT = 86400


class PruneError(Exception):
    """Bad input or an unusable engine answer; the message names the parameter or the item.

    ``partial`` holds what the module returns along with the failure (a clean-up that failed
    half way reports what it removed).
    """

    def __init__(self, message, partial=None):
        super().__init__(message)
        self.partial = partial or {}


# --------------------------------------------------------------------------- helpers

def older_than_seconds(value, name='older_than'):
    """``'1w2d'``, ``'24h'``, ``'90m'``, ``'3600'`` -> seconds (int); empty means any age (0)."""
    if value in (None, ''):
        return 0
    try:
        return parse_duration(value, name, allow_zero=True)
    except DurationError as exc:
        raise PruneError(str(exc))


def _size(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 0
    return value if value > 0 else 0


def parse_label_rules(rules, name='exclude_labels'):
    """``['keep', 'tier=db']`` -> ``[('keep', None), ('tier', 'db')]``."""
    parsed = []
    for rule in rules or []:
        if not isinstance(rule, str) or not rule.strip() or rule.strip().startswith('='):
            raise PruneError('%s: each entry must be "key" or "key=value", got %r' % (name, rule))
        key, sep, value = rule.strip().partition('=')
        parsed.append((key.strip(), value if sep else None))
    return parsed


def _label_match(labels, rules):
    labels = labels or {}
    for key, value in rules:
        if key in labels and (value is None or labels[key] == value):
            return '%s%s' % (key, '' if value is None else '=' + value)
    return None


def _name_match(names, patterns):
    for name in names:
        for pattern in patterns or []:
            if fnmatch.fnmatchcase(name, pattern):
                return pattern
    return None


def validate_scope(scope):
    scope = list(DEFAULT_SCOPE if scope is None else scope)
    for item in scope:
        if item not in SCOPES:
            raise PruneError('scope: unknown item %r (choose from %s)' % (item, ', '.join(SCOPES)))
    return scope


# --------------------------------------------------------------------------- normalisation

def _image_tags(raw):
    return [t for t in (raw.get('RepoTags') or []) if t and t != '<none>:<none>']


def _count(value):
    """A reference count the engine gave (a non-negative integer), else -1: unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else -1


def _raw_text(value):
    """How an unreadable engine field is shown in a reason: ``missing`` or its value."""
    return 'missing' if value is None else json.dumps(value)[:60]


def _image(raw):
    size = _size(raw.get('Size'))
    shared = raw.get('SharedSize')
    return {
        'id': raw.get('Id') or '',
        'tags': _image_tags(raw),
        'digests': [d for d in (raw.get('RepoDigests') or []) if d and d != '<none>@<none>'],
        'created': parse_time(raw.get('Created')),
        'created_raw': raw.get('Created'),
        'size': size,
        'bytes': size - shared if isinstance(shared, int) and 0 <= shared <= size else size,
        'containers': _count(raw.get('Containers')),
        'containers_raw': raw.get('Containers'),
        'parent': raw.get('ParentId') or '',
        'labels': raw.get('Labels') or {},
    }


def _container(raw):
    names = [n.lstrip('/') for n in (raw.get('Names') or [])]
    networks = list(((raw.get('NetworkSettings') or {}).get('Networks') or {}).keys())
    mode = (raw.get('HostConfig') or {}).get('NetworkMode')
    if mode and mode not in networks:
        networks.append(mode)
    return {
        'id': raw.get('Id') or '',
        'name': names[0] if names else (raw.get('Id') or '')[:12],
        'names': names,
        'image': raw.get('Image') or '',
        'image_id': raw.get('ImageID') or '',
        'state': (raw.get('State') or '').lower(),
        'status': raw.get('Status') or '',
        'created': parse_time(raw.get('Created')),
        'created_raw': raw.get('Created'),
        'bytes': _size(raw.get('SizeRw')),
        'labels': raw.get('Labels') or {},
        'networks': networks,
        'volumes': [m.get('Name') for m in (raw.get('Mounts') or []) if m.get('Type') == 'volume' and m.get('Name')],
    }


def _volume(raw):
    usage = raw.get('UsageData') if isinstance(raw.get('UsageData'), dict) else {}
    refs = usage.get('RefCount')
    return {'id': raw.get('Name') or '', 'name': raw.get('Name') or '', 'driver': raw.get('Driver') or '',
            'created': parse_time(raw.get('CreatedAt')), 'created_raw': raw.get('CreatedAt'),
            'bytes': _size(usage.get('Size')), 'refcount': _count(refs), 'refcount_raw': refs,
            'labels': raw.get('Labels') or {}}


def _network(raw):
    return {'id': raw.get('Id') or '', 'name': raw.get('Name') or '', 'driver': raw.get('Driver') or '',
            'scope': raw.get('Scope') or '', 'created': parse_time(raw.get('Created')),
            'created_raw': raw.get('Created'), 'bytes': 0,
            'labels': raw.get('Labels') or {}}


def _build_record(raw):
    return {'id': raw.get('ID') or raw.get('Id') or '', 'type': raw.get('Type') or '',
            'description': raw.get('Description') or '', 'created': parse_time(raw.get('CreatedAt')),
            'last_used': parse_time(raw.get('LastUsedAt')) or parse_time(raw.get('CreatedAt')),
            'created_raw': raw.get('LastUsedAt') if raw.get('LastUsedAt') is not None else raw.get('CreatedAt'),
            'bytes': _size(raw.get('Size')), 'in_use': bool(raw.get('InUse')), 'shared': bool(raw.get('Shared'))}


NORMALIZERS = {'images': _image, 'containers': _container, 'volumes': _volume, 'networks': _network,
               'build_cache': _build_record}


def normalize(kind, raw_list):
    """The engine's records of one kind (``/system/df``, ``/containers/json``, ``/networks``), normalised.

    Records that are not objects are left out (nothing can be removed that has no id); use
    :func:`unreadable` to know whether any was.
    """
    if not isinstance(raw_list, (list, tuple)):
        return []
    return [NORMALIZERS[kind](raw) for raw in raw_list if isinstance(raw, dict)]


def unreadable(raw_list):
    """Why a list the engine returned cannot be trusted to be complete, or None."""
    if raw_list is None:
        return None
    if not isinstance(raw_list, (list, tuple)):
        return 'the engine answered %s instead of a list' % _raw_text(raw_list)
    bad = [r for r in raw_list if not isinstance(r, dict)]
    if bad:
        return 'the engine answered %d record(s) that are not objects (%s)' % (len(bad), _raw_text(bad[0]))
    return None


# --------------------------------------------------------------------------- planning

def _public(kind, item):
    """What the module returns for one item."""
    out = {'id': item['id'], 'bytes': item['bytes']}
    if kind == 'images':
        out.update(tags=item['tags'], created=iso(item['created']), size=item['size'])
    elif kind == 'containers':
        out.update(name=item['name'], image=item['image'], state=item['state'], status=item['status'],
                   created=iso(item['created']))
    elif kind == 'volumes':
        out.update(name=item['name'], driver=item['driver'], created=iso(item['created']))
    elif kind == 'networks':
        out.update(name=item['name'], driver=item['driver'], created=iso(item['created']))
    else:
        out.update(type=item['type'], description=item['description'], last_used=iso(item['last_used']))
    return out


def _too_young(moment, cutoff):
    return cutoff is not None and moment is not None and moment > cutoff


def _age_unknown(item, cutoff, field='Created'):
    """With ``older_than``, an item whose age cannot be read stays: it is not proven old."""
    if cutoff is None or item.get('created' if field != 'LastUsedAt' else 'last_used') is not None:
        return None
    return 'age unknown (%s is %s): not proven older than older_than' % (field, _raw_text(item.get('created_raw')))


def plan(inventory, scope=None, older_than=0, exclude_labels=None, exclude_names=None, now=None):
    """Exactly what a prune with this scope removes.

    ``inventory`` holds engine answers: ``images``, ``containers`` (with ``SizeRw`` where known),
    ``volumes`` (with ``UsageData``), ``build_cache`` (from ``/system/df``), ``all_containers``
    (``/containers/json?all=1``, for network and image use; defaults to ``containers``) and
    ``networks``. Returns ``{'remove': {kind: [item]}, 'keep': {kind: [item + reason]},
    'bytes': int, 'count': int, 'scope': [...]}``; items are the engine's, normalised.
    """
    scope = validate_scope(scope)
    rules = parse_label_rules(exclude_labels)
    now = now or utcnow()
    seconds = older_than_seconds(older_than)
    cutoff = now - timedelta(seconds=seconds) if seconds else None

    images = normalize('images', inventory.get('images'))
    containers = normalize('containers', inventory.get('containers'))
    every_container = normalize('containers', inventory.get('all_containers')) if inventory.get('all_containers') is not None else containers
    # Whether every container is known with what it uses; if not, no image, volume or network
    # is proven unused.
    listing = inventory.get('all_containers') if inventory.get('all_containers') is not None else inventory.get('containers')
    users_unknown = inventory.get('containers_error') or unreadable(listing)
    if users_unknown:
        users_unknown = 'containers could not be listed (%s): not proven unused' % users_unknown
    else:
        nameless = [c for c in every_container if not c['id'] or not c['image_id']]
        if nameless:
            users_unknown = ('a container\'s %s is unknown (%s): not proven unused'
                             % ('id' if not nameless[0]['id'] else 'image', nameless[0]['name'] or 'no name'))
    volumes = normalize('volumes', inventory.get('volumes'))
    networks = normalize('networks', inventory.get('networks'))
    cache = normalize('build_cache', inventory.get('build_cache'))

    remove = dict((k, []) for k in KINDS)
    keep = dict((k, []) for k in KINDS)

    def decide(kind, item, reason):
        if reason:
            entry = _public(kind, item)
            entry['reason'] = reason
            keep[kind].append(entry)
        else:
            remove[kind].append(item)

    def common_reason(item, names=()):
        """Why an item that could go stays anyway: an excluding label or name, or its age."""
        label = _label_match(item.get('labels'), rules)
        if label:
            return 'excluded by label %s' % label
        pattern = _name_match(names, exclude_names)
        if pattern:
            return 'excluded by name pattern %s' % pattern
        if _too_young(item['created'], cutoff):
            return 'created %s, newer than older_than' % iso(item['created'])
        return _age_unknown(item, cutoff, 'CreatedAt' if 'refcount' in item else 'Created')

    # Containers first: removing a stopped container frees the images, networks and volumes
    # it holds only if it is removed, so "in use" below counts the containers that stay.
    removed_containers = set()
    if 'stopped_containers' in scope:
        for item in containers:
            reason = None
            if not item['id']:
                reason = 'no id in the engine\'s answer'
            elif item['state'] not in STOPPED_STATES:
                reason = 'state %s' % (item['state'] or 'unknown')
            else:
                reason = common_reason(item, item['names'])
            decide('containers', item, reason)
            if not reason:
                removed_containers.add(item['id'])
    staying = [c for c in every_container if c['id'] not in removed_containers]

    used_images = set()
    for item in staying:
        used_images.add(item['image_id'])
    # Docker counts an image's containers itself (df "Containers"); both must agree it is unused.
    dangling_only = 'unused_images' not in scope
    if 'dangling_images' in scope or 'unused_images' in scope:
        for item in images:
            reason = None
            if dangling_only and item['tags']:
                reason = 'tagged %s' % ', '.join(item['tags'])
            elif not item['id']:
                reason = 'no id in the engine\'s answer'
            elif users_unknown:
                reason = users_unknown
            elif item['containers'] < 0:
                reason = 'container count unknown (Containers is %s): not proven unused' % _raw_text(item['containers_raw'])
            elif item['id'] in used_images:
                reason = 'used by a container'
            elif item['containers'] > 0 and not (removed_containers and _only_removed_users(item, every_container, removed_containers)):
                reason = 'used by %d container(s)' % item['containers']
            else:
                reason = common_reason(item, item['tags'])
            decide('images', item, reason)
        # An image that is the parent of an image that stays cannot be removed (Docker refuses):
        # keep it too, and its own parent, until nothing changes.
        changed = True
        while changed:
            changed = False
            removing = set(i['id'] for i in remove['images'])
            needed = set(i['parent'] for i in images if i['id'] not in removing and i['parent'])
            for item in list(remove['images']):
                if item['id'] in needed:
                    remove['images'].remove(item)
                    decide('images', item, 'parent of an image that stays')
                    changed = True

    if 'unused_volumes' in scope:
        used_volumes = set(name for item in staying for name in item['volumes'])
        for item in volumes:
            if not item['name']:
                reason = 'no name in the engine\'s answer'
            elif users_unknown:
                reason = users_unknown
            elif item['refcount'] < 0:
                reason = ('reference count unknown (UsageData.RefCount is %s): not proven unused'
                          % _raw_text(item['refcount_raw']))
            elif item['name'] in used_volumes:
                reason = 'used by a container'
            elif item['refcount'] > 0 and not _only_removed_volume_users(item, every_container, removed_containers):
                reason = 'used by %d container(s)' % item['refcount']
            else:
                reason = common_reason(item, [item['name']])
            decide('volumes', item, reason)

    if 'unused_networks' in scope:
        used_networks = set(name for item in staying for name in item['networks'])
        for item in networks:
            in_use = item['name'] in used_networks or item['id'] in used_networks
            decide('networks', item, 'predefined network' if item['name'] in PREDEFINED_NETWORKS else
                   'no id in the engine\'s answer' if not item['id'] else
                   'swarm network' if item['scope'] == 'swarm' else
                   users_unknown or ('used by a container' if in_use else common_reason(item, [item['name']])))

    if 'build_cache' in scope:
        for item in cache:
            reason = None
            if item['in_use']:
                reason = 'in use by a build'
            elif item['shared']:
                reason = 'shared with an image (removing it frees nothing)'
            elif not item['id']:
                reason = 'no id in the engine\'s answer'
            elif _too_young(item['last_used'], cutoff):
                reason = 'last used %s, newer than older_than' % iso(item['last_used'])
            else:
                reason = _age_unknown(item, cutoff, 'LastUsedAt')
            decide('build_cache', item, reason)

    total = sum(i['bytes'] for k in KINDS for i in remove[k])
    return {
        'scope': scope,
        'older_than': seconds,
        'remove': remove,
        'keep': keep,
        'count': sum(len(remove[k]) for k in KINDS),
        'bytes': total,
    }


def _only_removed_users(image, containers, removed):
    users = [c for c in containers if c['image_id'] == image['id']]
    return bool(users) and all(c['id'] in removed for c in users) and len(users) >= image['containers']


def _only_removed_volume_users(volume, containers, removed):
    users = [c for c in containers if volume['name'] in c['volumes']]
    return bool(users) and all(c['id'] in removed for c in users) and len(users) >= volume['refcount']


def public_plan(result):
    """The plan as the module returns it: per kind the items with sizes, and the totals."""
    out = {
        'scope': result['scope'],
        'count': result['count'],
        'bytes': result['bytes'],
        'bytes_human': human_size(result['bytes']),
    }
    for kind in KINDS:
        out[kind] = [_public(kind, i) for i in result['remove'][kind]]
    return out


def item_label(kind, item):
    """One line per item, as the diff shows it."""
    if kind == 'images':
        name = ', '.join(item.get('tags') or []) or '<none>'
        return 'image %s %s (%s)' % (item['id'][7:19] if item['id'].startswith('sha256:') else item['id'][:12],
                                     name, human_size(item['bytes']))
    if kind == 'containers':
        return 'container %s %s [%s] (%s)' % (item['id'][:12], item['name'], item['state'], human_size(item['bytes']))
    if kind == 'volumes':
        return 'volume %s (%s)' % (item['name'], human_size(item['bytes']))
    if kind == 'networks':
        return 'network %s %s' % (item['name'], item['id'][:12])
    return 'build cache %s %s (%s)' % (item['id'][:12], item.get('type') or '', human_size(item['bytes']))


def diff_of(result, removed_ids=None):
    """Ansible diff: ``before`` lists the planned items, ``after`` those still there afterwards."""
    before = []
    after = []
    for kind in KINDS:
        for item in result['remove'][kind]:
            line = item_label(kind, item)
            before.append(line)
            if removed_ids is not None and item['id'] not in removed_ids:
                after.append(line)
    return {
        'before': '\n'.join(before) + ('\n' if before else ''),
        'after': '\n'.join(after) + ('\n' if after else ''),
        'before_header': 'docker (items in scope for removal)',
        'after_header': 'docker (items left)',
    }


# --------------------------------------------------------------------------- removal

REMOVE_ORDER = ('containers', 'images', 'volumes', 'networks', 'build_cache')


def still_matches(kind, planned, current):
    """Whether a fresh inspect of an item still allows removing it (``current`` None: gone)."""
    if current is None:
        return False, 'already gone'
    if kind == 'images':
        tags = _image_tags(current)
        if tags and not planned['tags']:
            return False, 'tagged since the plan (%s)' % ', '.join(tags)
        if sorted(tags) != sorted(planned['tags']):
            return False, 'tags changed since the plan'
    elif kind == 'containers':
        state = ((current.get('State') or {}).get('Status') or '').lower()
        if state not in STOPPED_STATES:
            return False, 'state is %s now' % (state or 'unknown')
    return True, None


def apply(engine, result):
    """Remove the planned items, item by item. ``engine`` is an adapter (see DockerEngine).

    Returns ``{'removed': {kind: [public item]}, 'not_removed': [{kind, id, name, reason}],
    'bytes_freed': int}``. Conflicts (Docker refuses: in use, running) are skipped, not fatal.
    """
    removed = dict((k, []) for k in KINDS)
    skipped = []
    freed = 0
    for kind in REMOVE_ORDER:
        for item in result['remove'][kind]:
            public = _public(kind, item)
            current = engine.inspect(kind, item['id'])
            ok, reason = still_matches(kind, item, current)
            if ok:
                outcome, reason = engine.remove(kind, item['id'])
            else:
                outcome = 'gone' if current is None else 'skipped'
            if outcome == 'removed':
                removed[kind].append(public)
                freed += item['bytes']
            else:
                skipped.append({'kind': kind, 'id': item['id'], 'name': public.get('name') or ', '.join(public.get('tags') or []),
                                'reason': reason or outcome})
    return {'removed': removed, 'not_removed': skipped, 'bytes_freed': freed}


class DockerEngine:
    """The adapter between :func:`plan`/:func:`apply` and a low-level client opened by ``_docker``.

    Works with the SDK 5.x of Debian 12 and 7.x: only calls present in both (``df``,
    ``containers``, ``networks``, ``inspect_*``, ``remove_*``) plus the raw ``/build/prune``
    endpoint, which SDK 5 wraps without parameters.
    """

    def __init__(self, client, errors, url=None):
        self.client = client
        self.errors = errors  # the docker.errors module
        self.url = url

    def inventory(self):
        df = self.client.df() or {}
        if not isinstance(df, dict):
            raise PruneError('Docker engine at %s: /system/df answered %s, not an object' % (self.url, _raw_text(df)))
        out = {
            'images': df.get('Images') or [],
            'containers': df.get('Containers') or [],
            'volumes': df.get('Volumes') or [],
            'build_cache': df.get('BuildCache') or [],
            'networks': self.client.networks(),
        }
        try:
            out['all_containers'] = self.client.containers(all=True)
        except self.errors.APIError as exc:
            # Without the list of containers no image, volume or network is proven unused.
            out['all_containers'] = None
            out['containers_error'] = '/containers/json: %s' % exc
        return out

    def _status(self, exc):
        response = getattr(exc, 'response', None)
        return getattr(response, 'status_code', None)

    def inspect(self, kind, ident):
        try:
            if kind == 'images':
                return self.client.inspect_image(ident)
            if kind == 'containers':
                return self.client.inspect_container(ident)
            if kind == 'volumes':
                return self.client.inspect_volume(ident)
            if kind == 'networks':
                return self.client.inspect_network(ident)
            return {'ID': ident}  # build cache records have no inspect endpoint
        except self.errors.NotFound:
            return None

    def remove(self, kind, ident):
        """``('removed', None)``, ``('gone', reason)`` or ``('skipped', reason)``; other errors raise."""
        try:
            if kind == 'images':
                self.client.remove_image(ident, force=False, noprune=False)
            elif kind == 'containers':
                self.client.remove_container(ident, v=False, link=False, force=False)
            elif kind == 'volumes':
                self.client.remove_volume(ident, force=False)
            elif kind == 'networks':
                self.client.remove_network(ident)
            else:
                return self._prune_build_record(ident)
        except self.errors.NotFound:
            return 'gone', 'already gone'
        except self.errors.APIError as exc:
            if self._status(exc) in (403, 409):
                return 'skipped', 'Docker refused: %s' % (getattr(exc, 'explanation', None) or exc)
            raise
        return 'removed', None

    def _prune_build_record(self, ident):
        api = self.client
        url = api._url('/build/prune')
        params = {'filters': json.dumps({'id': [ident]}), 'all': '1'}
        answer = api._result(api._post(url, params=params), True) or {}
        deleted = answer.get('CachesDeleted') or []
        unexpected = [d for d in deleted if d != ident]
        if unexpected:
            # Should never happen with an id filter; say so loudly rather than hide it.
            raise PruneError('build cache prune with filter id=%s also removed %s' % (ident, ', '.join(unexpected)))
        if ident in deleted:
            return 'removed', None
        return 'skipped', 'the engine did not remove it (in use or already gone)'


def image_inventory(df_images, patterns=None):
    """Images whose repository matches one of ``patterns`` (globs): one row per tag.

    Rows ``{repository, tag, id, created, size}``, newest first; untagged images are left out.
    """
    rows = []
    for item in normalize('images', df_images):
        for tag in item['tags']:
            repo, _sep, name = tag.rpartition(':')
            if '/' in name:  # a registry port, not a tag
                repo, name = tag, ''
            if patterns and not any(fnmatch.fnmatchcase(repo, p) for p in patterns):
                continue
            rows.append({'repository': repo, 'tag': name, 'id': item['id'], 'created': iso(item['created']),
                         'size': item['size']})
    rows.sort(key=lambda r: (r['created'] or '', r['repository'], r['tag']), reverse=True)
    return rows


# --------------------------------------------------------------------------- module run

def check_params(params):
    """Refuse what the argument spec cannot, before the engine is asked."""
    older_than_seconds(params['older_than'])
    parse_label_rules(params['exclude_labels'])
    if params['timeout'] <= 0:
        raise PruneError('timeout must be a positive number of seconds, got %r' % params['timeout'])
    if params['timeout'] > MAX_TIMEOUT:
        raise PruneError('timeout must be at most %d seconds (a day), got %r' % (MAX_TIMEOUT, params['timeout']))
    for name in ('exclude_labels', 'exclude_names', 'image_inventory'):
        for value in params.get(name) or []:
            if has_control(value, allow=''):
                raise PruneError('%s: %r holds a NUL or control character' % (name, value))


def _all_ids(removed):
    return set(i['id'] for k in KINDS for i in removed[k])


def run(engine, params, check_mode=False, diff=False, now=None):
    """What ``cloudos_docker_prune`` returns: plan, then (unless ``check_mode``) remove.

    Raises :class:`PruneError` (with ``partial`` once anything was planned) for bad input and
    engine errors.
    """
    try:
        inventory = engine.inventory()
        result = plan(inventory, scope=params['scope'], older_than=params['older_than'],
                      exclude_labels=params['exclude_labels'], exclude_names=params['exclude_names'], now=now)
    except engine.errors.APIError as exc:
        raise PruneError('Docker engine at %s: %s' % (engine.url, exc))
    out = dict(changed=False, plan=public_plan(result), kept=result['keep'],
               removed=dict((k, []) for k in KINDS), not_removed=[], bytes_freed=0)
    if params['image_inventory']:
        patterns = [] if '*' in params['image_inventory'] else params['image_inventory']
        out['images'] = image_inventory(inventory['images'], patterns)
    if not result['count']:
        out['msg'] = 'nothing to remove'
        return out
    if check_mode:
        out.update(changed=True, bytes_freed=result['bytes'],
                   msg='would remove %d item(s), freeing %s' % (result['count'], human_size(result['bytes'])))
        if diff:
            out['diff'] = diff_of(result, removed_ids=_all_ids(result['remove']))
        return out
    try:
        done = apply(engine, result)
    except (PruneError, engine.errors.APIError) as exc:
        raise PruneError('Docker clean-up failed: %s' % exc, partial=out)
    removed_ids = _all_ids(done['removed'])
    out.update(removed=done['removed'], not_removed=done['not_removed'], bytes_freed=done['bytes_freed'],
               changed=bool(removed_ids))
    if diff:
        out['diff'] = diff_of(result, removed_ids=removed_ids)
    out['msg'] = 'removed %d item(s), freed %s; %d not removed (changed since the plan)' % (
        len(removed_ids), human_size(done['bytes_freed']), len(done['not_removed']))
    return out
