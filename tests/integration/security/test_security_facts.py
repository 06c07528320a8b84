# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudos_security_facts run for real (ansible localhost) against a real Alertmanager and real sockets."""

from __future__ import annotations

import os
import socket

from tests.integration.lib import run_module


def test_only_team_security_alerts_count(alertmanager):
    alertmanager.push_alerts([
        {'alertname': 'SSHBruteForce', 'team': 'security', 'severity': 'critical', 'instance': 'web1'},
        {'alertname': 'UnexpectedSudo', 'team': 'security', 'severity': 'warning', 'instance': 'web1'},
        {'alertname': 'HighCPU', 'team': 'platform', 'severity': 'critical', 'instance': 'web1'},
    ])
    result = run_module('cloudos_security_facts', {'checks': ['alerts'], 'alertmanager_url': alertmanager.url})
    alerts = result['security']['checks']['alerts']
    assert result['changed'] is False
    assert alerts['metrics'] == {'firing': 2, 'critical': 1, 'other': 1}
    assert sorted((f['severity'], f['message']) for f in alerts['findings']) == [
        ('critical', 'security alert firing: SSHBruteForce on web1: test alert'),
        ('warning', 'security alert firing (warning): UnexpectedSudo on web1: test alert')]
    assert result['security']['status'] == 'critical'
    assert result['security']['checks']['auth']['status'] == 'skipped'


def test_unexpected_listener_is_named_with_its_process():
    """A socket this test opens on all interfaces shows up as unexpected, with this Python as owner."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(('0.0.0.0', 0))  # noqa: S104 - the point of the test: an exposed listener
    server.listen(1)
    port = server.getsockname()[1]
    try:
        result = run_module('cloudos_security_facts', {'checks': ['listeners'], 'expected_listeners': ['tcp/22']})
    finally:
        server.close()
    listeners = result['security']['checks']['listeners']
    mine = [r for r in listeners['details']['listeners'] if r['port'] == port]
    with open('/proc/self/comm') as handle:  # pytest, or python in a pytest-xdist worker
        comm = handle.read().strip()
    assert mine and not mine[0]['expected'] and mine[0]['process'] == '%s (pid %d)' % (comm, os.getpid())
    assert any('port %d' % port in f['message'] for f in listeners['findings'])


def test_bad_parameter_names_itself():
    result = run_module('cloudos_security_facts', {'connection_allowlist': ['10.0.0.300']})
    assert result.get('failed') and "connection_allowlist: '10.0.0.300'" in result['msg']
