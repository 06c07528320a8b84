# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes of the read-only check modules (``cloudos.ops.attributes.read_only``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options: {}
'''

    READ_ONLY = r'''
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details: Read-only; the result under C(--check) is the same.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: none
    details: Nothing is changed, so there is nothing to diff.
'''

    # cloudos.ops.attributes.controller: an action that runs once on the controller for the play.
    CONTROLLER = r'''
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
'''
