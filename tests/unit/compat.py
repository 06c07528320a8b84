"""Test-side compatibility with the oldest ansible-core that meta/runtime.yml allows (2.17).

``patch_module_args`` is ansible-core's own (ansible.module_utils.testing, 2.19+) when it exists;
on older cores an equivalent context manager that hands the arguments to AnsibleModule the way
those cores read them (``ansible.module_utils.basic._ANSIBLE_ARGS``). Module tests import it from
here: ``from tests.unit.compat import patch_module_args``.
"""

from __future__ import annotations

import contextlib
import json

from unittest import mock

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic as _basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to AnsibleModule instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError('The `args` arg must be a dict or None.')
        data = json.dumps({'ANSIBLE_MODULE_ARGS': dict(args or {})}).encode()
        with mock.patch.object(_basic, '_ANSIBLE_ARGS', data):
            yield
