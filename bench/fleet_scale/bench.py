"""Fleet-scale benchmark of the morning check: 10, 25, 50 fleet hosts, side by side with ping.

Prints medians and ratios; asserts nothing. Needs the fleet image (make fleet-image), a running
Docker engine and, for the Mitogen rows, mitogen==0.3.54 (requirements-dev.txt). Run:

    CLOUDOS_FLEET_IMAGE=$(cat .cache/fleet-image) .venv/bin/python bench/fleet_scale/bench.py [sizes] [--rounds N] [--settings]

e.g. ``10 25 50 --rounds 3``. For each size, hosts are started (labelled cloudos.bench=fleet_scale),
prepared with tests/fleet/prepare.yml, and these commands run in turn, round after round
(alternating, so that a slow moment of the machine hits all alike):

* ``ping``: ``ansible all -m ansible.builtin.ping``;
* ``ping_play``: a playbook of one ``ansible.builtin.ping`` task (``gather_facts: false``);
* ``daily_health``: ``playbooks/daily_health.yml``, default strategy (linear), its check pipelined (the
  role's default ``ansible_pipelining: true``);
* ``daily_health_mitogen``: the same under profiles/mitogen.sh (``mitogen_linear``), the hosts reached
  with ``ansible_connection: docker`` (Mitogen does not take over ``community.docker.docker``);
* ``script``: the guide's morning script (bench/fleet_health/morning-check.sh) through ``ansible.builtin.script``.

With ``--settings`` also: ping and the ping playbook with ``ANSIBLE_PIPELINING=true``, the ping
playbook under the Mitogen profile, daily_health not pipelined
(``-e '{"ansible_pipelining": false}'``), daily_health with
``forks=5`` and with ``strategy=free``, and the ping playbook with fact gathering on.

``--before CHECKOUT`` adds ``daily_health_before``: the playbook and collection of another
checkout (its root, with its ``.collections`` link), in the same rounds.

``--inventory FILE`` measures hosts that are already running and prepared (an inventory that
tests/fleet/hosts.py wrote), the first N of them for size N, and leaves them running: one
preparation serves several sizes and several runs.

For every command: wall time; the controller's CPU (user + system of the command and all its
children, from ``wait4``) and peak RSS (the largest process of the tree); the hosts' CPU (the
containers' cgroup CPU usage before and after, summed, per host, less the hosts' idle rate
measured beforehand over the same time); and ``busy %``, the share of the machine's CPUs busy during
the command (``/proc/stat``, less the idle hosts' rate): near 100 the run is bound by CPU, and
two cores run the controller and every host.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.fleet import hosts as fleet  # noqa: E402  (after the path is set)

# bench/fleet_health/bench.py (its command environment and the inotify limit), loaded by path:
# the benchmarks are scripts, not a package.
_SPEC = importlib.util.spec_from_file_location('fleet_health_bench', os.path.join(ROOT, 'bench', 'fleet_health', 'bench.py'))
fleet_health = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fleet_health)

BIN = os.path.dirname(sys.executable)
LABEL = 'cloudos.bench=fleet_scale'
CPU_WINDOW = 1.0
CPUS = os.cpu_count() or 1
PING_PLAY = '- name: Ping\n  hosts: all\n  gather_facts: %s\n  tasks:\n    - name: Ping\n      ansible.builtin.ping:\n'


def mitogen_strategy_dir():
    """ANSIBLE_STRATEGY_PLUGINS as profiles/mitogen.sh sets it: the profile's mitogen_linear (Mitogen's,
    with the collections listed once per run) ahead of Mitogen's own strategy directory."""
    try:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return os.pathsep.join([os.path.join(ROOT, 'profiles', 'mitogen'),
                            os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy')])


def mitogen_env():
    """The environment of the Mitogen profile (profiles/mitogen.sh), or None without mitogen."""
    strategy = mitogen_strategy_dir()
    return {'ANSIBLE_STRATEGY_PLUGINS': strategy, 'ANSIBLE_STRATEGY': 'mitogen_linear'} if strategy else None


def cgroup_file(container_id):
    """The file with the container's cumulative CPU time: cgroup v2 cpu.stat, or v1 cpuacct.usage."""
    for pattern in ('/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat', '/sys/fs/cgroup/docker/%s/cpu.stat',
                    '/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage', '/sys/fs/cgroup/cpu,cpuacct/docker/%s/cpuacct.usage'):
        if os.path.exists(pattern % container_id):
            return pattern % container_id
    found = glob.glob('/sys/fs/cgroup/**/*%s*/cpu.stat' % container_id, recursive=True)
    return found[0] if found else None


def cpu_seconds(path):
    with open(path) as handle:
        text = handle.read()
    if path.endswith('cpuacct.usage'):
        return int(text) / 1e9
    for line in text.splitlines():
        key, value = line.split()
        if key == 'usage_usec':
            return int(value) / 1e6
    return 0.0


class Hosts:
    def __init__(self, names):
        ids = subprocess.run(['docker', 'inspect', '--format', '{{.Id}}'] + names, capture_output=True, text=True,
                             check=True).stdout.split()
        self.files = [cgroup_file(i) for i in ids]
        if None in self.files:
            print('warning: no cgroup CPU file for some hosts; host CPU is not measured', flush=True)
            self.files = []

    def cpu(self):
        return sum(cpu_seconds(f) for f in self.files)


def machine_busy():
    """CPU-seconds the whole machine has been busy (all CPUs: /proc/stat, less idle and iowait)."""
    with open('/proc/stat') as handle:
        fields = [int(value) for value in handle.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf('SC_CLK_TCK')


def timed(cmd, extra_env, log):
    """(wall s, controller CPU s, controller peak RSS MiB, returncode) of ``cmd``."""
    environ = dict(fleet_health.env(), **extra_env)
    with open(log, 'w') as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=ROOT)
        dummy, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, proc.returncode


def commands(work, inventory, mitogen_inventory, settings, before=None):
    health = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'playbooks', 'daily_health.yml'),
              '-e', json.dumps({'daily_health_report_root': os.path.join(work, 'reports'), 'daily_health_fail_on': 'never'})]
    plays = {}
    for facts in ('false', 'true'):
        plays[facts] = os.path.join(work, 'ping-%s.yml' % facts)
        with open(plays[facts], 'w') as handle:
            handle.write(PING_PLAY % facts)
    cmds = [
        ('ping', [os.path.join(BIN, 'ansible'), 'all', '-i', inventory, '-m', 'ansible.builtin.ping'], {}),
        ('ping_play', [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, plays['false']], {}),
        ('daily_health', health, {}),
    ]
    if before:
        cmds.append(('daily_health_before', [health[0], '-i', inventory, os.path.join(before, 'playbooks', 'daily_health.yml')]
                     + health[4:], {'ANSIBLE_COLLECTIONS_PATH': os.path.join(before, '.collections')}))
    mitogen = mitogen_env()
    if mitogen:
        cmds.append(('daily_health_mitogen', [health[0], '-i', mitogen_inventory] + health[3:], mitogen))
    else:
        print('mitogen is not installed: no Mitogen rows', flush=True)
    cmds.append(('script', [os.path.join(BIN, 'ansible'), 'all', '-i', inventory, '-m', 'ansible.builtin.script',
                            '-a', os.path.join(ROOT, 'bench', 'fleet_health', 'morning-check.sh')], {}))
    if settings:
        cmds += [
            ('ping_pipelining', cmds[0][1], {'ANSIBLE_PIPELINING': 'true'}),
            # The counterpart of ping_mitogen: the same one-task playbook, pipelined ansible-core.
            ('ping_play_pipelining', cmds[1][1], {'ANSIBLE_PIPELINING': 'true'}),
            # The role pipelines its check by default (ansible_pipelining: true); a boolean from -e turns it off.
            ('daily_health_unpipelined', health + ['-e', json.dumps({'ansible_pipelining': False})], {}),
            ('daily_health_forks5', health, {'ANSIBLE_FORKS': '5'}),
            ('daily_health_free', health, {'ANSIBLE_STRATEGY': 'free'}),
            ('ping_play_facts', [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, plays['true']], {}),
        ]
        if mitogen:
            cmds.append(('ping_mitogen', [os.path.join(BIN, 'ansible-playbook'), '-i', mitogen_inventory, plays['false']],
                         mitogen))
    return cmds


def inventory_hosts(path):
    """The host names of an inventory of fleet hosts (tests/fleet/hosts.py write_inventory)."""
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', path, '--list'], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return sorted(json.loads(proc.stdout)['_meta']['hostvars'])


def start_and_prepare(image, count, work, names=None, label=LABEL):
    """Start ``count`` fleet hosts (named ``names``, labelled ``label``) and prepare them; the names of those
    that were prepared."""
    names = fleet.start_hosts(image, names or ['cloudos-scale-%02d' % (i + 1) for i in range(count)], label)
    pending = fleet.wait_booted(names, timeout=120 + 6 * count)
    if pending:
        print('%d of %d hosts did not finish booting: %s' % (len(pending), count, ', '.join(pending)), flush=True)
    inventory = os.path.join(work, 'hosts-%d.yml' % count)
    fleet.write_inventory(inventory, names)
    started = time.monotonic()
    wall, dummy, dummy, rc = timed([os.path.join(BIN, 'ansible-playbook'), '-i', inventory,
                                    os.path.join(ROOT, 'tests', 'fleet', 'prepare.yml')], {}, os.path.join(work, 'prepare.log'))
    with open(os.path.join(work, 'prepare.log')) as handle:
        recap = handle.read()
    failed = [n for n in names if any(line.startswith(n + ' ') and ('failed=0' not in line or 'unreachable=0' not in line)
                                      for line in recap.splitlines())]
    names = [n for n in names if n not in failed]
    print('%d hosts: prepared %d in %.0fs%s' % (count, len(names), time.monotonic() - started,
                                                ' (failed: %s)' % ', '.join(failed) if failed else ''), flush=True)
    return names


def measure_size(image, count, rounds, settings, work, prepared=None, before_checkout=None):
    """One size: ``count`` new hosts, or the first ``count`` of ``prepared`` (hosts already prepared, kept)."""
    names = prepared[:count] if prepared else start_and_prepare(image, count, work)
    if not names:
        return None
    inventory = os.path.join(work, 'hosts-%d.yml' % count)
    fleet.write_inventory(inventory, names)
    mitogen_inventory = os.path.join(work, 'hosts-%d-mitogen.yml' % count)
    fleet.write_inventory(mitogen_inventory, names, connection='docker')
    hosts = Hosts(names)
    before, busy, t0 = hosts.cpu(), machine_busy(), time.monotonic()
    time.sleep(10)
    idle = (hosts.cpu() - before) / (time.monotonic() - t0) if hosts.files else 0.0
    machine_idle = (machine_busy() - busy) / (time.monotonic() - t0)
    cmds = commands(work, inventory, mitogen_inventory, settings, before_checkout)
    rows = dict((name, []) for name, dummy, dummy in cmds)
    for number in range(rounds):
        for name, cmd, extra in cmds:
            before, busy = hosts.cpu() if hosts.files else 0.0, machine_busy()
            wall, cpu, rss, rc = timed(cmd, extra, os.path.join(work, '%s-%d.log' % (name, count)))
            host_cpu = ((hosts.cpu() - before) - idle * wall) / len(names) if hosts.files else float('nan')
            # The share of the machine's CPUs the command kept busy (the hosts' idle rate left out).
            busy = (machine_busy() - busy - machine_idle * wall) / (wall * CPUS)
            rows[name].append({'wall': wall, 'cpu': cpu, 'rss': rss, 'host_cpu': host_cpu, 'busy': busy, 'rc': rc})
        print('  round %d/%d: %s' % (number + 1, rounds, ', '.join('%s %.2fs' % (n, r[-1]['wall']) for n, r in rows.items())),
              flush=True)
    if not prepared:
        fleet.remove_hosts(LABEL)
    return {'hosts': len(names), 'started': count, 'idle_cpu_per_host_s_per_s': idle / len(names), 'rows': rows}


def median(values):
    return statistics.median(values) if values else float('nan')


def show(result):
    count = result['hosts']
    print('\n%d hosts (of %d started), forks %s; host idle %.3f CPU-s/s per host (subtracted)'
          % (count, result['started'], fleet_health.env()['ANSIBLE_FORKS'], result['idle_cpu_per_host_s_per_s']))
    header = ('command', 'wall s', 'wall/h', 'ctl CPU s', 'ctl CPU/h', 'ctl RSS MiB', 'host CPU/h', 'busy %')
    print('%-24s %8s %8s %10s %10s %12s %10s %7s' % header)
    med = {}
    for name, runs in result['rows'].items():
        med[name] = dict((k, median([r[k] for r in runs])) for k in ('wall', 'cpu', 'rss', 'host_cpu', 'busy'))
        bad = sum(1 for r in runs if r['rc'] != 0)
        print('%-24s %8.2f %8.3f %10.2f %10.3f %12.0f %10.3f %7.0f%s' % (
            name, med[name]['wall'], med[name]['wall'] / count, med[name]['cpu'], med[name]['cpu'] / count,
            med[name]['rss'], med[name]['host_cpu'], 100 * med[name]['busy'], '  (rc != 0 in %d runs)' % bad if bad else ''))
    ping = med['ping']
    health = med['daily_health']
    print('host CPU   daily_health / ping             = %.2f  (target <= 1.5)' % (health['host_cpu'] / ping['host_cpu']))
    print('wall       (daily_health - %.0fs) / ping      = %.2f  (target <= 1.3)' % (CPU_WINDOW, (health['wall'] - CPU_WINDOW) / ping['wall']))
    print('wall       daily_health / ping             = %.2f' % (health['wall'] / ping['wall']))
    print('wall       ping_play / ping                = %.2f' % (med['ping_play']['wall'] / ping['wall']))
    if 'daily_health_mitogen' in med:
        mito = med['daily_health_mitogen']
        print('wall       daily_health_mitogen / ping     = %.2f  (target <= 1.0)' % (mito['wall'] / ping['wall']))
        print('host CPU   daily_health_mitogen / ping     = %.2f' % (mito['host_cpu'] / ping['host_cpu']))
        print('ctl CPU    daily_health_mitogen / ping     = %.2f' % (mito['cpu'] / ping['cpu']))
    if 'ping_mitogen' in med:
        print('wall       ping_mitogen / ping_play_pipelining = %.2f  (the same playbook: Mitogen / pipelined ansible-core)'
              % (med['ping_mitogen']['wall'] / med['ping_play_pipelining']['wall']))
    print('ctl CPU    daily_health / ping             = %.2f' % (health['cpu'] / ping['cpu']))
    if 'daily_health_before' in med:
        old = med['daily_health_before']
        print('before     (daily_health - %.0fs) / ping      = %.2f; ctl CPU / ping = %.2f; host CPU / ping = %.2f'
              % (CPU_WINDOW, (old['wall'] - CPU_WINDOW) / ping['wall'], old['cpu'] / ping['cpu'], old['host_cpu'] / ping['host_cpu']))
    if 'ping_pipelining' in med:
        piped, unpiped = med['ping_pipelining'], med['daily_health_unpipelined']
        print('wall       (daily_health - %.0fs) / ping, both pipelined = %.2f'
              % (CPU_WINDOW, (health['wall'] - CPU_WINDOW) / piped['wall']))
        print('host CPU   daily_health / ping, both pipelined = %.2f' % (health['host_cpu'] / piped['host_cpu']))
        print('wall       (daily_health unpipelined - %.0fs) / ping, neither pipelined = %.2f'
              % (CPU_WINDOW, (unpiped['wall'] - CPU_WINDOW) / ping['wall']))
    print('wall       script / ping                   = %.2f' % (med['script']['wall'] / ping['wall']))
    return med


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('sizes', nargs='*', type=int, default=[10, 25, 50])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--settings', action='store_true', help='also the settings variants (pipelining, forks, free, facts)')
    parser.add_argument('--inventory', help='measure the hosts of this inventory (already prepared, kept running) '
                                            'instead of starting new ones; sizes larger than it are skipped')
    parser.add_argument('--before', help='also daily_health.yml of this checkout (its root, with its .collections link), '
                                         'as the row daily_health_before, side by side')
    args = parser.parse_args()
    image = os.environ.get('CLOUDOS_FLEET_IMAGE')
    if not image:
        raise SystemExit('set CLOUDOS_FLEET_IMAGE (make fleet-image writes it to .cache/fleet-image)')
    work = tempfile.mkdtemp(prefix='fleet-scale-')
    print('work directory (logs, results.json): %s' % work, flush=True)
    old_inotify = fleet_health.raise_inotify(max(args.sizes))
    results = {}
    try:
        prepared = inventory_hosts(args.inventory) if args.inventory else None
        for count in args.sizes:
            if prepared and count > len(prepared):
                print('%d hosts: the inventory has only %d' % (count, len(prepared)), flush=True)
                continue
            result = measure_size(image, count, args.rounds, args.settings, work, prepared,
                                  os.path.abspath(args.before) if args.before else None)
            if result is None:
                print('%d hosts: no host could be prepared' % count, flush=True)
                continue
            results[count] = result
            result['medians'] = show(result)
            with open(os.path.join(work, 'results.json'), 'w') as handle:
                json.dump(results, handle, indent=1)
    finally:
        fleet.remove_hosts(LABEL)
        fleet_health.restore_inotify(old_inotify)
    if len(results) > 1:
        print('\nflatness (per host, relative to the smallest size; target within 20 %):')
        sizes = sorted(results)
        base = results[sizes[0]]['medians']
        for name in ('ping', 'daily_health', 'daily_health_mitogen'):
            if name not in base:
                continue
            cells = []
            for size in sizes:
                med = results[size]['medians'][name]
                cells.append('%d: wall/h %+.0f %%, ctl CPU/h %+.0f %%' % (
                    size, 100 * (med['wall'] / results[size]['hosts'] / (base[name]['wall'] / results[sizes[0]]['hosts']) - 1),
                    100 * (med['cpu'] / results[size]['hosts'] / (base[name]['cpu'] / results[sizes[0]]['hosts']) - 1)))
            print('  %-22s %s' % (name, '; '.join(cells)))


if __name__ == '__main__':
    main()
