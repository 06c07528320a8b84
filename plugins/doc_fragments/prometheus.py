# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to Prometheus (``cloudos.ops.prometheus``).

The argument spec they document is ``_prometheus.PROMETHEUS_COMMON_ARGS``.
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  prometheus_url:
    description: Where Prometheus answers, with the path prefix of a C(--web.route-prefix) or a proxy if any.
    type: str
    default: http://localhost:9090
  validate_certs:
    description: Verify the TLS certificate of an C(https://) URL.
    type: bool
    default: true
  timeout:
    description: Seconds per request.
    type: float
    default: 30
'''
