"""Make this checkout importable as ``ansible_collections.cloudos.ops`` for pytest.

The repository root is the collection root. Tests import the collection's code by its
real name, so ``.collections/ansible_collections/cloudos/ops`` is a symlink to this
directory (``make setup`` creates it; this file creates it too when it is missing).
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, '.collections')
LINK = os.path.join(COLLECTIONS, 'ansible_collections', 'cloudos', 'ops')

if not os.path.lexists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(os.path.relpath(ROOT, os.path.dirname(LINK)), LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
