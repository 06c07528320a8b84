# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sections of ``cloudos_health``, in report order: name, probe, the libraries it needs.

Adding a section is one entry here plus its probe (``probe(host, params, thresholds) ->
core.Section``, in a file of its own); the module's ``checks`` choices follow this list.

Private to this collection: no compatibility promise.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._sections import SectionSpec, Suite
from ansible_collections.cloudos.ops.plugins.module_utils._health import (
    ai_engine, alerts, certificates, containers, core, kubernetes, monitoring, resources, services, system)

# The containers section, and the HTTP sections when an endpoint refuses (they look for the
# component's container), ask the engine through _docker.Engine on the standard library: the SDK
# is loaded only for an endpoint the Engine does not speak (ssh://). The certificates section reads
# certificates with _der (standard library): cryptography is imported, in the probe's thread, only
# for a certificate the reader refuses; unlike the SDK's distutils shim, its import does not ask
# for the logging lock under the import lock (see Suite.preload).
DOCKER = ('docker',)
KUBERNETES = ('kubernetes.client', 'kubernetes.config')


def _start_cpu_window(host):
    # The CPU window opens before the libraries load, so it runs while they do.
    host.start_cpu_window()


HEALTH = Suite(
    sections=(
        SectionSpec('system', system.probe),
        SectionSpec('services', services.probe),
        SectionSpec('containers', containers.probe, DOCKER, needs=core.docker_sdk_needed),
        SectionSpec('kubernetes', kubernetes.probe, KUBERNETES, needs=core.kubeconfig_present),
        SectionSpec('monitoring', monitoring.probe, DOCKER, needs=core.docker_sdk_needed),
        SectionSpec('alerts', alerts.probe, DOCKER, needs=core.docker_sdk_needed),
        SectionSpec('resources', resources.probe, prepare=_start_cpu_window),
        SectionSpec('ai_engine', ai_engine.probe, DOCKER, needs=core.docker_sdk_needed),
        SectionSpec('certificates', certificates.probe),
    ),
    thresholds=core.THRESHOLDS,
    # timeout plus the CPU sampling window plus a small grace: the module answers within about timeout
    budget=lambda params: max(float(params['timeout']), float(params.get('cpu_sample_seconds') or 0)) + 1.5,
    hang=('no answer within {timeout}s',
          'the {name} check did not finish within {budget:.1f}s (a component is hanging)',
          'Check the {name} components by hand; raise timeout if the host is just slow'),
)
