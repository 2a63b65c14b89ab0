"""Where the pod spec sits in each workload kind, and the containers a rule must look at (init ones too)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.values import as_list, get

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
SERVICE = "kubernetes:core/v1:Service"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NAMESPACE = "kubernetes:core/v1:Namespace"

# Path from the object's root to its pod template, per kind.
_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    POD: (),
    DEPLOYMENT: ("spec", "template"),
    STATEFUL_SET: ("spec", "template"),
    DAEMON_SET: ("spec", "template"),
    REPLICA_SET: ("spec", "template"),
    JOB: ("spec", "template"),
    CRON_JOB: ("spec", "jobTemplate", "spec", "template"),
}
WORKLOAD_TYPES: frozenset[str] = frozenset(_TEMPLATE_PATHS)
BATCH_TYPES: frozenset[str] = frozenset({JOB, CRON_JOB})
# Long-running kinds that serve traffic or run daemons: the ones probes make sense for.
SERVING_TYPES: frozenset[str] = WORKLOAD_TYPES - BATCH_TYPES


def pod_template(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object holding the pod's ``metadata`` and ``spec`` (the Pod itself for a Pod)."""
    path = _TEMPLATE_PATHS.get(resource_type)
    if path is None:
        return {}
    template = get(props, *path) if path else props
    return template if isinstance(template, Mapping) else {}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = get(pod_template(resource_type, props), "spec")
    return spec if isinstance(spec, Mapping) else {}


def containers(spec: Mapping[str, Any], *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for every container; ``init`` adds init and ephemeral containers."""
    kinds = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    for kind in kinds:
        for index, container in enumerate(as_list(get(spec, kind))):
            if isinstance(container, Mapping):
                label = "init container" if kind != "containers" else "container"
                yield f"{label} {get(container, 'name', default=f'#{index}')!r}", container


def security_value(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field as Kubernetes resolves it: the container's setting wins over the pod's."""
    value = get(container, "securityContext", key)
    return get(spec, "securityContext", key) if value is None else value


def gpu_count(container: Mapping[str, Any], section: str) -> float:
    value = get(container, "resources", section, "nvidia.com/gpu")
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def pod_gpus(spec: Mapping[str, Any]) -> float:
    return sum(max(gpu_count(c, "limits"), gpu_count(c, "requests")) for _, c in containers(spec, init=False))
