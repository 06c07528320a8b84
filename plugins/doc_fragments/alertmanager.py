# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to Alertmanager (``cloudos.ops.alertmanager``).

The argument spec they document is ``_alertmanager.ALERTMANAGER_COMMON_ARGS``; the fragment also
documents the modules' membership of the action group ``cloudos.ops.alertmanager``.
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  url:
    description:
      - Base URL of Alertmanager, including any path prefix (C(--web.route-prefix), or the location of a
        reverse proxy), for example V(https://alerts.example.com/alertmanager).
      - Only Alertmanager API v2 (C(/api/v2/)) is used.
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_URL) is used.
    type: str
    default: http://localhost:9093
  url_username:
    description:
      - User name for HTTP basic authentication (for example an authenticating reverse proxy, or
        Alertmanager's own C(--web.config.file) basic auth).
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_USERNAME) is used.
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication. Requires O(url_username).
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_PASSWORD) is used.
    type: str
    aliases: [password]
  bearer_token:
    description:
      - Token sent in the C(Authorization) header as C(Bearer <token>).
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_TOKEN) is used.
    type: str
  headers:
    description:
      - Extra HTTP headers sent with every request, for example a tenant header (C(X-Scope-OrgID)) required
        by a proxy in front of Alertmanager.
      - Header values are not hidden in logs; pass secrets with O(bearer_token) or O(url_password).
    type: dict
    default: {}
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only for test servers.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the certificate authority (or authorities) that signed the server's certificate, for a
        private CA.
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_CA_PATH) is used (the AWX credential type
        of this collection sets it).
    type: path
  client_cert:
    description:
      - PEM file with a client certificate for mutual TLS. It may also hold the private key.
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_CLIENT_CERT) is used.
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert), when the certificate file does not hold it.
      - If not set, the environment variable E(CLOUDOS_ALERTMANAGER_CLIENT_KEY) is used.
    type: path
  timeout:
    description:
      - Seconds each HTTP request may take as a whole (connecting, sending and reading the whole answer).
    type: float
    default: 10
attributes:
  action_group:
    description: Use C(group/cloudos.ops.alertmanager) in C(module_defaults) to set the connection options once
      for every Alertmanager module.
    support: full
    membership:
      - cloudos.ops.alertmanager
'''
