# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to the Docker Engine (``cloudos.ops.docker``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The Docker Engine to talk to, for example V(unix:///run/docker.sock), V(tcp://127.0.0.1:2375) or
        V(tcp://docker.example.com:2376) (with O(tls) or O(validate_certs)).
      - If not set, the environment variable E(DOCKER_HOST) is used; without it, V(unix:///var/run/docker.sock)
        when that socket exists. With none of them, there is no engine to ask (each module says what that means
        for it).
    type: str
  tls:
    description:
      - Talk to a V(tcp://) O(docker_host) over TLS, without verifying the engine's certificate (see
        O(validate_certs)). TLS is also used when E(DOCKER_CERT_PATH), O(ca_path) or O(client_cert) is set.
      - If not set, the environment variable E(DOCKER_TLS) is used.
      - Ignored for V(unix://) endpoints.
    type: bool
    default: false
  validate_certs:
    description:
      - Talk to a V(tcp://) O(docker_host) over TLS and verify the engine's certificate against O(ca_path).
      - If not set, the environment variable E(DOCKER_TLS_VERIFY) is used.
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description:
      - CA certificate (PEM) that signed the engine's certificate, for O(validate_certs).
      - If not set, C(ca.pem) in the directory E(DOCKER_CERT_PATH) is used when it exists.
    type: path
    aliases: [ca_cert, cacert_path]
  client_cert:
    description:
      - Client certificate (PEM) presented to an engine that requires TLS client authentication.
      - If not set, C(cert.pem) in the directory E(DOCKER_CERT_PATH) is used when it exists.
    type: path
  client_key:
    description:
      - Private key (PEM) of O(client_cert).
      - If not set, C(key.pem) in the directory E(DOCKER_CERT_PATH) is used when it exists.
    type: path
  timeout:
    description:
      - Seconds to wait for each Docker API call.
      - If not set, the environment variable E(DOCKER_TIMEOUT) is used.
    type: int
    default: 60
notes:
  - Asking the engine needs the C(docker) Python SDK (5.0 as in Debian 12's C(python3-docker), up to 7.x) on the
    managed host; it is imported only when the engine is asked.
  - Every module of this collection finds the engine by the same rule (O(docker_host), then E(DOCKER_HOST), then
    the default socket) and reports the same errors, naming the endpoint.
'''
