# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``cloudos.ops.cloudos_backup`` does for each ``state``: checks of the options beyond the
argument spec, the call into :mod:`engine`, the diff of the set list and the failures that carry
a result. Plain functions; the module only builds the :class:`Host` and reports.
"""

from __future__ import annotations

import traceback

from ansible_collections.cloudos.ops.plugins.module_utils._backup import engine, retention, sets
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError

DEFAULT_PATHS = ['/etc/cloudos', '/opt/cloudos/config']
MAX_STOP_TIMEOUT = 86400


class Failed(BackupError):
    """A failure the module reports with more than a message: ``details`` go into ``fail_json``."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.details = details


def failure(exc):
    """``fail_json`` keyword arguments for a BackupError (message first, then any details)."""
    return sets.printable(dict(getattr(exc, 'details', {}), msg=str(exc)))


def _strings(name, value):
    """``(option name, string)`` for every string in an option's value (lists and dicts walked)."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for number, item in enumerate(value):
            yield from _strings('%s[%d]' % (name, number), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings('%s.%s' % (name, key), item)


def check_params(params):
    """A copy of the module's ``params`` with retention rules left unset dropped; negative numbers refused."""
    params = dict(params)
    for name in sorted(params):
        for option, text in _strings(name, params[name]):
            if '\0' in text:
                raise BackupError('%s: %r contains a NUL byte' % (option, text))
    if params.get('retention'):
        params['retention'] = dict((k, v) for k, v in params['retention'].items() if v is not None)
        for key, value in params['retention'].items():
            if value < 0:
                raise BackupError('retention.%s: %d is negative' % (key, value))
        try:
            retention.validate_policy(params['retention'])
        except ValueError as exc:
            raise BackupError(str(exc))
    if params.get('stop_timeout', 30) < 0:
        raise BackupError('stop_timeout: %d is negative' % params['stop_timeout'])
    if params.get('stop_timeout', 30) > MAX_STOP_TIMEOUT:
        raise BackupError('stop_timeout: %d is more than %d seconds' % (params['stop_timeout'], MAX_STOP_TIMEOUT))
    if params.get('state') == 'restored' and params.get('backup_id') == 'all':
        raise BackupError("backup_id: 'all' selects every set; a restore reads one (omit backup_id or use latest)")
    return params


def set_list(dest):
    """The ids of the complete sets in ``dest``, one a line (the text of the diff); empty when unreadable."""
    try:
        complete, _others = sets.list_sets(dest)
    except BackupError:
        return ''
    return _lines(item['id'] for item in complete)


def _lines(ids):
    return ''.join('%s\n' % i for i in ids)


def _ids(text, leaving=()):
    return [i for i in text.split('\n') if i and i not in leaving]


def _doomed(result):
    return set(d['id'] for d in (result.get('retention') or {}).get('delete', []))


def present(params, host, check_mode=False):
    if params.get('paths') is None:
        params['paths'] = list(DEFAULT_PATHS)
    before = set_list(params['dest'])
    result = engine.create_set(params, host, check_mode=check_mode)
    if result['changed']:
        if check_mode:
            ids = _ids(before, _doomed(result))
            if result['backup_id'] not in ids:
                ids.append(result['backup_id'])
            after = _lines(sorted(ids))
        else:
            after = set_list(params['dest'])
        header = '%s (sets)' % params['dest']
        result['diff'] = {'before_header': header, 'before': before, 'after_header': header, 'after': after}
    return result


def pruned(params, check_mode=False):
    before = set_list(params['dest'])
    result = engine.prune(params, check_mode=check_mode)
    if result['changed']:
        result['diff'] = {'before': before, 'after': _lines(_ids(before, _doomed(result)))}
    return result


def _mismatches(report):
    return ', '.join('%s: %s' % (m['file'], m['problem']) for m in report['mismatches'])


def verified(params):
    result = engine.verify(params)
    if not result['ok'] and params.get('fail_on_mismatch', True):
        bad = [r for r in result['verified'] if not r['ok']]
        raise Failed('%d set(s) do not verify: %s' % (len(bad), '; '.join(
            '%s (%s)' % (r['backup_id'], _mismatches(r)) for r in bad)), **result)
    return result


def restored(params, host, check_mode=False, diff_mode=False):
    result = engine.restore(params, host, check_mode=check_mode, diff_mode=diff_mode)
    if not diff_mode or not result['diff']:
        result.pop('diff', None)
    bad = [c for c in result.get('compare', []) if c.get('manifest') and not c['manifest']['ok']]
    if bad:
        raise Failed('restored files differ from the backup index: %s'
                     % ', '.join('%s (%d problems)' % (c['name'], len(c['manifest']['problems'])) for c in bad),
                     **result)
    return result


def run(params, host, check_mode=False, diff_mode=False):
    """The module's result for ``params['state']``. Raises BackupError (:func:`failure` shapes it)."""
    params = check_params(params)
    return sets.printable(_run(params, host, check_mode, diff_mode))


def _run(params, host, check_mode, diff_mode):
    state = params['state']
    try:
        if state == 'present':
            return present(params, host, check_mode)
        if state == 'pruned':
            return pruned(params, check_mode)
        if state == 'verified':
            return verified(params)
        return restored(params, host, check_mode, diff_mode)
    except (IOError, OSError, UnicodeError) as exc:
        raise Failed('%s: %s' % (state, exc), exception=traceback.format_exc())
