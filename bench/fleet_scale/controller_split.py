"""Where the controller's CPU goes in one Ansible command, across its forked workers.

    .venv/bin/python bench/fleet_scale/controller_split.py [--rate 100] [--raw FILE] -- <command ...>

e.g. ``-- .venv/bin/ansible-playbook -i hosts.yml playbooks/daily_health.yml``. Runs the command
under the ``py-spy`` sampling profiler (``py-spy record --subprocesses``, requirements-dev.txt),
so that the worker processes Ansible forks for every host and task are sampled as well as the
main process, and prints the samples in which a Python thread was running, by where they were:

* ``startup``: imports and set-up before the playbook runs;
* ``strategy: ...``: the main process's task loop, split into computing each host's variables
  (``get_vars``), loading plugins, processing results, callbacks, the rest;
* ``fork``: the main process forking a worker (one per host and task);
* ``worker: ...``: a worker, split into building the module payload (``_configure_module``),
  running the action (connection, transfer, waiting on the host) and the rest of TaskExecutor.

Samples of a waiting thread (a lock, a queue, a socket, a child) are left out. The counts are
samples, not seconds; compare the shares of two commands measured the same way.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The innermost frame of a thread that is waiting, not running.
IDLE = frozenset(('accept', '_recv', 'wait', 'select', 'poll', 'sleep', 'get', 'recv_bytes', 'readinto', 'read',
                  'waitpid', '_try_wait', 'communicate', '_communicate', 'acquire'))
STRATEGY_PARTS = (
    ('VariableManager.get_vars', 'strategy: get_vars (per host and task)'),
    ('PluginLoader.get', 'strategy: loading plugins'),
    ('StrategyBase._process_pending_results', 'strategy: processing results'),
    ('StrategyBase._wait_on_pending_results', 'strategy: processing results'),
    ('TaskQueueManager.send_callback', 'strategy: callbacks'),
    ('StrategyBase._load_included_file', 'strategy: includes'),
    ('IncludedFile.process_include_results', 'strategy: includes'),
)
WORKER_PARTS = (
    ('ActionBase._configure_module', 'worker: building the module payload'),
    ('ActionBase._low_level_execute_command', 'worker: running commands on the host'),
    ('ActionBase._transfer_data', 'worker: copying the payload'),
)


def frames(line):
    stack, count = line.rstrip('\n').rsplit(' ', 1)
    return [re.sub(r':\d+\)$', ')', frame) for frame in stack.split(';')], int(count)


def function(frame):
    return frame.split(' (', 1)[0]


def part(names, parts, rest):
    """The label of the first of ``parts`` (marker, label) whose marker is in ``names``, else ``rest``."""
    return next((label for marker, label in parts if marker in names), rest)


def category(stack):
    names = [function(f) for f in stack[1:]]
    if len(stack) == 1 or names[-1].rsplit('.', 1)[-1] in IDLE:
        return None
    if 'WorkerProcess._run' in names:
        return part(names, WORKER_PARTS, 'worker: the rest of the task executor')
    if 'WorkerProcess.start' in names:
        return 'fork'
    if 'StrategyModule.run' in names:
        return part(names, STRATEGY_PARTS, 'strategy: the rest of the task loop')
    if 'results_thread_main' in names:
        return 'strategy: processing results'
    if 'PlaybookExecutor.run' not in names and 'AdHocCLI.run' not in names:
        return 'startup'
    return 'main: the rest'


def split(path):
    counts = collections.Counter()
    with open(path) as handle:
        for line in handle:
            if line.strip():
                stack, count = frames(line)
                label = category(stack)
                if label:
                    counts[label] += count
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--rate', type=int, default=100, help='samples per second and process')
    parser.add_argument('--raw', help='keep the raw (collapsed) stacks in this file')
    parser.add_argument('command', nargs='+')
    opts = parser.parse_args()
    spy = shutil.which('py-spy') or os.path.join(os.path.dirname(sys.executable), 'py-spy')
    if not os.path.exists(spy):
        raise SystemExit('py-spy is not installed (pip install -r requirements-dev.txt)')
    with tempfile.TemporaryDirectory() as work:
        raw = opts.raw or os.path.join(work, 'stacks.txt')
        with open(os.path.join(work, 'out.log'), 'w') as out:
            proc = subprocess.run([spy, 'record', '--subprocesses', '--rate', str(opts.rate), '--format', 'raw',
                                   '--output', raw, '--'] + opts.command, stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0 and not os.path.exists(raw):
            with open(os.path.join(work, 'out.log')) as handle:
                raise SystemExit('py-spy failed (rc %d): %s' % (proc.returncode, handle.read()[-2000:]))
        counts = split(raw)
    total = sum(counts.values()) or 1
    print('%d samples of a running thread (%d per second and process), command rc %d'
          % (total, opts.rate, proc.returncode))
    for label, count in sorted(counts.items(), key=lambda item: -item[1]):
        print('%6d %5.1f %%  %s' % (count, 100.0 * count / total, label))


if __name__ == '__main__':
    main()
