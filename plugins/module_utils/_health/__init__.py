# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes of the ``cloudos_health`` module: one file per section, shared logic in ``core``.

Private to this collection: no compatibility promise.
"""
