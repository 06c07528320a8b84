"""daily_health_textfile_dir end to end: playbooks/daily_health.yml writes cloudos_health.prom on
localhost, the real prometheus-node-exporter exposes it (--collector.textfile.directory), the
real Prometheus scrapes the exporter, and its HTTP API answers a query for the gauges.

The AI engine is required at a 127.0.0.1 port where nothing listens: a critical check on any
machine (ai_engine gauge 2); only the system and ai_engine sections run.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request

from tests.integration.lib import (
    NODE_EXPORTER, ROOT, Service, free_port, require_binary, run_playbook, start_prometheus)

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'daily_health.yml')
LOCAL = os.path.join(ROOT, 'inventories', 'local')
CALM = {'cpu': 100, 'memory': 100, 'memory_critical': 100, 'disk': 100, 'disk_critical': 100}


def query(prometheus, expr):
    url = '%s/api/v1/query?%s' % (prometheus.url, urllib.parse.urlencode({'query': expr}))
    with urllib.request.urlopen(url, timeout=5) as answer:
        data = json.loads(answer.read().decode())
    assert data['status'] == 'success', data
    return data['data']['result']


def test_prometheus_answers_a_query_for_the_exported_gauges(tmp_path):
    require_binary(NODE_EXPORTER)
    textfiles = tmp_path / 'textfile'
    textfiles.mkdir()
    extra = {'daily_health_report_dir': str(tmp_path / 'report'), 'daily_health_thresholds': CALM,
             'daily_health_checks': ['system', 'ai_engine'], 'daily_health_required': ['ai_engine'],
             'daily_health_urls': {'ai_engine': 'http://127.0.0.1:%d' % free_port()},
             'daily_health_textfile_dir': str(textfiles), 'daily_health_fail_on': 'never'}
    proc = run_playbook(PLAYBOOK, inventory=LOCAL, extra_vars=extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert os.listdir(str(textfiles)) == ['cloudos_health.prom']  # no temporary file left behind
    text = (textfiles / 'cloudos_health.prom').read_text()
    assert 'cloudos_health_check_status{check="ai_engine"} 2' in text

    port = free_port()
    exporter = Service([NODE_EXPORTER, '--web.listen-address=127.0.0.1:%d' % port, '--log.level=warn',
                        '--collector.disable-defaults', '--collector.textfile',
                        '--collector.textfile.directory=%s' % textfiles],
                       port, '/metrics', 'node exporter', cwd=str(tmp_path))
    prometheus = None
    try:
        (tmp_path / 'prom').mkdir()
        prometheus = start_prometheus(str(tmp_path / 'prom'), scrape={'node': ['127.0.0.1:%d' % port]}, interval='1s')
        deadline = time.time() + 40
        result = []
        while time.time() < deadline:
            result = query(prometheus, 'cloudos_health_check_status{job="node"}')
            if len(result) == 9:  # every section: the ones not selected are skipped (0)
                break
            time.sleep(0.5)
        by_check = dict((r['metric']['check'], float(r['value'][1])) for r in result)
        assert by_check.pop('ai_engine') == 2.0 and by_check.pop('system') == 0.0, result
        assert set(by_check.values()) == {0.0} and len(by_check) == 7, result
        assert float(query(prometheus, 'cloudos_health_findings{severity="critical"}')[0]['value'][1]) >= 1
        stale = query(prometheus, 'time() - cloudos_health_last_run_timestamp_seconds')
        assert 0 <= float(stale[0]['value'][1]) < 600
        assert query(prometheus, 'cloudos_health_duration_seconds')
        # The exporter read the file without complaint.
        assert query(prometheus, 'node_textfile_scrape_error == 0')
    finally:
        if prometheus:
            prometheus.stop()
        exporter.stop()
