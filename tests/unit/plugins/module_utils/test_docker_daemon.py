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
