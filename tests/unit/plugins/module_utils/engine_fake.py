# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Docker Engine API server on a real unix-domain socket, for the tests of ``_docker.Engine``.

It answers as the Engine API does (the shapes of docker 20.10 to 27, API 1.41 to 1.47):

* ``GET /_ping``: ``OK`` (text/plain) with the ``Api-Version`` header;
* ``GET /version``: ``{"ApiVersion", "MinAPIVersion", "Version", ...}``;
* ``GET /v1.NN/containers/json?all=1``: list entries with ``Id``, ``Names``, ``Image``,
  ``State``, ``Status``;
* ``GET /v1.NN/containers/{id}/json``: the inspect object (``Id``, ``Name``, ``Config.Image``,
  ``State{Status,ExitCode,Health{Status},StartedAt}``, ``RestartCount``, ``Created``), or HTTP
  404 ``{"message": "No such container: ..."}``;
* ``GET /v1.NN/events?since=&until=&filters=``: the events as newline-separated JSON objects
  (``status``, ``id``, ``Type``, ``Action``, ``Actor.ID``, ``time``), chunked, as dockerd streams
  them;
* a version newer than the engine's: HTTP 400 ``{"message": "client version 1.NN is too new..."}``.

``faults`` turn it hostile: ``silent`` (accept, never answer), ``huge`` (a container list larger
than any cap), ``not_json``, ``not_list``, ``truncated_events`` (the stream stops inside a chunk),
``no_version_header``, ``ping_500``. Every request line is kept in ``paths``.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import socketserver
import threading
import time

API_VERSION = '1.43'


def inspect_data(cid, name, status='running', health=None, restart_count=0, exit_code=0,
                 created='2026-11-23T06:00:00.000000001Z', started='2026-11-25T06:00:00.123456789Z', image=None):
    state = {'Status': status, 'Running': status == 'running', 'Paused': status == 'paused',
             'Restarting': status == 'restarting', 'Dead': status == 'dead', 'Pid': 4242, 'ExitCode': exit_code,
             'Error': '', 'StartedAt': started, 'FinishedAt': '0001-01-01T00:00:00Z'}
    if health:
        state['Health'] = {'Status': health, 'FailingStreak': 0, 'Log': []}
    return {'Id': cid, 'Created': created, 'Path': 'sleep', 'Args': ['3600'], 'State': state,
            'Image': 'sha256:' + '0' * 64, 'Name': '/' + name, 'RestartCount': restart_count,
            'Config': {'Hostname': cid[:12], 'Image': image or 'cloudos/%s:1' % name, 'Labels': {}},
            'HostConfig': {'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 0}}}


def list_entry(data):
    return {'Id': data['Id'], 'Names': [data['Name']], 'Image': data['Config']['Image'],
            'ImageID': data['Image'], 'Command': 'sleep 3600', 'Created': 1795500000, 'Ports': [], 'Labels': {},
            'State': data['State']['Status'], 'Status': 'Up 2 hours', 'HostConfig': {'NetworkMode': 'none'}}


def start_event(cid, when=1795500000):
    return {'status': 'start', 'id': cid, 'from': 'cloudos/x:1', 'Type': 'container', 'Action': 'start',
            'Actor': {'ID': cid, 'Attributes': {'name': 'x'}}, 'scope': 'local', 'time': when,
            'timeNano': when * 1000000000}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False


class Engine:
    """The server: ``containers`` (inspect dicts, in list order), ``events`` (dicts), ``faults``."""

    def __init__(self, folder, containers=(), events=(), faults=(), api_version=API_VERSION):
        self.path = os.path.join(str(folder), 'docker.sock')
        self.url = 'unix://' + self.path
        self.containers = list(containers)
        self.listed = None  # list entries to send instead of those of ``containers``
        self.events = list(events)
        self.faults = set(faults)
        self.api_version = api_version
        self.paths = []
        self.release = threading.Event()
        engine = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):  # the client address of a unix socket is ''
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                engine.paths.append(self.path)
                engine.answer(self)

        self.server = _Server(self.path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ answers

    @staticmethod
    def send(handler, status, body, content_type='application/json', headers=()):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header('Content-Type', content_type)
        handler.send_header('Content-Length', str(len(body)))
        handler.send_header('Api-Version', handler.server_api_version)
        for key, value in headers:
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def answer(self, handler):
        handler.server_api_version = self.api_version
        if 'silent' in self.faults:
            self.release.wait(30)
            return
        path = handler.path.partition('?')[0]
        if path == '/_ping':
            if 'ping_500' in self.faults:
                return self.send(handler, 500, {'message': 'daemon is shutting down'})
            handler.send_response(200)
            handler.send_header('Content-Type', 'text/plain; charset=utf-8')
            handler.send_header('Content-Length', '2')
            if 'no_version_header' not in self.faults:
                handler.send_header('Api-Version', self.api_version)
            handler.send_header('Docker-Experimental', 'false')
            handler.send_header('Ostype', 'linux')
            handler.end_headers()
            handler.wfile.write(b'OK')
            return None
        if path == '/version':
            return self.send(handler, 200, {'Version': '24.0.5', 'ApiVersion': self.api_version,
                                            'MinAPIVersion': '1.12', 'Os': 'linux', 'Arch': 'amd64'})
        match = re.match(r'^/v(1\.\d+)(/.*)$', path)
        if not match:
            return self.send(handler, 404, {'message': 'page not found'})
        version, rest = match.groups()
        if tuple(int(x) for x in version.split('.')) > tuple(int(x) for x in self.api_version.split('.')):
            return self.send(handler, 400, {'message': 'client version %s is too new. Maximum supported API version '
                                                       'is %s' % (version, self.api_version)})
        if rest == '/containers/json':
            if 'huge' in self.faults:
                return self.send(handler, 200, b'[' + b'{"Id": "%s"},' % (b'a' * 64) * 40000 + b'{}]')
            if 'not_json' in self.faults:
                return self.send(handler, 200, b'<html>502 Bad Gateway</html>', 'text/html')
            if 'not_list' in self.faults:
                return self.send(handler, 200, {'message': 'a list was expected'})
            entries = self.listed if self.listed is not None else [list_entry(c) for c in self.containers]
            return self.send(handler, 200, entries)
        match = re.match(r'^/containers/([^/]+)/json$', rest)
        if match:
            for data in self.containers:
                if data['Id'] == match.group(1):
                    return self.send(handler, 200, data)
            return self.send(handler, 404, {'message': 'No such container: %s' % match.group(1)})
        if rest == '/events':
            return self.stream_events(handler)
        return self.send(handler, 404, {'message': 'page not found'})

    def stream_events(self, handler):
        handler.send_response(200)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Transfer-Encoding', 'chunked')
        handler.end_headers()
        for event in self.events:
            line = json.dumps(event).encode() + b'\n'
            handler.wfile.write(b'%x\r\n%s\r\n' % (len(line), line))
        if 'truncated_events' in self.faults:
            handler.wfile.write(b'100\r\n{"status": "start", "id": "abc')
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(b'0\r\n\r\n')


def refusing_socket(folder):
    """A socket path where nothing listens (the file of a server that has gone): connecting is refused."""
    path = os.path.join(str(folder), 'gone.sock')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()
    return path


def wait_for(predicate, seconds=2.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not predicate():
        time.sleep(0.01)
    return predicate()
