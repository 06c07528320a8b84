# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup sets for cloudos.ops: streaming archives, manifests, retention, safe restore.

Pure logic lives in ``retention``, ``sets`` (names, manifests) and ``plan`` (restore
comparisons); ``archive`` streams tar data through a compressor and extracts it with
member checks of its own; ``engine`` ties them together; ``states`` is what the module does
per ``state`` (option checks, set-list diffs, failures with results); ``host`` is the only part
that talks to Docker and runs commands.
"""
