"""Optional libraries are imported before probe threads start (import/fork deadlock)."""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.module_utils._health.registry import HEALTH


def _preload(selected, params, present=(), environ=None, fail=()):
    seen = []

    def importer(name):
        seen.append(name)
        if name in fail:
            raise ImportError(name)

    loaded = HEALTH.preload(selected, params, importer=importer,
                            exists=lambda path: path in present, environ=environ or {})
    return seen, loaded


def test_a_docker_socket_or_tcp_endpoint_imports_no_sdk_the_engine_api_is_asked_directly():
    for params, environ in (({}, {}), ({'docker_host': 'tcp://127.0.0.1:2375'}, {}),
                            ({'docker_host': 'unix:///run/docker.sock'}, {}), ({}, {'DOCKER_HOST': 'https://h:2376'})):
        seen, dummy = _preload(['containers', 'monitoring', 'alerts', 'ai_engine'], params,
                               present=('/var/run/docker.sock',), environ=environ)
        assert seen == [], params


def test_docker_sdk_is_imported_up_front_for_an_endpoint_only_the_sdk_speaks():
    seen, loaded = _preload(['containers', 'monitoring'], {'docker_host': 'ssh://ops@engine'})
    assert seen == ['docker'] and loaded == ['docker']
    seen, dummy = _preload(['alerts'], {}, environ={'DOCKER_HOST': 'ssh://ops@engine'})
    assert seen == ['docker']


def test_nothing_is_imported_for_sections_that_do_not_need_it():
    seen, dummy = _preload(['system', 'resources', 'services'], {}, present=('/var/run/docker.sock',))
    assert seen == []


def test_no_socket_and_no_docker_host_means_no_docker_import():
    seen, dummy = _preload(['containers'], {})
    assert seen == []
    seen, dummy = _preload(['containers'], {'docker_host': 'tcp://127.0.0.1:2375'})
    assert seen == []


def test_kubernetes_libraries_and_missing_ones():
    seen, loaded = _preload(['certificates', 'kubernetes'], {'kubeconfig': '/tmp/kc', 'certificate_files': ['/etc/c.crt']},
                            present=('/etc/c.crt',), fail=('kubernetes.client',))
    assert seen == ['kubernetes.client', 'kubernetes.config']
    assert loaded == ['kubernetes.config']
    seen, dummy = _preload(['kubernetes'], {})
    assert seen == []


class _Shim:
    """Stands in for setuptools' DistutilsMetaFinder (its class lives in module _distutils_hack)."""


_Shim.__module__ = '_distutils_hack'


def test_python_311_takes_setuptools_distutils_shim_off_the_import_path_unless_the_user_chose():
    def run(environ, version, imported=()):
        meta_path = ['builtin-finder', _Shim(), 'path-finder']
        HEALTH.preload(['containers'], {'docker_host': 'ssh://ops@engine'}, importer=lambda name: None,
                       exists=lambda path: True,
                       environ=environ, version=version, imported=dict.fromkeys(imported), meta_path=meta_path)
        return [f if isinstance(f, str) else 'shim' for f in meta_path]

    assert run({}, (3, 11, 2)) == ['builtin-finder', 'path-finder']
    assert run({'SETUPTOOLS_USE_DISTUTILS': 'local'}, (3, 11, 2)) == ['builtin-finder', 'shim', 'path-finder']
    assert run({}, (3, 12, 1)) == ['builtin-finder', 'shim', 'path-finder']  # no distutils in 3.12's stdlib
    assert run({}, (3, 11, 2), imported=['distutils']) == ['builtin-finder', 'shim', 'path-finder']  # too late


def test_cryptography_is_not_preloaded_for_certificates_the_der_reader_reads_them():
    # it was preloaded whenever a certificate file existed or an endpoint was configured
    for params in ({'certificate_files': ['/etc/ssl/certs/cloudos.crt']},
                   {'certificate_files': [], 'certificate_endpoints': ['example.org:443']}):
        seen, dummy = _preload(['certificates'], params, present=('/etc/ssl/certs/cloudos.crt',))
        assert seen == []
    from ansible_collections.cloudos.ops.plugins.module_utils._security import SECURITY
    seen = []
    SECURITY.preload(['certificates'], {'certificate_files': ['/etc/ssl/certs/cloudos.crt']}, importer=seen.append,
                     exists=lambda path: True, environ={})
    assert seen == []
