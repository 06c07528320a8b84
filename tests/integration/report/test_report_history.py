"""Two daily_health runs with a change between them, end to end (playbooks/daily_health.yml on
localhost): the real cloudos_health checks an AI engine served by this test, which is healthy with
no model loaded in the first run (a warning) and has a model but reports itself down in the second
(a critical). The second run must show one `new` and one `resolved` finding in every format, the
headless Chromium must show them in the HTML's "Changes since the last run", and a webhook receiver
must get exactly one notification per change, none for an unchanged re-run and a reminder when
the reminder interval is 0s.

Deterministic by construction: run directories are named by the test (run ids of four different
days), the engine's answers are set before each run, and only the ai_engine section runs.
"""

from __future__ import annotations

import json
import os
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest

from tests.fixtures.receivers import HttpReceiver
from tests.integration.lib import ROOT, run_playbook
from tests.integration.report.test_report_browser import chromium

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'daily_health.yml')
LOCAL = os.path.join(ROOT, 'inventories', 'local')
RUNS = ['2026-01-0%dT060000Z' % day for day in (1, 2, 3, 4)]
FORMATS = ['json', 'markdown', 'html', 'junit', 'nagios', 'tap']
DOWN = 'AI engine reports status "down"'
NO_MODEL = 'AI engine has no model loaded'


class Engine:
    """A fake CloudOS AI engine: /health and /api/v1/models answer what ``state`` says."""

    def __init__(self):
        self.state = {'status': 'healthy', 'models': []}
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                if self.path == '/health':
                    body = {'status': engine.state['status']}
                elif self.path == '/api/v1/models':
                    body = {'loaded_models': engine.state['models']}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Four runs into one report root; {run id: (proc, report dir)} and the receiver's bodies per run."""
    root = tmp_path_factory.mktemp('history') / 'daily_health'
    engine = Engine()
    out = {'root': root, 'runs': {}, 'received': []}
    with HttpReceiver() as rx:
        try:
            for index, run_id in enumerate(RUNS):
                if index == 1:
                    engine.state = {'status': 'down', 'models': ['llm-small']}
                extra = {
                    'daily_health_report_root': str(root), 'daily_health_report_dir': str(root / run_id),
                    'daily_health_checks': ['ai_engine'], 'daily_health_urls': {'ai_engine': engine.url},
                    'daily_health_report_formats': FORMATS, 'daily_health_fail_on': 'never',
                    'daily_health_notify_targets': [{'type': 'webhook', 'url': rx.url('/hook')}],
                    'daily_health_notify_reminder': '0s' if index == 3 else '24h',
                    'daily_health_report_keep': 3,
                }
                proc = run_playbook(PLAYBOOK, inventory=LOCAL, extra_vars=extra)
                assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
                out['runs'][run_id] = root / run_id
                out['received'].append(len(rx.bodies('/hook')))
                if index == 0:  # pruned by the fourth run
                    out['first'] = (read(root / run_id / 'report.json'), read(root / run_id / 'report.md'))
            out['bodies'] = rx.bodies('/hook')
        finally:
            engine.close()
    return out


def read(path):
    with open(str(path), encoding='utf-8') as handle:
        return handle.read()


def test_the_second_run_shows_one_new_and_one_resolved_finding_in_every_format(runs):
    second = runs['root'] / RUNS[1]
    report = json.loads(read(second / 'report.json'))
    changes = report['changes']
    assert report['previous_run']['run_id'] == RUNS[0]
    assert [(f['host'], f['message'], f['change']) for f in changes['new']] == [('localhost', DOWN, 'new')]
    assert [(f['host'], f['message'], f['change']) for f in changes['resolved']] == [('localhost', NO_MODEL, 'resolved')]
    assert changes['counts']['new'] == 1 and changes['counts']['resolved'] == 1
    md = read(second / 'report.md')
    assert md.startswith('# ') and md.index('## Changes since the last run') < md.index('## Hosts')
    assert '**new** critical localhost/ai\\_engine: %s' % DOWN in md
    assert '**resolved** warning localhost/ai\\_engine: %s' % NO_MODEL in md
    html = read(second / 'report.html')
    assert 'data-change="new" data-host="localhost" data-check="ai_engine"' in html
    assert 'data-change="resolved" data-host="localhost" data-check="ai_engine"' in html
    junit = ElementTree.parse(str(second / 'junit.xml')).getroot()
    case = [c for c in junit.iter('testcase') if c.get('name') == 'ai_engine'][0]
    assert '[new] [CRITICAL] %s' % DOWN in case.find('failure').text
    assert '[resolved] [WARNING] %s' % NO_MODEL in case.find('system-out').text
    nagios = read(second / 'nagios.txt')
    host, line = nagios.rstrip('\n').split('\t')
    assert host == 'localhost' and line.startswith('CRITICAL: localhost critical: 1 critical, 0 warning; 1 new, 1 resolved')
    assert "'ai_engine'=2;1;2;0;2" in line.split(' | ')[1]
    tap = read(second / 'report.tap')
    assert tap.startswith('TAP version 14\n1..9\nok 1 - localhost system # SKIP skipped')  # not selected
    assert '\nnot ok 8 - localhost ai_engine: critical' in tap
    assert 'change: "new"' in tap and '  resolved:\n' in tap and NO_MODEL in tap
    # The first run had no history: everything new, said so.
    first = json.loads(runs['first'][0])
    assert first['previous_run'] is None and first['changes']['history'] is False
    assert [f['change'] for f in first['findings']] == ['new']
    assert 'No previous run to compare with' in runs['first'][1]


def test_unchanged_reruns_carry_first_seen_and_streak(runs):
    third = json.loads(read(runs['root'] / RUNS[2] / 'report.json'))
    fourth = json.loads(read(runs['root'] / RUNS[3] / 'report.json'))
    assert third['changes']['changed'] is False and third['changes']['counts']['still'] == 1
    assert [f['streak'] for f in fourth['findings']] == [3]
    assert fourth['findings'][0]['first_seen'] == third['findings'][0]['first_seen']


def test_one_notification_per_change_none_for_an_unchanged_rerun_a_reminder_at_0s(runs):
    # run 1 (everything new: a warning), run 2 (the change), run 3 (unchanged, 24h): nothing,
    # run 4 (unchanged, reminder 0s): a reminder.
    assert runs['received'] == [1, 2, 2, 3]
    change = runs['bodies'][1]
    assert sorted((a['status'], a['labels']['alertname']) for a in change['alerts']) == [
        ('firing', 'CloudOSHealthFinding'), ('resolved', 'CloudOSHealthFinding')]
    reminder = runs['bodies'][2]
    assert [a['status'] for a in reminder['alerts']] == ['firing']
    state = json.loads(read(runs['root'] / '.notify-state.json'))
    assert state['reason'] == 'reminder'


def test_old_runs_are_pruned_to_daily_health_report_keep(runs):
    names = sorted(n for n in os.listdir(str(runs['root'])) if not n.startswith('.'))
    assert names == RUNS[1:] + ['latest']
    assert os.readlink(str(runs['root'] / 'latest')) == RUNS[3]


def test_chromium_shows_the_changes_section_with_the_resolved_finding(runs, tmp_path):
    html = runs['root'] / RUNS[1] / 'report.html'
    dom = chromium('--dump-dom', html.as_uri(), profile=tmp_path / 'profile')
    start = dom.index('id="changes"')
    assert start < dom.index('id="grid"')
    section = dom[start:dom.index('</section>', start)]
    assert 'Changes since the last run' in section
    assert 'data-change="resolved"' in section and NO_MODEL in section
    assert 'data-change="new"' in section and DOWN.replace('"', '&quot;') in section or DOWN in section
