# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each import loads: the health sections read alerts through ``_alertmanager`` and do not
load the silence logic of ``_silences`` (its source and its regular expressions are work on every
managed host of every ``cloudos_health`` run).

Each case runs in a fresh interpreter, so what this test process imported before does not count.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

UTILS = 'ansible_collections.cloudos.ops.plugins.module_utils'
ALERTMANAGER = UTILS + '._alertmanager'
SILENCES = UTILS + '._silences'
SILENCE_MODULE = 'ansible_collections.cloudos.ops.plugins.modules.alertmanager_silence'


def loaded_after(module):
    """The ``module_utils`` modules in ``sys.modules`` of a fresh interpreter that imported ``module``."""
    code = ('import importlib, sys; importlib.import_module(%r); '
            'print("\\n".join(sorted(m for m in sys.modules if m.startswith(%r))))' % (module, UTILS))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return out.stdout.split()


def test_health_sections_do_not_load_the_silence_logic():
    loaded = loaded_after(UTILS + '._health.registry')
    assert ALERTMANAGER in loaded  # the alerts and monitoring sections use the client
    assert SILENCES not in loaded


@pytest.mark.parametrize('module', [ALERTMANAGER, SILENCES, SILENCE_MODULE])
def test_the_silence_logic_is_seen_when_imported(module):
    """The silence logic is seen when it is imported, and it brings the client it runs through;
    the client alone does not bring it."""
    loaded = loaded_after(module)
    assert ALERTMANAGER in loaded
    assert (SILENCES in loaded) == (module != ALERTMANAGER)
