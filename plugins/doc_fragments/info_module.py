# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check and diff mode of every read-only ``*_info`` module (``cloudos.ops.info_module``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
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
