"""Fleet hosts: containers of the fleet image (tests/fleet/build-image), booted with systemd.

The one place that knows how a fleet host is started (the same options as the Molecule
platforms); the benchmarks and the integration tests that need real hosts import it:

    from tests.fleet.hosts import start_hosts, remove_hosts, write_inventory

Hosts carry a label so that everything a caller started is removed in one call, also after an
interrupted run. Hosts are reached with the community.docker.docker connection.
"""

from __future__ import annotations

import os
import subprocess
import time

RUN_FLAGS = ['--detach', '--network', 'none', '--cgroupns', 'host',
             '--cap-add', 'SYS_ADMIN', '--cap-add', 'NET_ADMIN', '--security-opt', 'seccomp=unconfined',
             '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
             '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--stop-signal', 'SIGRTMIN+3']


def fleet_image():
    """The fleet image to start hosts from: ``CLOUDOS_FLEET_IMAGE``, else what ``make fleet-image``
    wrote to .cache/fleet-image. A test that needs fleet hosts fails (never skips) without one."""
    image = os.environ.get('CLOUDOS_FLEET_IMAGE')
    if not image:
        cached = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                              '.cache', 'fleet-image')
        if os.path.exists(cached):
            with open(cached) as handle:
                image = handle.read().strip()
    if not image:
        raise AssertionError('no fleet image: run `make fleet-image` or set CLOUDOS_FLEET_IMAGE')
    return image


def start_hosts(image, names, label):
    """Start one container per name (replacing any of that name), labelled ``label``; return the names."""
    for name in names:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
        subprocess.run(['docker', 'run', '--name', name, '--hostname', name, '--label', label] + RUN_FLAGS
                       + [image, '/sbin/init'], capture_output=True, check=True)
    return list(names)


def wait_booted(names, timeout=180):
    """Wait until systemd in each host has finished booting (running or degraded); return the
    hosts that did not. Until then, boot-time clean-ups of /tmp can remove Ansible's temporary
    files under a task's feet."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            proc = subprocess.run(['docker', 'exec', name, 'systemctl', 'is-system-running'],
                                  capture_output=True, text=True, check=False)
            if proc.stdout.strip() in ('running', 'degraded'):
                pending.remove(name)
        if pending:
            time.sleep(1)
    return pending


def remove_hosts(label):
    """Remove every container labelled ``label``."""
    ids = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=' + label],
                         capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(['docker', 'rm', '-f'] + ids, capture_output=True, check=False)


def inventory_text(names, group='all', python='/usr/bin/python3', connection='community.docker.docker'):
    """A YAML inventory of ``names`` reached with the docker connection (``connection``: Mitogen takes
    over ``docker``, not ``community.docker.docker``). With a ``group`` other than ``all`` the
    connection variables are that group's, so that the implicit localhost (which reads the ``all``
    group's variables) keeps its local connection."""
    conn = ['vars:', '  ansible_connection: %s' % connection, '  ansible_python_interpreter: %s' % python,
            'hosts:'] + ['  %s:' % name for name in names]
    if group == 'all':
        lines = ['all:'] + ['  ' + line for line in conn]
    else:
        lines = ['all:', '  children:', '    %s:' % group] + ['      ' + line for line in conn]
    return '\n'.join(lines) + '\n'


def write_inventory(path, names, **kwargs):
    with open(path, 'w') as handle:
        handle.write(inventory_text(names, **kwargs))
    return path
