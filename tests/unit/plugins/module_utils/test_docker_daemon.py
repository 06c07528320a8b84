# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json merge (RFC 7386), schema checks and service-flag conflicts."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _docker_daemon as D

HELP = """
Options:
      --add-runtime runtime                     Register an additional
  -D, --debug                                   Enable debug mode
      --default-ulimit ulimit                   Default ulimits for
  -H, --host list                               Daemon socket(s) to connect to
      --containerd string                       containerd grpc address
      --log-driver string                       Default driver for
      --log-opt map                             Default log driver
      --max-concurrent-downloads int            Set the max concurrent
      --registry-mirror list                    Preferred Docker registry
  -s, --storage-driver string                   Storage driver to use
      --tls                                     Use TLS; implied by
      --config-file string                      Daemon configuration file
      --help                                    Print usage
"""

GUIDE = {'storage-driver': 'overlay2', 'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'},
         'default-ulimits': {'nofile': {'Name': 'nofile', 'Hard': 64000, 'Soft': 64000}}}


def test_merge_patch_keeps_other_keys_merges_objects_and_null_removes():
    current = {'registry-mirrors': ['https://mirror.example'], 'log-opts': {'labels': 'app', 'max-size': '1m'}, 'debug': True}
    merged = D.merge_patch(current, {'log-opts': {'max-size': '10m'}, 'debug': None, 'log-driver': 'json-file'})
    assert merged == {'registry-mirrors': ['https://mirror.example'], 'log-opts': {'labels': 'app', 'max-size': '10m'},
                      'log-driver': 'json-file'}
    assert current['debug'] is True                # input untouched
    assert list(merged)[:2] == ['registry-mirrors', 'log-opts']   # existing order kept


def test_parse_help_maps_flags_to_keys_and_types():
    known = D.parse_help(HELP)
    assert known['hosts'] == 'list' and known['log-opts'] == 'map' and known['default-ulimits'] == 'ulimit'
    assert known['debug'] == 'bool' and known['tls'] == 'bool' and known['runtimes'] == 'runtime'
    assert 'config-file' not in known and 'help' not in known


def test_guide_options_pass_schema():
    assert D.check_schema(GUIDE, D.parse_help(HELP)) == []


@pytest.mark.parametrize('config, message', [
    ({'log-opts': {'max-file': 3}}, '"max-file": 3'),
    ({'log-driverr': 'json-file'}, "'log-driverr' is not a dockerd configuration key"),
    ({'debug': 'yes'}, "'debug' must be true or false"),
    ({'max-concurrent-downloads': '3'}, "must be an integer"),
    ({'registry-mirrors': 'https://m'}, 'a list of strings'),
    ({'default-ulimits': {'nofile': {'Hard': 10, 'Soft': 20}}}, 'Soft <= Hard'),
    ({'default-ulimits': {'nofile': {'Name': 'nproc', 'Hard': 10, 'Soft': 10}}}, 'Name matches'),
    ({'default-ulimits': {'nofile': {'Hard': '64000', 'Soft': 64000}}}, 'integer Hard and Soft'),
])
def test_schema_errors(config, message):
    errors = D.check_schema(config, D.parse_help(HELP))
    assert len(errors) == 1 and message in errors[0]


def test_flags_of_debian_service_conflict_with_hosts_in_file():
    text = ('{ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock ; '
            'ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }')
    flags = D.flags_in_execstart(text)
    assert flags == {'hosts', 'containerd'}
    errors = D.check_conflicts({'hosts': ['unix:///run/docker.sock'], 'log-driver': 'json-file'}, flags)
    assert len(errors) == 1 and "'hosts' set both in the file and as a flag" in errors[0]
    assert D.check_conflicts(GUIDE, flags) == []


def test_existing_file_must_be_a_json_object():
    assert D.parse_existing(None, 'p') == {} and D.parse_existing('  \n', 'p') == {}
    with pytest.raises(D.DaemonConfigError, match='not valid JSON'):
        D.parse_existing('{"a": 1,}', '/etc/docker/daemon.json')
    with pytest.raises(D.DaemonConfigError, match='JSON object'):
        D.parse_existing('[1]', '/etc/docker/daemon.json')


class FakeSystem:
    """What ``configure`` asks of the host, scripted; records warnings and writes."""

    def __init__(self, text=None, driver=None, flags=None, help_text=HELP, validate_answer=None):
        self.files = {} if text is None else {'/etc/docker/daemon.json': text}
        self.driver = driver
        self.flags = flags
        self.help_text = help_text
        self.validate_answer = validate_answer
        self.warnings = []
        self.written = []

    def read(self, path):
        return self.files.get(path)

    def run(self, argv):
        return 0, self.help_text, ''

    def warn(self, message):
        self.warnings.append(message)

    def which(self, name, opt_dirs=()):
        return '/usr/sbin/dockerd' if self.help_text is not None else None

    def executable(self, path):
        return path == '/usr/sbin/dockerd'

    def storage_driver(self):
        return self.driver

    def service_flags(self, service):
        return self.flags

    def validate_copy(self, dockerd, text):
        return self.validate_answer + ('/tmp/daemon-x.json',)

    def backup(self, path):
        return path + '.bak'

    def write(self, path, text):
        self.written.append((path, text))
        self.files[path] = text


def cfg(options, **over):
    base = dict(path='/etc/docker/daemon.json', options=options, validate=True, dockerd=None, service='docker.service',
                allow_storage_driver_change=False, backup=False)
    base.update(over)
    return base


def test_configure_merges_validates_writes_and_is_idempotent():
    system = FakeSystem('{"debug": true}\n', flags={'hosts'})
    result = D.configure(system, cfg(GUIDE, backup=True))
    assert result['changed'] and result['validated_with'] == ['json', 'schema', 'service-flags']
    assert result['backup_file'] == '/etc/docker/daemon.json.bak'
    assert system.written == [('/etc/docker/daemon.json', D.render(dict({'debug': True}, **GUIDE)))]
    again = D.configure(system, cfg(GUIDE))
    assert not again['changed'] and len(system.written) == 1


def test_configure_check_mode_writes_nothing_and_shows_the_diff():
    system = FakeSystem(None)
    result = D.configure(system, cfg({'log-driver': 'json-file'}), check_mode=True)
    assert result['changed'] and system.written == []
    assert result['diff']['before'] == '' and '"log-driver": "json-file"' in result['diff']['after']


def test_configure_keeps_the_running_storage_driver_with_a_warning():
    system = FakeSystem('{}', driver='vfs')
    result = D.configure(system, cfg(GUIDE))
    assert 'storage-driver' not in result['config'] and 'left out' in system.warnings[0]
    assert 'storage-driver' in D.configure(FakeSystem('{}', driver='vfs'), cfg(GUIDE, allow_storage_driver_change=True))['config']


def test_configure_refuses_and_reports_what_it_checked():
    system = FakeSystem('{}', flags={'hosts'})
    with pytest.raises(D.DaemonConfigError) as info:
        D.configure(system, cfg({'hosts': ['unix:///x.sock']}))
    assert 'nothing written' in str(info.value) and info.value.partial['validated_with'] == ['json', 'schema', 'service-flags']
    assert system.written == []
    bad = FakeSystem('{}', help_text=HELP + '      --validate      Validate\n',
                     validate_answer=(1, '', 'unable to configure the Docker daemon with file /tmp/daemon-x.json: bad'))
    with pytest.raises(D.DaemonConfigError, match='with file the merged configuration: bad'):
        D.configure(bad, cfg({'log-driver': 'json-file'}))
    with pytest.raises(D.DaemonConfigError, match='is not an executable'):
        D.configure(FakeSystem('{}'), cfg({'debug': True}, dockerd='/nope'))


def test_configure_without_dockerd_checks_json_only():
    system = FakeSystem('{}', help_text=None)
    assert D.configure(system, cfg({'debug': True}))['validated_with'] == ['json']
    assert system.warnings == ['dockerd not found: daemon.json checked as JSON only']
