# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kubernetes`` section: nodes that are not Ready and pods that are stuck, through the
``kubernetes`` Python client and a kubeconfig (the guide's ``kubectl get nodes`` and
``kubectl get pods -A | grep -E "(Error|CrashLoop|Pending)"``).

Severity rules: a node whose Ready condition is not ``True`` is critical; a container
waiting in ``CrashLoopBackOff`` is critical; a container waiting or terminated with
``Error``, image pull failures and config errors, and pods in phase ``Failed`` are
warnings; pods ``Pending`` are warnings.
"""

from __future__ import annotations

import os

from ansible_collections.cloudos.ops.plugins.module_utils._health.core import (
    CRITICAL, WARNING, Section, not_installed)

CRASH_REASONS = ('CrashLoopBackOff',)
ERROR_REASONS = ('Error', 'ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError',
                 'CreateContainerError', 'InvalidImageName', 'RunContainerError', 'OOMKilled')
MAX_LISTED = 20


def find_kubeconfig(host, option):
    """The kubeconfig to use: the option, else the first file of ``$KUBECONFIG``, else ``~/.kube/config``."""
    if option:
        return option
    env = os.environ.get('KUBECONFIG')
    if env:
        for path in env.split(os.pathsep):
            if path and host.exists(path):
                return path
    default = os.path.expanduser('~/.kube/config')
    if host.exists(default):
        return default
    return None


def _get(obj, *path):
    """Walk dicts (raw JSON) or client model objects alike."""
    for key in path:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(key) if key in obj else obj.get(_camel(key))
        else:
            obj = getattr(obj, key, None)
    return obj


def _items(value, what):
    """``value`` as a list (``None`` is empty); anything else than a list is a ``ValueError``
    naming ``what``, so an answer of the wrong shape becomes a finding, never a TypeError."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError('%s is %s, not a list' % (what, type(value).__name__))
    return list(value)


def _object(value, what):
    """``value`` unless it is a scalar (a string, a number, a boolean) where an object belongs."""
    if value is None or isinstance(value, (str, bytes, int, float, list, tuple)):
        raise ValueError('%s is %s, not an object: %.100r' % (what, type(value).__name__, value))
    return value


def _camel(name):
    head, *rest = name.split('_')
    return head + ''.join(p.title() for p in rest)


def node_problems(nodes):
    """``[(severity, message, action)]`` for nodes whose Ready condition is not True."""
    out = []
    for node in _items(nodes, 'the node list (/api/v1/nodes)'):
        node = _object(node, 'a node of /api/v1/nodes')
        name = _get(node, 'metadata', 'name')
        ready = None
        reason = ''
        for cond in _items(_get(node, 'status', 'conditions'), 'status.conditions of node %s' % name):
            if _get(cond, 'type') == 'Ready':
                ready = _get(cond, 'status')
                reason = _get(cond, 'reason') or _get(cond, 'message') or ''
        if ready != 'True':
            state = {'False': 'NotReady', 'Unknown': 'NotReady (status Unknown: kubelet stopped reporting)'}.get(
                ready, 'without a Ready condition')
            out.append((CRITICAL, 'node %s is %s%s' % (name, state, ' (%s)' % reason if reason else ''),
                        'kubectl describe node %s; systemctl status kubelet; journalctl -u kubelet -n 100' % name))
        if _get(node, 'spec', 'unschedulable'):
            out.append((WARNING, 'node %s is cordoned (SchedulingDisabled)' % name,
                        'kubectl uncordon %s once its maintenance is over' % name))
    return out


def pod_problem(pod):
    """``(severity, reason, container)`` for a stuck pod, or ``None``."""
    pod = _object(pod, 'a pod of /api/v1/pods')
    phase = _get(pod, 'status', 'phase')
    where = 'pod %s' % _get(pod, 'metadata', 'name')
    statuses = _items(_get(pod, 'status', 'init_container_statuses'), 'initContainerStatuses of %s' % where) + \
        _items(_get(pod, 'status', 'container_statuses'), 'containerStatuses of %s' % where)
    found = None
    for status in statuses:
        waiting = _get(status, 'state', 'waiting')
        terminated = _get(status, 'state', 'terminated')
        reason = _get(waiting, 'reason') if waiting is not None else None
        if reason is None and terminated is not None and phase != 'Succeeded':
            reason = _get(terminated, 'reason')
        if reason in CRASH_REASONS:
            return CRITICAL, reason, _get(status, 'name')
        if reason in ERROR_REASONS and found is None:
            found = (WARNING, reason, _get(status, 'name'))
    if found:
        return found
    if phase == 'Failed':
        return WARNING, _get(pod, 'status', 'reason') or 'Failed', None
    if phase == 'Pending':
        return WARNING, 'Pending', None
    return None


def pod_problems(pods):
    out = []
    for pod in _items(pods, 'the pod list (/api/v1/pods)'):
        problem = pod_problem(pod)
        if not problem:
            continue
        severity, reason, container = problem
        ns = _get(pod, 'metadata', 'namespace')
        name = _get(pod, 'metadata', 'name')
        where = ' (container %s)' % container if container else ''
        if reason == 'Pending':
            action = 'kubectl -n %s describe pod %s (events: scheduling, volumes, images)' % (ns, name)
        else:
            action = 'kubectl -n %s logs %s%s --previous; kubectl -n %s describe pod %s' % (
                ns, name, ' -c %s' % container if container else '', ns, name)
        out.append((severity, reason, 'pod %s/%s is %s%s' % (ns, name, reason, where), action))
    return out


def list_cluster(kubeconfig, context, timeout):
    """``(nodes, pods)`` as client model objects; raises on any failure."""
    # pylint: disable=import-outside-toplevel
    from kubernetes import client as kclient
    from kubernetes import config as kconfig
    configuration = kclient.Configuration()
    kconfig.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration,
                             persist_config=False)
    if hasattr(configuration, 'retries'):
        configuration.retries = 0  # one attempt: the whole check has a time budget
    api_client = kclient.ApiClient(configuration)
    try:
        core = kclient.CoreV1Api(api_client)
        nodes = core.list_node(_request_timeout=timeout).items or []
        pods = core.list_pod_for_all_namespaces(_request_timeout=timeout).items or []
    finally:
        try:
            api_client.close()
        except Exception:  # pylint: disable=broad-except
            pass
    return nodes, pods


def short_error(exc):
    status = getattr(exc, 'status', None)
    reason = getattr(exc, 'reason', None)
    if status:
        return 'HTTP %s %s' % (status, reason or '')
    text = str(exc)
    return text if len(text) < 300 else text[:300] + '...'


def probe(host, params, thresholds, lister=list_cluster):
    sec = Section('kubernetes')
    required = params.get('required') or []
    kubeconfig = find_kubeconfig(host, params.get('kubeconfig'))
    if kubeconfig is None or not host.exists(kubeconfig):
        why = 'no kubeconfig (kubeconfig option, $KUBECONFIG, ~/.kube/config)' if kubeconfig is None else \
            'kubeconfig %s does not exist' % kubeconfig
        sec.set_absent(why)
        not_installed(sec, 'kubernetes', required, 'a Kubernetes cluster', why)
        return sec
    try:
        import kubernetes  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError as exc:
        sec.summary = 'cannot check the cluster'
        sec.add(CRITICAL if 'kubernetes' in required else WARNING,
                'the Python kubernetes client is not installed on the managed host (%s)' % exc,
                'apt-get install python3-kubernetes (Debian) or pip install kubernetes')
        return sec
    try:
        nodes, pods = lister(kubeconfig, params.get('kube_context'), params['timeout'])
    except Exception as exc:  # pylint: disable=broad-except
        sec.summary = 'Kubernetes API unreachable'
        sec.add(CRITICAL, 'cannot list nodes and pods with kubeconfig %s: %s' % (kubeconfig, short_error(exc)),
                'kubectl --kubeconfig %s cluster-info; check the API server and the credentials' % kubeconfig)
        return sec
    try:
        found = node_problems(nodes)
        problems = pod_problems(pods)
    except ValueError as exc:
        sec.summary = 'Kubernetes API answered something unexpected'
        sec.add(CRITICAL, 'the Kubernetes API (kubeconfig %s) answered something that is not a NodeList and PodList: %s'
                % (kubeconfig, exc), 'kubectl --kubeconfig %s get --raw /api/v1/nodes; check that the server is a '
                'Kubernetes API server' % kubeconfig)
        return sec
    not_ready = 0
    for severity, message, action in found:
        not_ready += 'NotReady' in message or 'without a Ready' in message
        sec.add(severity, message, action)
    reasons = {}
    for index, (severity, reason, message, action) in enumerate(problems):
        reasons[reason] = reasons.get(reason, 0) + 1
        if index < MAX_LISTED:
            sec.add(severity, message, action)
    if len(problems) > MAX_LISTED:
        sec.add(worst_of(p[0] for p in problems[MAX_LISTED:]),
                '%d more pods in trouble (only the first %d are listed)' % (len(problems) - MAX_LISTED, MAX_LISTED),
                "kubectl get pods -A | grep -E '(Error|CrashLoop|Pending)'")
    nodes, pods = _items(nodes, 'nodes'), _items(pods, 'pods')
    sec.metrics.update({'nodes': len(nodes), 'nodes_not_ready': not_ready, 'pods': len(pods),
                        'pods_crashloop': reasons.get('CrashLoopBackOff', 0), 'pods_pending': reasons.get('Pending', 0),
                        'pods_error': sum(n for r, n in reasons.items() if r not in ('CrashLoopBackOff', 'Pending'))})
    sec.summary = '%d/%d nodes Ready, %d pods, %d in trouble' % (
        len(nodes) - not_ready, len(nodes), len(pods), len(problems))
    return sec


def worst_of(severities):
    severities = list(severities)
    return CRITICAL if CRITICAL in severities else WARNING
