"""report.html in a real browser: Debian's headless Chromium loads the file written by the
cloudos.ops.fleet_report action and we read back the DOM it built and a screenshot.

The report comes from the real action plugin (run by ansible-playbook) fed with hand-built
cloudos_health results, one of them with a known critical finding; nothing is mocked on
the browser side. Chromium runs with networking features off and a fresh profile, and the
page carries a Content-Security-Policy that forbids every external load.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from tests.integration.lib import require_binary, run_playbook

CHROMIUM = '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--mute-audio']

CRITICAL = {'check': 'alerts', 'severity': 'critical',
            'message': 'Critical alert firing: CloudOSApiDown (cloudos-api is not answering)',
            'action': 'Investigate every critical alert now: amtool alert query severity=critical',
            'metric': 'alerts_critical', 'value': 1, 'threshold': 0}
HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


NOW = datetime.now(timezone.utc).replace(microsecond=0)
STARTED = (NOW - timedelta(seconds=5)).isoformat()


def _health(host, checks, findings):
    return {'changed': False, 'health': {
        'host': host, 'status': 'ok', 'checked_at': (NOW - timedelta(seconds=3)).isoformat(), 'duration_ms': 912,
        'checks': dict((name, {'status': status, 'summary': summary, 'metrics': {}, 'findings': [
            f for f in findings if f['check'] == name]}) for name, status, summary in checks),
        'findings': findings,
        'thresholds': {'cpu': 80, 'disk': 80, 'alerts_critical': 0}}}


RESULTS = {
    'cloudos-ctl-1': _health('cloudos-ctl-1', [
        ('system', 'ok', 'load 0.3'), ('services', 'ok', '3 units active'),
        ('alerts', 'critical', '1 critical alert firing'), ('ai_engine', 'absent', 'not installed')], [CRITICAL]),
    'cloudos-ai-1': _health('cloudos-ai-1', [
        ('system', 'warning', '/opt 86 % full'), ('services', 'ok', '3 units active'),
        ('alerts', 'ok', 'none firing'), ('ai_engine', 'ok', '2 models')],
        [{'check': 'system', 'severity': 'warning', 'message': HOSTILE, 'action': 'Clean up /opt'}]),
    'cloudos-worker-1': _health('cloudos-worker-1', [
        ('system', 'ok', 'load 0.1'), ('services', 'ok', '3 units active'),
        ('alerts', 'ok', 'none firing'), ('ai_engine', 'absent', 'not installed')], []),
}


class Dom(HTMLParser):
    """The grid as Chromium serialised it: {host: {check: status class}}, plus finding rows."""

    def __init__(self):
        super().__init__()
        self.grid = {}
        self.columns = []
        self.findings = []
        self.title = ''
        self.scripts = 0
        self.images = 0
        self._row = None
        self._finding = None
        self._cell = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get('class') or '').split()
        if tag == 'script':
            self.scripts += 1
        if tag == 'img':
            self.images += 1
        if tag == 'title':
            self._in_title = True
        if tag == 'th' and 'check' in classes:
            self.columns.append(attrs['data-check'])
        if tag == 'tr' and 'host-row' in classes:
            self._row = attrs['data-host']
            self.grid[self._row] = {}
        if tag == 'td' and self._row and 'cell' in classes:
            self.grid[self._row][attrs['data-check']] = [c[3:] for c in classes if c.startswith('st-')][0]
        if tag == 'tr' and 'finding' in classes:
            self._finding = {'data-check': attrs['data-check'], 'classes': classes}
            self.findings.append(self._finding)
        if tag == 'td' and self._finding is not None:
            self._cell = (attrs.get('class') or 'other').split()[0]
            self._finding.setdefault(self._cell, '')

    def handle_endtag(self, tag):
        if tag == 'tr':
            self._row = None
            self._finding = None
        if tag == 'title':
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._finding is not None and self._cell:
            self._finding[self._cell] += data


def chromium(*args, profile):
    require_binary(CHROMIUM)
    cmd = [CHROMIUM] + FLAGS + ['--user-data-dir=%s' % profile] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, HOME=str(profile)))
    assert proc.returncode == 0, 'chromium failed (%d): %s' % (proc.returncode, proc.stderr[-3000:])
    return proc.stdout


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) into rows of bytes."""
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    width, height, depth, color, interlace = header[0], header[1], header[2], header[3], header[6]
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    pos = 0
    for dummy in range(height):
        ftype, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xff
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xff
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope='module')
def report_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp('browser')
    playbook = base / 'write.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  tasks:\n'
        '    - cloudos.ops.fleet_report:\n'
        '        dest: "{{ dest }}"\n'
        '        hosts: "{{ hosts_list }}"\n'
        '        results: "{{ results }}"\n'
        '        title: CloudOS daily health\n'
        '        kind: daily_health\n'
        '        started_at: "{{ started }}"\n')
    dest = base / 'report'
    proc = run_playbook(str(playbook), extra_vars={
        'dest': str(dest), 'results': RESULTS, 'started': STARTED,
        'hosts_list': list(RESULTS) + ['cloudos-gone-1']})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return dest


def test_chromium_renders_the_grid_and_the_critical_finding_with_its_action(report_dir, tmp_path):
    html = report_dir / 'report.html'
    dom_text = chromium('--dump-dom', html.as_uri(), profile=tmp_path / 'profile')
    dom = Dom()
    dom.feed(dom_text)
    # Host rows x check columns, each cell coloured by its status class.
    assert dom.columns == ['system', 'services', 'alerts', 'ai_engine']
    assert set(dom.grid) == {'cloudos-ctl-1', 'cloudos-ai-1', 'cloudos-worker-1', 'cloudos-gone-1'}
    assert dom.grid['cloudos-ctl-1'] == {'system': 'ok', 'services': 'ok', 'alerts': 'critical', 'ai_engine': 'absent'}
    assert dom.grid['cloudos-ai-1']['system'] == 'warning'
    assert dom.grid['cloudos-gone-1'] == {'*': 'unreachable'}
    # The critical finding with the guide's action, on the critical host.
    crit = [f for f in dom.findings if f['data-check'] == 'alerts']
    assert len(crit) == 1
    assert 'f-critical' in crit[0]['classes']
    assert crit[0]['check'] == 'alerts'
    assert crit[0]['message'] == CRITICAL['message']
    assert crit[0]['action'] == CRITICAL['action']
    assert crit[0]['value'] == '1 / threshold 0'
    # The hostile finding is text, not markup: nothing ran, nothing was created.
    hostile = [f for f in dom.findings if f['data-check'] == 'system'][0]
    assert hostile['message'] == HOSTILE
    assert dom.scripts == 0 and dom.images == 0
    assert 'pwned' not in dom.title
    assert dom.title.startswith('CloudOS daily health')


def test_screenshot_shows_the_status_colours(report_dir, tmp_path):
    shot = tmp_path / 'report.png'
    chromium('--screenshot=%s' % shot, '--window-size=1400,1000', (report_dir / 'report.html').as_uri(),
             profile=tmp_path / 'profile')
    width, height, bpp, rows = png_pixels(str(shot))
    assert (width, height) == (1400, 1000)
    colours = set()
    for y in range(0, height, 4):
        row = rows[y]
        for x in range(0, width * bpp, bpp * 4):
            colours.add(tuple(row[x:x + 3]))
    # Not blank, and the grid's status colours are painted (CSS variables of the page).
    assert len(colours) > 20
    for name, rgb in (('critical', (0xfb, 0xc4, 0xc4)), ('ok', (0xd8, 0xf3, 0xe0)),
                      ('warning', (0xff, 0xe9, 0xa8)), ('unreachable', (0xdd, 0xd0, 0xfb))):
        assert rgb in colours, '%s colour %s not painted' % (name, rgb)


def test_report_json_next_to_the_page_matches_it(report_dir):
    data = json.loads((report_dir / 'report.json').read_text())
    assert data['summary']['failing_hosts'] == ['cloudos-gone-1', 'cloudos-ctl-1']
    assert data['findings'][1]['action'] == CRITICAL['action']
