"""What each host costs, Mitogen against pipelined ansible-core, measured one host at a time.

    .venv/bin/python bench/fleet_scale/per_host.py [--hosts 4] [--rounds 5] [--inventory FILE]

bench.py measures whole fleets, where the two cores of this machine run the controller and every
host at once, so each cost shows only as a share of a saturated machine. Here the hosts are
taken one after the other (``serial: 1``): nothing competes, and what a host costs is the
difference between a run over N hosts and a run over one, divided by N - 1 (the first host of a
run also pays for what is computed once and cached: Mitogen's module sources, its connection
multiplexer's first connection).

Three one-task playbooks, each with pipelined ansible-core and under the Mitogen profile
(profiles/mitogen.sh), over one host and over ``--hosts`` hosts, alternating round after round:

* ``none``: ``meta: noop``, which reaches no host: what a run costs before any host (start-up,
  the strategy, Mitogen's multiplexer);
* ``ping``: ``ansible.builtin.ping``;
* ``health``: ``cloudos.ops.cloudos_health`` with its defaults (every section).

Per command: the wall time, the controller's CPU (``ansible-playbook`` and everything it waited
for: workers, Mitogen's multiplexer, the ``docker`` client) and the hosts' CPU (their cgroups,
less their idle rate). Prints the medians and, per host, what Mitogen adds or saves.

Without ``--inventory`` it starts ``--hosts`` fleet hosts (label ``cloudos.bench=per_host``),
prepares them with tests/fleet/prepare.yml and removes them at the end; ``--inventory`` measures
the first ``--hosts`` hosts of an inventory of prepared fleet hosts (tests/fleet/hosts.py) and
leaves them running. Needs the fleet image (``make fleet-image``) and mitogen==0.3.54
(requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.fleet import hosts as fleet  # noqa: E402


def _load_bench():
    spec = importlib.util.spec_from_file_location('fleet_scale_bench', os.path.join(os.path.dirname(__file__), 'bench.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

LABEL = 'cloudos.bench=per_host'
# serial: 1, not forks=1: with fewer forks than hosts, ansible-core's main process polls for a free
# worker without sleeping, which would add to a host's controller CPU as much as its wall time.
PLAY = ('- name: One task\n  hosts: all\n  gather_facts: false\n  serial: 1\n  tasks:\n    - name: The task\n'
        '      %s\n')
TASKS = (('none', 'ansible.builtin.meta: noop'), ('ping', 'ansible.builtin.ping:'),
         ('health', 'cloudos.ops.cloudos_health:'))
WAYS = (('', {'ANSIBLE_PIPELINING': 'true'}), ('_mitogen', None))


def commands(work, names):
    """(name, argv, extra environment, hosts) of every command; inventories and plays go to ``work``."""
    mitogen_env = bench.mitogen_env()
    if not mitogen_env:
        raise SystemExit('mitogen is not installed: pip install -r requirements-dev.txt (mitogen==0.3.54)')
    playbook = os.path.join(bench.BIN, 'ansible-playbook')
    plays = {}
    for task, text in TASKS:
        plays[task] = os.path.join(work, '%s.yml' % task)
        with open(plays[task], 'w') as handle:
            handle.write(PLAY % text)
    cmds = []
    for count in (1, len(names)):
        plain = fleet.write_inventory(os.path.join(work, 'hosts-%d.yml' % count), names[:count])
        mitogen = fleet.write_inventory(os.path.join(work, 'hosts-%d-mitogen.yml' % count), names[:count], connection='docker')
        for task, dummy in TASKS:
            for suffix, extra in WAYS:
                cmds.append(('%s%s/%d' % (task, suffix, count), [playbook, '-i', mitogen if suffix else plain, plays[task]],
                             extra or mitogen_env, names[:count]))
    return cmds


def measure(names, rounds, work):
    cmds = commands(work, names)
    groups = dict((count, bench.Hosts(names[:count])) for count in (1, len(names)))
    if not all(group.files for group in groups.values()):
        raise SystemExit('no cgroup CPU file for the hosts: their CPU cannot be measured')
    before, started = groups[len(names)].cpu(), time.monotonic()
    time.sleep(5)
    idle = (groups[len(names)].cpu() - before) / (time.monotonic() - started) / len(names)
    rows = dict((name, []) for name, dummy, dummy, dummy in cmds)
    for number in range(rounds + 1):  # the first round warms up (page cache, the hosts' dockerd) and is dropped
        for name, cmd, extra, hosts in cmds:
            group = groups[len(hosts)]
            before = group.cpu()
            wall, cpu, dummy, rc = bench.timed(cmd, extra, os.path.join(work, '%s.log' % name.replace('/', '-')))
            if rc != 0:
                raise SystemExit('%s failed (rc %d), see the logs in %s' % (name, rc, work))
            if number:
                host_cpu = (group.cpu() - before - idle * len(hosts) * wall) / len(hosts)
                rows[name].append({'wall': wall, 'cpu': cpu, 'host_cpu': host_cpu})
        print('  round %d/%d done' % (number, rounds) if number else '  warm-up round done', flush=True)
    return idle, dict((name, dict((key, statistics.median([run[key] for run in runs])) for key in ('wall', 'cpu', 'host_cpu')))
                      for name, runs in rows.items())


def show(count, idle, med, rounds):
    print('\n%d rounds alternating after a warm-up round; hosts taken one at a time (serial: 1); host idle %.4f CPU-s/s'
          ' per host (subtracted)' % (rounds, idle))
    print('%-20s %8s %10s %14s' % ('command/hosts', 'wall s', 'ctl CPU s', 'host CPU/h s'))
    for name, values in med.items():
        print('%-20s %8.3f %10.3f %14.3f' % (name, values['wall'], values['cpu'], values['host_cpu']))
    print('\nper host (the run over %d hosts less the run over one, / %d), and the first host of a run (the run over one'
          ' less none):' % (count, count - 1))
    print('%-16s %10s %12s %12s %14s %14s' % ('', 'wall/h s', 'ctl CPU/h s', 'host CPU/h s', 'first: wall s', 'first: ctl s'))
    per = {}
    for task, dummy in TASKS:
        for suffix, dummy in WAYS:
            one, many, none = med['%s%s/1' % (task, suffix)], med['%s%s/%d' % (task, suffix, count)], med['none%s/1' % suffix]
            per[task + suffix] = {'wall': (many['wall'] - one['wall']) / (count - 1),
                                  'cpu': (many['cpu'] - one['cpu']) / (count - 1), 'host_cpu': many['host_cpu']}
            print('%-16s %10.3f %12.3f %12.3f %14.3f %14.3f' % (
                task + suffix, per[task + suffix]['wall'], per[task + suffix]['cpu'], many['host_cpu'],
                one['wall'] - none['wall'], one['cpu'] - none['cpu']))
    print('\nMitogen - pipelined ansible-core:')
    print('  a run          wall %+.3f s, controller CPU %+.3f s' % (
        med['none_mitogen/1']['wall'] - med['none/1']['wall'], med['none_mitogen/1']['cpu'] - med['none/1']['cpu']))
    for task in ('ping', 'health'):
        plain, mito = per[task], per[task + '_mitogen']
        print('  %-6s per host wall %+.3f s, controller CPU %+.3f s, host CPU %+.3f s (x %.2f)' % (
            task, mito['wall'] - plain['wall'], mito['cpu'] - plain['cpu'], mito['host_cpu'] - plain['host_cpu'],
            mito['host_cpu'] / plain['host_cpu']))
    print('health - ping, per host: pipelined host CPU %+.3f s, ctl CPU %+.3f s; Mitogen host CPU %+.3f s, ctl CPU %+.3f s' % (
        per['health']['host_cpu'] - per['ping']['host_cpu'], per['health']['cpu'] - per['ping']['cpu'],
        per['health_mitogen']['host_cpu'] - per['ping_mitogen']['host_cpu'],
        per['health_mitogen']['cpu'] - per['ping_mitogen']['cpu']))
    return per


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=4, help='hosts of the larger run (at least 2)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--inventory', help='prepared fleet hosts (tests/fleet/prepare.yml) to measure, kept running')
    args = parser.parse_args()
    if args.hosts < 2:
        parser.error('--hosts: at least 2, got %d' % args.hosts)
    work = tempfile.mkdtemp(prefix='per-host-')
    print('work directory (logs): %s' % work, flush=True)
    try:
        if args.inventory:
            names = bench.inventory_hosts(args.inventory)[:args.hosts]
        else:
            names = bench.start_and_prepare(fleet.fleet_image(), args.hosts, work,
                                            names=['cloudos-host-%02d' % (i + 1) for i in range(args.hosts)], label=LABEL)
        if len(names) < args.hosts:
            raise SystemExit('%d prepared hosts, %d wanted' % (len(names), args.hosts))
        idle, med = measure(names, args.rounds, work)
        show(len(names), idle, med, args.rounds)
    finally:
        if not args.inventory:
            fleet.remove_hosts(LABEL)


if __name__ == '__main__':
    main()
