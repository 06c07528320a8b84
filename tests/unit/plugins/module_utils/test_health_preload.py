"""Optional libraries are imported before probe threads start (import/fork deadlock)."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._health import core


def _preload(selected, params, present=(), environ=None, fail=()):
    seen = []

    def importer(name):
        seen.append(name)
        if name in fail:
            raise ImportError(name)

    loaded = core.preload_libraries(selected, params, importer=importer,
                                    exists=lambda path: path in present, environ=environ or {})
    return seen, loaded


def test_docker_sdk_is_imported_up_front_when_a_docker_socket_exists():
    seen, loaded = _preload(['containers', 'monitoring'], {}, present=('/var/run/docker.sock',))
    assert seen == ['docker'] and loaded == ['docker']


def test_nothing_is_imported_for_sections_that_do_not_need_it():
    seen, dummy = _preload(['system', 'resources', 'services'], {}, present=('/var/run/docker.sock',))
    assert seen == []


def test_no_socket_and_no_docker_host_means_no_docker_import():
    seen, dummy = _preload(['containers'], {})
    assert seen == []
    seen, dummy = _preload(['containers'], {'docker_host': 'tcp://127.0.0.1:2375'})
    assert seen == ['docker']


def test_certificates_and_kubernetes_libraries_and_missing_ones():
    seen, loaded = _preload(['certificates', 'kubernetes'], {'kubeconfig': '/tmp/kc'}, fail=('kubernetes.client',))
    assert seen == ['cryptography.x509', 'kubernetes.client', 'kubernetes.config']
    assert loaded == ['cryptography.x509', 'kubernetes.config']
    seen, dummy = _preload(['kubernetes'], {})
    assert seen == []
