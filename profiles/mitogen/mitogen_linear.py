# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mitogen's ``mitogen_linear`` strategy, with the installed collections listed once per run.

profiles/mitogen.sh puts this directory ahead of Mitogen's own strategy directory, so that
``ANSIBLE_STRATEGY=mitogen_linear`` finds this file: the same strategy (Mitogen's mixin on
ansible-core's linear strategy), with one change. For every task that runs a module from a
collection, Mitogen (``ansible_mitogen.planner._load_collections``, 0.3.54) lists every
installed collection (``ansible.collections.list.list_collection_dirs``, which reads each
collection's metadata) to tell the host where collections live, and it does so in the worker
that Ansible forks for that host and task: with the hundred collections of the ``ansible``
package that is about 0.1 to 0.2 CPU-seconds of the controller per host. The list cannot change
during a run, so here it is made once, before the first worker is forked, and every worker
inherits it.
"""

from __future__ import annotations

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.planner
    import ansible_mitogen.strategy
except ImportError as exc:  # pragma: no cover - the profile checks this before it sets the strategy
    raise ImportError('the mitogen_linear strategy of profiles/mitogen needs mitogen installed '
                      '(pip install mitogen==0.3.54): %s' % exc) from exc

import ansible.collections.list

_COLLECTION_DIRS = []


def _load_collections(invocation):
    """What ``ansible_mitogen.planner._load_collections`` does, from the list made once."""
    invocation._extra_sys_paths.update(_COLLECTION_DIRS)  # pylint: disable=protected-access


def _list_collections_once():
    if not _COLLECTION_DIRS:
        _COLLECTION_DIRS.extend(path.decode('utf-8') for path in ansible.collections.list.list_collection_dirs())
    ansible_mitogen.planner._load_collections = _load_collections  # pylint: disable=protected-access


# ansible-core's linear strategy, as Mitogen's own mitogen_linear takes it.
Linear = ansible_mitogen.loaders.strategy_loader.get('linear', class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Linear):
    """``mitogen_linear`` (ansible_mitogen/plugins/strategy/mitogen_linear.py), collections listed once."""

    def run(self, iterator, play_context):
        _list_collections_once()
        return super().run(iterator, play_context)
