"""Stopping writers and resuming exactly them."""

from __future__ import annotations

import pytest

from ansible_collections.cloudos.ops.plugins.module_utils import _workload as w


class Fake:
    def __init__(self, units, containers, broken=()):
        self.units, self.containers, self.broken = units, containers, set(broken)
        self.calls = []

    def running_units(self, patterns):
        return list(self.units) if patterns else []

    def running_containers(self, patterns):
        return list(self.containers) if patterns else []

    def _do(self, what, name):
        self.calls.append((what, name))
        if name in self.broken:
            raise RuntimeError('no such thing')

    def stop_unit(self, name, timeout):
        self._do('stop', name)

    def start_unit(self, name):
        self._do('start', name)

    def stop_container(self, name, timeout):
        self._do('docker stop', name)

    def start_container(self, name):
        self._do('docker start', name)


def params(**kw):
    base = {'state': 'stopped', 'unit_patterns': ['cloudos-*'], 'container_patterns': ['cloudos-*'], 'units': [],
            'containers': [], 'stop_timeout': 30}
    base.update(kw)
    return base


def test_stop_containers_first_then_units_and_say_what_was_stopped():
    fake = Fake(['cloudos-api.service'], ['cloudos-web'])
    result = w.run(params(), fake)
    assert fake.calls == [('docker stop', 'cloudos-web'), ('stop', 'cloudos-api.service')]
    assert result == {'changed': True, 'state': 'stopped', 'units': ['cloudos-api.service'],
                      'containers': ['cloudos-web'], 'errors': []}


def test_resume_starts_exactly_what_it_is_given():
    fake = Fake(['cloudos-other.service'], ['cloudos-other'])
    result = w.run(params(state='started', unit_patterns=[], container_patterns=[],
                          units=['cloudos-api.service'], containers=['cloudos-web']), fake)
    assert fake.calls == [('start', 'cloudos-api.service'), ('docker start', 'cloudos-web')]
    assert result['changed'] is True


def test_check_mode_lists_and_does_nothing():
    fake = Fake(['cloudos-api.service'], ['cloudos-web'])
    result = w.run(params(), fake, check_mode=True)
    assert fake.calls == [] and result['units'] == ['cloudos-api.service'] and result['changed'] is True


def test_nothing_running_is_no_change():
    assert w.run(params(), Fake([], []))['changed'] is False


def test_errors_are_collected_and_the_rest_still_done():
    fake = Fake(['a.service', 'b.service'], [], broken=['a.service'])
    result = w.run(params(), fake)
    assert result['units'] == ['b.service']
    assert result['errors'] == ['stopping unit a.service: no such thing']


@pytest.mark.parametrize('bad, message', [
    (params(units=['-x']), "units entries must be unit or container names, got '-x'"),
    (params(state='started'), 'state=started takes units and containers'),
    (params(stop_timeout=99999), 'stop_timeout must be between 0 and 3600 seconds, got 99999'),
])
def test_bad_input(bad, message):
    with pytest.raises(w.WorkloadError, match=message):
        w.validate(bad)
