# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by several modules (``cloudos.ops.attributes.<name>``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options: {}
'''

    # cloudos.ops.attributes.read_only: a module that only reads (the same result in check mode,
    # nothing to show in a diff).
    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make.
    support: full
    details: Read-only; the same result in check mode.
  diff_mode:
    description: Returns details on what changed (or would change) in C(diff).
    support: none
'''
