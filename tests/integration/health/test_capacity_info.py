"""cloudos_capacity_info end to end: the real module run by Ansible on localhost against the real
Prometheus of Debian's ``prometheus`` package, started on 127.0.0.1 with a temporary TSDB,
scraping itself and Debian's ``prometheus-node-exporter`` (also on 127.0.0.1) every second.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest

from tests.integration import lib


@pytest.fixture(scope='module')
def scraped(tmp_path_factory):
    """Prometheus that has scraped the node exporter for long enough to give every range query
    with a step of a few seconds at least one point."""
    workdir = tmp_path_factory.mktemp('capacity')
    exporter = lib.start_node_exporter(workdir)
    prometheus = lib.start_prometheus(workdir, scrape={'node': ['127.0.0.1:%d' % exporter.port]}, interval='1s')
    try:
        deadline = time.monotonic() + 60
        while not _instant(prometheus.url, 'node_memory_MemAvailable_bytes'):
            assert time.monotonic() < deadline, 'Prometheus never scraped the node exporter'
            time.sleep(0.5)
        time.sleep(10)  # a range query over a day steps 9 s at least: let one step pass
        yield prometheus
    finally:
        prometheus.stop()
        exporter.stop()


def _instant(url, query):
    target = url + '/api/v1/query?' + urllib.parse.urlencode({'query': query})
    with urllib.request.urlopen(target, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
        return json.load(resp)['data']['result']


def capacity_info(prometheus, **args):
    result = lib.run_module('cloudos_capacity_info', dict({'prometheus_url': prometheus.url, 'days': 1, 'step': 1,
                                                          'min_span_days': 0}, **args))
    assert not result.failed, result
    assert result['changed'] is False
    return result['capacity']


def test_default_queries_summarise_disk_and_memory(scraped):
    capacity = capacity_info(scraped)
    assert capacity['days'] == 1 and capacity['step'] == 9  # 1 s raised to stay under 10000 points
    series = capacity['series']
    assert 'memory' in series and any(name.startswith('disk:') for name in series), sorted(series)
    for name in ['memory'] + [n for n in series if n.startswith('disk:')]:
        summary = series[name]
        assert summary['points'] >= 1, (name, summary)
        assert 0 < summary['last'] < 100 and summary['min'] <= summary['avg'] <= summary['max'], (name, summary)


def test_series_are_named_by_label(scraped):
    capacity = capacity_info(scraped, queries={'up': '100 * up'}, series_label='job')
    assert {'up:node', 'up:self'} <= set(capacity['series'])
    assert capacity['series']['up:node']['last'] == 100.0
    assert capacity['findings'] == []


def test_rising_series_becomes_a_finding(scraped):
    # Evaluated by the real Prometheus at every step: rises from 0 to 50 % over the day asked
    # for, i.e. 50 points a day, full about one day from now.
    origin = int(time.time()) - 86400
    rising = {'clock': 'vector((time() - %d) / 1728)' % origin}
    capacity = capacity_info(scraped, queries=rising)
    clock = capacity['series']['clock']
    assert 49 < clock['last'] <= 51 and 49 < clock['trend_per_day'] < 51
    assert 0.9 < clock['days_to_full'] < 1.1
    finding = capacity['findings'][0]
    assert (finding['check'], finding['severity'], finding['metric']) == ('capacity', 'critical', 'clock')
    assert 'full in about 1 days' in finding['message']
    warn = capacity_info(scraped, queries=rising, warn_days=2, critical_days=0)
    assert [f['severity'] for f in warn['findings']] == ['warning']
    assert capacity_info(scraped, queries=rising, warn_days=0, critical_days=0)['findings'] == []
    # A young series (less than min_span_days of data) is summarised, never extrapolated.
    assert capacity_info(scraped, queries=rising, min_span_days=2)['findings'] == []


def test_refused_query_names_query_and_endpoint(scraped):
    result = lib.run_module('cloudos_capacity_info', {'prometheus_url': scraped.url, 'days': 1,
                                                      'queries': {'broken': 'sum(('}})
    assert result.failed
    assert result['msg'].startswith('Prometheus query broken failed: POST %s/api/v1/query_range answered HTTP 400'
                                    % scraped.url), result['msg']


def test_nothing_listening_and_bad_url(scraped):
    result = lib.run_module('cloudos_capacity_info', {'prometheus_url': 'http://127.0.0.1:%d' % lib.free_port()})
    assert result.failed and 'connection refused' in result['msg'] and 'Prometheus query disk failed' in result['msg']
    result = lib.run_module('cloudos_capacity_info', {'prometheus_url': 'localhost:9090'})
    assert result.failed and result['msg'].startswith("prometheus_url='localhost:9090' must start with http://")
