# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import the modules of a module's payload zip with one compile each, not two.

An AnsiballZ payload carries Python source, not bytecode, and the host imports it from a zip
with ``zipimport``. For every module it imports from a zip, CPython (3.9 to 3.13 at least)
compiles the source twice: once to find the module's file name (``zipimporter.find_spec`` ->
``importlib.util.spec_from_loader`` -> ``get_filename``, which compiles to decide where the code
would come from) and once more to run it (``get_code``). That second compile of every module
the run imports is pure waste, and on a host it is a large part of what a module run costs.

Importing this module puts :class:`ZipSpecFinder` on ``sys.meta_path`` (once), just before the
path finder: built-in and frozen modules are still found first, and the path-based search, which
serves zips, sees it ahead of itself. It answers
only for modules inside a zip that ``zipimport`` already serves, building the module's spec
from the zip's table of contents (``is_package``: no compile) with the same origin and package
path ``zipimport`` would give; the module is then compiled once, by ``get_code``. For anything
else (a module outside the zip, a directory entry before the zip on the path, a namespace
package), it steps aside and the normal import machinery decides, so what is imported and from
where does not change: only how often it is compiled. Outside a payload (tests, ansible-test,
Mitogen, which imports modules its own way) it finds nothing to do.

Import it before the modules that should profit: the modules loaded before it (AnsiballZ's
own, ``ansible.module_utils.basic``) were compiled twice already.
"""

from __future__ import annotations

import os
import sys
import zipimport
from importlib.machinery import ModuleSpec, PathFinder


def _zip_importer(entry):
    """The ``zipimporter`` that serves the path entry ``entry``, or None when a zip does not serve it."""
    importer = sys.path_importer_cache.get(entry)
    if isinstance(importer, zipimport.zipimporter):
        return importer
    if importer is not None or not isinstance(entry, str):
        return None
    # A package directory inside a zip we already import from (the package's __path__ entry),
    # before the path machinery has made an importer for it: make it as that machinery would.
    if not any(isinstance(known, zipimport.zipimporter) and entry.startswith(known.archive + os.sep)
               for known in list(sys.path_importer_cache.values())):
        return None
    try:
        importer = zipimport.zipimporter(entry)
    except zipimport.ZipImportError:
        return None
    sys.path_importer_cache[entry] = importer
    return importer


class ZipSpecFinder:
    """A meta path finder for modules in a zip, whose specs cost no compile (see the module's text)."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):  # pylint: disable=unused-argument
        for entry in sys.path if path is None else path:
            importer = _zip_importer(entry)
            if importer is None:
                return None  # not a zip: the path machinery searches from here, in its own order
            try:
                is_package = importer.is_package(fullname)
            except zipimport.ZipImportError:
                continue  # not in this zip
            base = os.path.join(importer.archive, importer.prefix, fullname.rpartition('.')[2])
            spec = ModuleSpec(fullname, importer, origin=os.path.join(base, '__init__.py') if is_package else base + '.py',
                              is_package=is_package)
            spec.has_location = True
            if is_package:
                spec.submodule_search_locations = [base]
            return spec
        return None

    @classmethod
    def invalidate_caches(cls):
        """Nothing is cached here (``importlib.invalidate_caches`` calls this)."""


def install():
    """Put :class:`ZipSpecFinder` on ``sys.meta_path`` just before ``PathFinder`` (at the end when there is
    none) unless it is there; idempotent."""
    if any(getattr(finder, '__name__', None) == ZipSpecFinder.__name__ and
           getattr(finder, '__module__', None) == __name__ for finder in sys.meta_path):
        return
    position = next((index for index, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
    sys.meta_path.insert(position, ZipSpecFinder)


install()
