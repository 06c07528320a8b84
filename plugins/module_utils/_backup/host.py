# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only part of the backup code that talks to Docker and runs host commands."""

from __future__ import annotations

import json
import os

from ansible_collections.cloudos.ops.plugins.module_utils._backup.sets import BackupError

try:
    import docker  # pylint: disable=unused-import
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - depends on the host
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = _exc


class Host(object):
    """Docker and system access for one run; the client is created on first use."""

    def __init__(self, run_command, docker_host=None, timeout=60):
        """``run_command(argv)`` returns ``(rc, stdout, stderr)`` (the module's ``run_command``)."""
        self._run_command = run_command
        self.docker_host = docker_host
        self.timeout = timeout
        self._client = None

    def _run(self, cmd):
        try:
            code, out, err = self._run_command(cmd)
        except (OSError, ValueError) as exc:
            return None, str(exc)
        if code != 0:
            return None, (err or '').strip() or 'exit status %d' % code
        return out.encode('utf-8', 'surrogateescape') if isinstance(out, str) else out, None

    # -- Docker -----------------------------------------------------------------------------
    def client(self):
        if self._client is None:
            if not HAS_DOCKER:
                raise BackupError('the Python docker SDK is required for docker_volumes/stop_containers '
                                  '(Debian: apt-get install python3-docker): %s' % DOCKER_IMPORT_ERROR)
            import docker
            try:
                if self.docker_host:
                    self._client = docker.DockerClient(base_url=self.docker_host, timeout=self.timeout)
                else:
                    self._client = docker.from_env(timeout=self.timeout)
                self._client.ping()
            except Exception as exc:  # pylint: disable=broad-except
                self._client = None
                raise BackupError('cannot reach the Docker engine at %s: %s'
                                  % (self.docker_host or os.environ.get('DOCKER_HOST', 'unix:///var/run/docker.sock'), exc))
        return self._client

    def volume(self, name):
        """Return ``{name, mountpoint, driver, labels, options}`` or raise BackupError for an unknown volume."""
        import docker
        try:
            attrs = self.client().volumes.get(name).attrs
        except docker.errors.NotFound:
            raise BackupError('docker_volumes: volume %r does not exist on this host' % name)
        except docker.errors.APIError as exc:
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
        import docker
        try:
            cont = self.client().containers.get(name)
        except docker.errors.NotFound:
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
    def system_state(self, items):
        """Return ``(files, status)``: files is ``{name: bytes}``, status ``{item: 'ok'|'unavailable: ...'}``."""
        files, status = {}, {}
        if 'units' in items:
            out, err = self._run(['systemctl', 'list-unit-files', '--state=enabled', '--no-legend', '--no-pager'])
            if out is None:
                status['units'] = 'unavailable: %s' % err
            else:
                files['enabled-units.txt'] = out
                status['units'] = 'ok'
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
