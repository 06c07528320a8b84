# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``result | cloudos.ops.health_textfile``: one host's cloudos_health result as a node-exporter
textfile (see ``module_utils/_health/textfile.py``; documentation in ``health_textfile.yml``)."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._health import textfile as _textfile


def health_textfile(health, now=None):
    return _textfile.textfile(health, now=now)


class FilterModule:

    def filters(self):
        return {'health_textfile': health_textfile}
