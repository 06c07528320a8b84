# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup code's access to Docker (through ``_docker``) and to host commands (``_systemd``, dpkg, rpm)."""

from __future__ import annotations

import json
import os

from ansible_collections.cloudos.ops.plugins.module_utils import _docker
from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError
from ansible_collections.cloudos.ops.plugins.module_utils._systemd import Systemd, SystemdError


class Host(object):
    """Docker and system access for one run; the Docker client is opened on first use."""

    def __init__(self, run_command, docker_host=None, timeout=60):
        """``run_command(argv)`` returns ``(rc, stdout, stderr)`` (the module's ``run_command``).

        ``docker_host`` is the endpoint, or the module's parameters (every Docker option of
        ``_docker.DOCKER_COMMON_ARGS`` is taken from them).
        """
        self._run_command = run_command
        if isinstance(docker_host, dict):
            self.docker = _docker.options(docker_host)
        else:
            self.docker = _docker.options({}, docker_host=docker_host, timeout=timeout)
        self.docker_host = self.docker['docker_host']
        self._conn = None

    def _run(self, cmd):
        try:
            code, out, err = self._run_command(cmd)
        except (OSError, ValueError) as exc:
            return None, str(exc)
        if code != 0:
            return None, (err or '').strip() or 'exit status %d' % code
        return out.encode('utf-8', 'surrogateescape') if isinstance(out, str) else out, None

    # -- Docker -----------------------------------------------------------------------------
    def connection(self):
        if self._conn is None:
            try:
                self._conn = _docker.connect(self.docker)
            except _docker.DockerError as exc:
                if exc.reason == _docker.LIBRARY:
                    raise BackupError('the Python docker SDK is required for docker_volumes/stop_containers '
                                      '(Debian: apt-get install python3-docker): %s' % exc)
                raise BackupError(str(exc))
        return self._conn

    def client(self):
        return self.connection().client

    def volume(self, name):
        """Return ``{name, mountpoint, driver, labels, options}`` or raise BackupError for an unknown volume."""
        conn = self.connection()
        try:
            attrs = conn.client.volumes.get(name).attrs
        except conn.errors.NotFound:
            raise BackupError('docker_volumes: volume %r does not exist on this host' % name)
        except conn.errors.APIError as exc:
            raise BackupError('docker_volumes: cannot inspect volume %r: %s' % (name, exc))
        return {'name': attrs.get('Name', name), 'mountpoint': attrs.get('Mountpoint'),
                'driver': attrs.get('Driver'), 'labels': attrs.get('Labels') or {},
                'options': attrs.get('Options') or {}}

    def create_volume(self, name, driver=None, labels=None, options=None):
        vol = self.client().volumes.create(name=name, driver=driver or 'local', labels=labels or None,
                                           driver_opts=options or None)
        return vol.attrs.get('Mountpoint')

    def volumes_inspect(self):
        return [vol.attrs for vol in self.client().volumes.list()]

    def container_state(self, name):
        conn = self.connection()
        try:
            cont = conn.client.containers.get(name)
        except conn.errors.NotFound:
            raise BackupError('stop_containers: container %r does not exist on this host' % name)
        return cont.attrs.get('State', {}).get('Running', False)

    def containers_using(self, volumes):
        """Names of running containers that mount one of ``volumes``."""
        found = []
        for cont in self.client().containers.list():
            for mount in cont.attrs.get('Mounts', []):
                if mount.get('Type') == 'volume' and mount.get('Name') in volumes:
                    found.append(cont.name)
                    break
        return found

    def stop_container(self, name, timeout):
        self.client().containers.get(name).stop(timeout=timeout)

    def start_container(self, name):
        self.client().containers.get(name).start()

    # -- system state -----------------------------------------------------------------------
    def enabled_units(self):
        """``systemctl list-unit-files --state=enabled`` as bytes."""
        out = Systemd(self._run_command).unit_files('enabled')
        return out.encode('utf-8', 'surrogateescape')

    def system_state(self, items):
        """Return ``(files, status)``: files is ``{name: bytes}``, status ``{item: 'ok'|'unavailable: ...'}``."""
        files, status = {}, {}
        if 'units' in items:
            try:
                files['enabled-units.txt'] = self.enabled_units()
                status['units'] = 'ok'
            except (SystemdError, OSError, ValueError) as exc:
                status['units'] = 'unavailable: %s' % getattr(exc, 'detail', exc)
        if 'crontabs' in items:
            found = []
            for base in ('/var/spool/cron/crontabs', '/var/spool/cron'):
                if os.path.isdir(base):
                    for name in sorted(os.listdir(base)):
                        path = os.path.join(base, name)
                        if os.path.isfile(path) and not os.path.islink(path):
                            with open(path, 'rb') as handle:
                                files['crontabs/%s' % name] = handle.read()
                            found.append(name)
                    break
            for path in ['/etc/crontab'] + (sorted(os.path.join('/etc/cron.d', n) for n in os.listdir('/etc/cron.d'))
                                            if os.path.isdir('/etc/cron.d') else []):
                if os.path.isfile(path):
                    with open(path, 'rb') as handle:
                        files['system-cron/%s' % path.strip('/').replace('/', '_')] = handle.read()
            status['crontabs'] = 'ok (%d user crontabs)' % len(found)
        if 'packages' in items:
            out, err = self._run(['dpkg-query', '-W', '-f', '${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n'])
            if out is None:
                out, err2 = self._run(['rpm', '-qa', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n'])
                err = err if out is None and err2 is None else err2
            if out is None:
                status['packages'] = 'unavailable: %s' % err
            else:
                files['packages.txt'] = out
                status['packages'] = 'ok'
        if 'docker_volumes' in items:
            try:
                files['docker-volumes.json'] = json.dumps(self.volumes_inspect(), indent=2, sort_keys=True).encode()
                status['docker_volumes'] = 'ok'
            except BackupError as exc:
                status['docker_volumes'] = 'unavailable: %s' % exc
            except Exception as exc:  # pylint: disable=broad-except
                status['docker_volumes'] = 'unavailable: %s' % exc
        return files, status
