# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The section runner and the thresholds model of ``cloudos_health`` and ``cloudos_security_facts``.

A check module is a :class:`Suite`: a registry of sections (:class:`SectionSpec`: a name, its
probe and the optional libraries the probe imports), a :class:`Thresholds` model, a time budget
and the words of the finding a hanging section becomes. The suite runs the selected probes in
parallel within the budget, turns a probe that raises or hangs into a critical finding, and
assembles the report every module of the pair returns (``host``, ``status``, ``checked_at``,
``duration_ms``, ``checks``, ``findings``, ``thresholds``). Adding a section is one registry
entry plus its probe; reports list sections in registry order.

Plain Python (no Ansible import): unit tests drive it with fake hosts and probes.

Private to this collection (the leading underscore): no compatibility promise.
"""

from __future__ import annotations

import importlib
import math
import os
import queue
import sys
import threading
import time

from collections import namedtuple

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    CRITICAL, SKIPPED, STATUS_RANK, rfc3339, set_c_locale, worst_status)

# --------------------------------------------------------------------------- thresholds


class ThresholdError(ValueError):
    """A bad ``thresholds`` entry; the message names the key and the value."""


class Thresholds:
    """Defaults plus the rules every user override must keep.

    ``rising`` lists ``(warning, critical)`` key pairs where a higher value is worse (the
    critical level must not be below the warning one); ``falling`` lists pairs where a lower
    value is worse (days left: the critical level must not be above the warning one).
    """

    def __init__(self, defaults, rising=(), falling=()):
        self.defaults = dict(defaults)
        self.rising = tuple(rising)
        self.falling = tuple(falling)

    def merge(self, user):
        """``user`` over the defaults, or raise :class:`ThresholdError` naming the key and value.

        A value is a number or a numeric string with an optional ``%`` (``"90%"``, as people
        write it in YAML); booleans, NaN, negative numbers and unknown keys are refused.
        """
        merged = dict(self.defaults)
        if user is None:
            return merged
        if not isinstance(user, dict):
            raise ThresholdError('thresholds must be a dict, got %r' % (user,))
        for key, value in user.items():
            if key not in self.defaults:
                raise ThresholdError('thresholds: unknown key %r (value %r); known keys: %s'
                                     % (key, value, ', '.join(sorted(self.defaults))))
            merged[key] = threshold_number(key, value)
        for warn, crit in self.rising:
            if merged[crit] < merged[warn]:
                raise ThresholdError('thresholds.%s=%r is below thresholds.%s=%r' % (crit, merged[crit], warn, merged[warn]))
        for warn, crit in self.falling:
            if merged[crit] > merged[warn]:
                raise ThresholdError('thresholds.%s=%r is above thresholds.%s=%r' % (crit, merged[crit], warn, merged[warn]))
        return merged


def threshold_number(key, value):
    """``value`` of ``thresholds.<key>`` as an ``int`` (a whole number) or a ``float``."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip().rstrip('%'))
        except ValueError:
            number = None
    shown = value
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) > 2 ** 53:
        # A huge whole number: refused below, never an OverflowError (nor printed in full).
        digits = str(value)[:12] if value.bit_length() < 10000 else ''
        number, shown = math.inf, '%s (a %d-bit number)' % (digits, value.bit_length())
    if isinstance(number, bool) or not isinstance(number, (int, float)) or math.isnan(number) or math.isinf(number):
        raise ThresholdError('thresholds.%s must be a number, got %.40r' % (key, shown))
    if number < 0:
        raise ThresholdError('thresholds.%s must not be negative, got %r' % (key, value))
    return int(number) if float(number).is_integer() else float(number)


# --------------------------------------------------------------------------- concurrency

def run_parallel(calls, wait):
    """Run ``calls`` (name -> zero-argument callable) in daemon threads.

    Returns name -> ``('ok', value)``, ``('error', exception)`` or ``('timeout', None)``
    once all are done or ``wait`` seconds have passed, whichever comes first. Threads
    still running are abandoned: they are daemons, so they never delay the process exit
    (a ``ThreadPoolExecutor`` would join them at interpreter shutdown).
    """
    results = {}
    done = queue.Queue()

    def worker(name, func):
        try:
            done.put((name, 'ok', func()))
        except Exception as exc:  # pylint: disable=broad-except
            done.put((name, 'error', exc))

    for name, func in calls.items():
        thread = threading.Thread(target=worker, args=(name, func), name='health-%s' % name)
        thread.daemon = True
        thread.start()
    deadline = time.monotonic() + wait
    while len(results) < len(calls):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            name, kind, value = done.get(timeout=left)
        except queue.Empty:
            break
        results[name] = (kind, value)
    for name in calls:
        results.setdefault(name, ('timeout', None))
    return results


# --------------------------------------------------------------------------- registry and runner

class SectionSpec(namedtuple('SectionSpec', 'name probe libraries needs prepare')):
    """One section of a check module.

    ``probe(host, params, thresholds)`` returns the section (a ``_health.core.Section``).
    ``libraries`` are the optional modules the probe imports; they are imported before any
    probe thread starts (see :meth:`Suite.preload`), and only when ``needs(params, exists,
    environ)`` says there is something to ask (no ``needs``: always). ``prepare(host)``, when
    given, runs in the calling thread before the libraries load.
    """

    __slots__ = ()

    def __new__(cls, name, probe, libraries=(), needs=None, prepare=None):
        return super().__new__(cls, name, probe, tuple(libraries), needs, prepare)


def _not_selected():
    return {'status': SKIPPED, 'summary': 'not selected (checks option)', 'metrics': {}, 'findings': []}


def bypass_distutils_shim(environ, meta_path):
    """Let ``import distutils`` find Python's own distutils (3.11 and older), not setuptools' copy.

    The Docker SDK 5 (Debian 12's python3-docker) imports distutils. setuptools' stand-in is put on
    ``sys.meta_path`` at interpreter start by ``distutils-precedence.pth``; once there it imports
    ``setuptools._distutils`` and ``pkg_resources`` (about 0.12 s of CPU per run) whatever
    ``SETUPTOOLS_USE_DISTUTILS`` says later. So its finder is taken off ``meta_path`` before the
    import, unless the user asked for setuptools' copy (``SETUPTOOLS_USE_DISTUTILS=local``).
    Returns how many finders were removed.
    """
    if environ.get('SETUPTOOLS_USE_DISTUTILS') == 'local':
        return 0
    shims = [f for f in meta_path if type(f).__module__ == '_distutils_hack']
    for finder in shims:
        meta_path.remove(finder)
    return len(shims)


class Suite:
    """The sections of one check module, how long they may take and how they are reported.

    ``budget(params)`` is the number of seconds the probes may run together; ``hang`` is the
    ``(summary, message, action)`` of the finding of a section still running when it is spent
    (``str.format`` fields: ``name``, ``budget``, ``timeout``). ``param_defaults`` fills the
    parameters that shared probes read but the module has no option for.
    """

    def __init__(self, sections, thresholds, budget, hang, param_defaults=None):
        self.sections = tuple(sections)
        self.names = tuple(spec.name for spec in self.sections)
        self.thresholds = thresholds
        self.budget = budget
        self.hang = hang
        self.param_defaults = dict(param_defaults or {})
        self._specs = dict((spec.name, spec) for spec in self.sections)

    def with_probes(self, **probes):
        """The same suite with some probes replaced (name -> probe), for tests."""
        specs = [spec._replace(probe=probes.get(spec.name, spec.probe)) for spec in self.sections]
        return Suite(specs, self.thresholds, self.budget, self.hang, self.param_defaults)

    def select(self, checks):
        """The sections ``checks`` names, in registry order (``all``, or nothing named: every one)."""
        if not checks or 'all' in checks:
            return list(self.names)
        return [name for name in self.names if name in checks]

    def preload(self, selected, params, importer=importlib.import_module, exists=os.path.exists, environ=None,
                version=sys.version_info, imported=None, meta_path=None):
        """Import the optional libraries the selected sections will use, in the calling thread.

        Probes run in threads while other probes start processes through run_command, whose
        fork runs Python's at-fork handlers (they take the logging lock, then the import lock).
        A thread importing a library at that moment can deadlock the module: the Docker SDK 5
        (Debian 12) imports distutils, whose setuptools shim imports under the global import
        lock and asks for the logging lock. Importing before any probe thread exists avoids it.
        Returns the names it loaded; a missing library is left for its probe to report.
        """
        environ = os.environ if environ is None else environ
        imported = sys.modules if imported is None else imported
        meta_path = sys.meta_path if meta_path is None else meta_path
        wanted = []
        for name in selected:
            spec = self._specs[name]
            if spec.libraries and (spec.needs is None or spec.needs(params, exists, environ)):
                wanted.extend(lib for lib in spec.libraries if lib not in wanted)
        if 'docker' in wanted and 'distutils' not in imported and tuple(version[:2]) < (3, 12):
            bypass_distutils_shim(environ, meta_path)
        loaded = []
        for name in wanted:
            try:
                importer(name)
                loaded.append(name)
            except Exception:  # pylint: disable=broad-except
                pass
        return loaded

    def run(self, host, params, thresholds, host_name=None):
        """Run the selected probes concurrently within the budget; return the report dict.

        A probe that raises becomes a critical finding; one still running when the budget is
        spent becomes a critical finding saying so, and is abandoned: the module answers in time.
        """
        started_at = host.now()
        t0 = host.monotonic()
        params = dict(self.param_defaults, **params)
        selected = self.select(params['checks'])
        for name in selected:
            if self._specs[name].prepare is not None:
                self._specs[name].prepare(host)
        self.preload(selected, params)
        budget = self.budget(params)
        raw = run_parallel(dict((name, _bind(self._specs[name].probe, host, params, thresholds)) for name in selected),
                           budget)
        sections = {}
        for name in selected:
            kind, value = raw[name]
            if kind == 'ok':
                data = value.as_dict()
            elif kind == 'timeout':
                words = dict(name=name, budget=budget, timeout=params['timeout'])
                data = _failed(name, *(text.format(**words) for text in self.hang))
            else:
                data = _failed(name, 'probe error',
                               'the %s check failed unexpectedly: %s: %s' % (name, type(value).__name__, value),
                               'Report this as a cloudos.ops bug with the message; check %s by hand meanwhile' % name)
            for finding in data['findings']:
                finding['check'] = name
            sections[name] = data
        duration_ms = int((host.monotonic() - t0) * 1000)
        return self.assemble(host_name or host.hostname(), started_at, duration_ms, sections, thresholds)

    def assemble(self, host_name, started_at, duration_ms, sections, thresholds):
        """The report dict from section dicts (name -> dict); sections not given are ``skipped``."""
        checks = {}
        findings = []
        for name in self.names:
            checks[name] = sections[name] if name in sections else _not_selected()
            findings.extend(checks[name]['findings'])
        order = dict((name, index) for index, name in enumerate(self.names))
        findings.sort(key=lambda f: (-STATUS_RANK[f['severity']], order.get(f['check'], len(order))))
        return {
            'host': host_name,
            'status': worst_status(c['status'] for c in checks.values()),
            'checked_at': rfc3339(started_at),
            'duration_ms': duration_ms,
            'checks': checks,
            'findings': findings,
            'thresholds': dict(thresholds),
        }


def _bind(func, host, params, thresholds):
    return lambda: func(host, params, thresholds)


def _failed(name, summary, message, action):
    """The dict of a section whose probe gave no answer: one critical finding."""
    return {'status': CRITICAL, 'summary': summary, 'metrics': {},
            'findings': [{'check': name, 'severity': CRITICAL, 'message': message, 'action': action}]}


# --------------------------------------------------------------------------- module glue

def run_module(module, suite, host_class, validate_params, fact, export=None):
    """The whole ``main()`` of a check module after ``AnsibleModule``: validate, run, exit.

    Bad thresholds or parameters fail the module before anything runs; every command runs
    with the C locale; the report is returned as ``fact``. The checks change nothing (check
    mode is the same run); ``export(module, report)``, when given, may write the report
    somewhere and returns the result keys that say so (``changed``, ``diff``, ...).
    """
    params = dict(module.params)
    try:
        thresholds = suite.thresholds.merge(params['thresholds'])
    except ThresholdError as exc:
        module.fail_json(msg=str(exc))
    error = validate_params(params)
    if error:
        module.fail_json(msg=error)
    set_c_locale(module)
    host = host_class(timeout=params['timeout'], validate_certs=params['validate_certs'],
                      docker_host=params.get('docker_host'), docker_params=params,
                      run_command=lambda args, data=None: module.run_command(
                          args, data=data, binary_data=True, expand_user_and_vars=False))
    report = suite.run(host, params, thresholds, host_name=params['host'])
    result = {'changed': False, fact: report}
    result.update(export(module, report) if export else {})
    module.exit_json(**result)
