# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for cloudos.ops.fleet_report: render the fleet report and write it on the controller."""

from __future__ import annotations

import glob
import json
import os
import shutil

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cloudos.ops.plugins.module_utils._common import (
    DurationError, parse_duration, parse_time, rfc3339, utcnow, write_atomic)
from ansible_collections.cloudos.ops.plugins.plugin_utils import _report, _report_history, _report_notify

ARGUMENT_SPEC = dict(
    dest=dict(type='path', required=True),
    hosts=dict(type='list', elements='str'),
    results=dict(type='dict'),
    result_var=dict(type='str'),
    result_key=dict(type='str', default='health'),
    formats=dict(type='list', elements='str', choices=list(_report.RENDERERS),
                 default=list(_report.DEFAULT_FORMATS)),
    title=dict(type='str', default='Fleet report'),
    kind=dict(type='str', default='report'),
    fail_on=dict(type='str', choices=list(_report.FAIL_ON), default='critical'),
    thresholds=dict(type='dict'),
    columns=dict(type='list', elements='str'),
    started_at=dict(type='str'),
    metadata=dict(type='dict'),
    latest_link=dict(type='str'),
    reports=dict(type='list', elements='path'),
    history=dict(type='bool', default=False),
    keep=dict(type='int', default=0),
    junit_fail_on=dict(type='str', choices=['warning', 'critical']),
    notify_reminder=dict(type='str'),
    report_url=dict(type='str', default=''),
)


def _same_content(path, data):
    try:
        with open(path, 'rb') as handle:
            return handle.read() == data
    except OSError:
        return False


def link_latest(dest, name):
    """Point ``<parent of dest>/<name>`` at ``dest`` (relative link, replaced atomically)."""
    parent = os.path.dirname(os.path.abspath(dest))
    link = os.path.join(parent, name)
    if os.path.lexists(link) and not os.path.islink(link):
        return None, '%s exists and is not a symbolic link: left alone' % link
    target = os.path.basename(os.path.abspath(dest))
    if os.path.islink(link) and os.readlink(link) == target:
        return link, None
    tmp = os.path.join(parent, '.%s.%d.tmp' % (name, os.getpid()))
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    return link, None


def report_files(sources):
    """report.json files of ``sources``: files, directories (their report.json, or latest/report.json
    of a report root), glob patterns of either. A pattern that matches nothing is an error."""
    files = []
    for source in sources:
        matches = sorted(glob.glob(os.path.expanduser(source))) if glob.has_magic(source) else [os.path.expanduser(source)]
        if not matches:
            raise AnsibleActionFail('fleet_report: no report matches %s' % source)
        for path in matches:
            if os.path.isdir(path):
                found = [p for p in (os.path.join(path, 'report.json'), os.path.join(path, 'latest', 'report.json'))
                         if os.path.isfile(p)]
                path = found[0] if found else os.path.join(path, 'report.json')
            files.append(path)
    return files


def read_reports(sources):
    """Host entries of report.json files written before (job slices): {host: entry}. A file
    named twice (or through a link) is read once; a host in several reports: its newest check."""
    entries, seen = {}, set()
    for path in report_files(sources):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            with open(real, 'rb') as handle:
                data = json.loads(handle.read().decode('utf-8'))
        except (OSError, ValueError) as exc:
            raise AnsibleActionFail('fleet_report: cannot read the report %s: %s' % (path, to_native(exc)))
        if not isinstance(data, dict) or data.get('schema') != _report.SCHEMA or not isinstance(data.get('hosts'), list):
            raise AnsibleActionFail('fleet_report: %s is not a fleet report (%s)' % (path, _report.SCHEMA))
        for raw in data['hosts']:
            entry = _report.host_entry(raw.get('host'), raw.get('status'), checks=raw.get('checks'),
                                       findings=raw.get('findings'), thresholds=raw.get('thresholds'),
                                       checked_at=raw.get('checked_at'), duration_ms=raw.get('duration_ms'),
                                       error=raw.get('error'))
            old = entries.get(entry['host'])
            if old is None or (entry['checked_at'] or '') >= (old['checked_at'] or ''):
                entries[entry['host']] = entry
    return entries


def _subdirs(root):
    try:
        return [n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)) and not os.path.islink(os.path.join(root, n))]
    except OSError:
        return []


def previous_run(dest):
    """``(run id, path, report)`` of the newest complete run next to ``dest`` (not ``dest``)."""
    root = os.path.dirname(dest)
    name, data = _report_history.previous_run_dir(
        _subdirs(root), os.path.basename(dest), lambda n: _report_history.read_report(os.path.join(root, n, 'report.json')))
    return (name, os.path.join(root, name), data) if name else (None, None, None)


def prune_runs(dest, keep, latest=None):
    """Remove run directories next to ``dest`` beyond the newest ``keep`` (never ``dest`` nor what
    ``latest`` points at); the removed paths."""
    root = os.path.dirname(dest)
    protected = []
    if latest and os.path.islink(os.path.join(root, latest)):
        protected.append(os.path.basename(os.path.realpath(os.path.join(root, latest))))
    removed = []
    for name in _report_history.prune_candidates(_subdirs(root), keep, os.path.basename(dest), protected):
        path = os.path.join(root, name)
        shutil.rmtree(path)
        removed.append(path)
    return removed


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _gather(self, args, task_vars):
        results = dict(args['results'] or {})
        previous = read_reports(args['reports'] or [])
        hosts = list(args['hosts'] if args['hosts'] is not None else list(results) + list(previous))
        if not hosts and not results:
            raise AnsibleActionFail('fleet_report: give hosts (e.g. "{{ ansible_play_hosts_all }}"), results or reports')
        if args['result_var']:
            hostvars = task_vars.get('hostvars', {})
            for host in hosts:
                if host in results or host in previous:
                    continue
                try:
                    value = hostvars[host].get(args['result_var']) if host in hostvars else None
                except Exception as exc:  # undefined or untemplatable variable of one host
                    value = {'failed': True, 'msg': 'could not read %s: %s' % (args['result_var'], to_native(exc))}
                if value is not None:
                    results[host] = value
        for host in results:
            if host not in hosts:
                hosts.append(host)
        entries = []
        for host in hosts:
            if host not in results and host in previous:
                entries.append(previous[host])
                continue
            result = results.get(host)
            try:
                entries.append(_report.normalize_result(host, result, key=args['result_key']))
            except _report.ReportError as exc:
                raise AnsibleActionFail('fleet_report: %s' % exc)
        return entries

    @staticmethod
    def _notification(report, dest, args):
        """Whether to notify (``_report_notify.decide``) and where to remember it."""
        if 'changes' not in report:
            raise AnsibleActionFail('fleet_report: notify_reminder needs history=true')
        try:
            reminder = parse_duration(args['notify_reminder'], 'notify_reminder', allow_zero=True)
        except DurationError as exc:
            raise AnsibleActionFail('fleet_report: %s' % exc)
        state_file = os.path.join(os.path.dirname(dest), _report_notify.STATE_FILE)
        try:
            with open(state_file, 'rb') as handle:
                state = json.loads(handle.read().decode('utf-8'))
        except (OSError, ValueError):
            state = None
        url = args['report_url'] or ('file://' + os.path.join(dest, 'report.html'))
        decision = _report_notify.decide(report, state if isinstance(state, dict) else None, utcnow(), reminder, url)
        decision['state_file'] = state_file
        return decision

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        if not args['formats']:
            raise AnsibleActionFail('fleet_report: formats must name at least one of %s (got an empty list)'
                                    % ', '.join(_report.RENDERERS))
        latest = args['latest_link']
        if latest and ('/' in latest or latest in ('.', '..')):
            raise AnsibleActionFail('fleet_report: latest_link=%r must be a plain file name' % latest)
        entries = self._gather(args, task_vars)

        started = args['started_at']
        if not started:
            times = sorted(e['checked_at'] for e in entries if isinstance(e['checked_at'], str) and parse_time(e['checked_at']))
            started = times[0] if times else None
        try:
            report = _report.build_report(
                entries, title=args['title'], kind=args['kind'], started_at=started, finished_at=rfc3339(utcnow()),
                fail_on=args['fail_on'], thresholds=args['thresholds'],
                metadata=dict((k, v) for k, v in (args['metadata'] or {}).items() if v not in (None, '')),
                columns=args['columns'])
            if args['junit_fail_on']:
                report['summary']['junit_fail_on'] = args['junit_fail_on']
        except _report.ReportError as exc:
            raise AnsibleActionFail('fleet_report: %s' % exc)

        dest = os.path.abspath(os.path.expanduser(args['dest']))
        if args['history']:
            run_id, path, previous = previous_run(dest)
            _report_history.compare(report, previous, run_id, path)
            result['changes'] = report['changes']
            result['previous_run'] = report['previous_run']
        if args['notify_reminder'] is not None:
            result['notification'] = self._notification(report, dest, args)
        try:
            rendered = _report.render_all(report, args['formats'])
        except _report.ReportError as exc:
            raise AnsibleActionFail('fleet_report: %s' % exc)
        files = dict((fmt, os.path.join(dest, name)) for fmt, (name, text) in rendered.items())
        result.update(dest=dest, files=files, summary=report['summary'], changed=False)

        if self._task.check_mode:
            result['changed'] = True
            result['msg'] = 'check mode: would write %s' % ', '.join(sorted(files.values()))
            return result

        if os.path.exists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail('fleet_report: dest=%s exists and is not a directory' % dest)
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest)
                result['changed'] = True
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
            for fmt, (name, text) in rendered.items():
                data = to_bytes(text, errors='surrogate_or_strict')
                if _same_content(files[fmt], data):
                    continue
                write_atomic(files[fmt], data, mode=mode)
                result['changed'] = True
            if args['latest_link']:
                link, warning = link_latest(dest, args['latest_link'])
                if warning:
                    result.setdefault('warnings', []).append(warning)
                if link:
                    result['latest'] = link
            if args['history'] and args['keep'] > 0:
                result['pruned'] = prune_runs(dest, args['keep'], args['latest_link'])
        except OSError as exc:
            raise AnsibleActionFail('fleet_report: cannot write the report into %s: %s' % (dest, to_native(exc)))

        counts = ', '.join('%d %s' % (n, s) for s, n in report['summary']['status_counts'].items() if n)
        result['msg'] = 'fleet report written to %s (%s)' % (dest, counts or 'no host')
        return result
