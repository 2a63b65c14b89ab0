"""The cluster a Kubernetes component of the package deploys to, given as facts instead of a ClusterHandle.

A ClusterHandle holds callables (how to bind a service account to a cloud identity) and a live provider, which
no schema can express. A program in another language states the facts instead: the kubeconfig (a secret, an
input of each component), the registry host, the artifact bucket, the GPU pools' labels and taints, what the
cluster already runs; and, per workload, the annotations and pod labels that bind its service account to an
identity it created (each cloud's workload-identity component outputs exactly those). :func:`target_facts`
checks them into the platform's own ``ClusterFacts`` (what a cloud layer exports for its Kubernetes layer),
and :func:`cluster_handle` builds the handle our Kubernetes components take from those, as the Platform's
Kubernetes layer does. Read by Pulumi's analyzer: no ``from __future__ import annotations``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

import pulumi

from lepton_infra.blueprint import ExistingGpuPoolSpec
from lepton_infra.blueprint.platform import PoolNode
from lepton_infra.blueprint.site_existing import PROMETHEUS_URL_PATTERN
from lepton_infra.catalog import Accelerator, Cloud, find_offering
from lepton_infra.catalog.gpu_operator_chart import GPU_OPERATOR_CHART_VERSION, unknown_keys
from lepton_infra.components.aws.gpu_operator import AL2023_NVIDIA_OPERATOR_VALUES
from lepton_infra.components.azure.gpu_operator import AKS_GPU_OPERATOR_VALUES
from lepton_infra.components.existing.site import _placement as existing_pool_placement
from lepton_infra.components.gpu_nodes import gpu_node_labels
from lepton_infra.components.handle import (
    ClusterAddons,
    ClusterFacts,
    ClusterHandle,
    GpuStack,
    ServiceAccountBinding,
    service_account_key,
)
from lepton_infra.errors import parse_path
from lepton_infra.package.inputs import (
    as_data,
    require_choice,
    require_dns_labels,
    require_pattern,
    validated,
)
from lepton_infra.sites import handle_from_facts
from lepton_infra.validation import InvalidInput, Problem, refuse


class GpuModel(StrEnum):
    """GPU models a pool has or a workload asks for, by their market names."""

    H100 = Accelerator.H100.value
    """NVIDIA H100 (80 GB)."""
    A100_80GB = Accelerator.A100_80GB.value
    """NVIDIA A100 with 80 GB."""
    A100_40GB = Accelerator.A100_40GB.value
    """NVIDIA A100 with 40 GB."""
    L40S = Accelerator.L40S.value
    """NVIDIA L40S."""
    L4 = Accelerator.L4.value
    """NVIDIA L4."""
    A10G = Accelerator.A10G.value
    """NVIDIA A10G (AWS)."""
    A10 = Accelerator.A10.value
    """NVIDIA A10."""
    T4 = Accelerator.T4.value
    """NVIDIA T4."""


class GpuPoolTaint(TypedDict):
    """A taint the nodes of a GPU pool carry; the pool's pods tolerate exactly it."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: NotRequired[str]
    """Taint value; omit for a key-only taint."""
    effect: str
    """NoSchedule, PreferNoSchedule or NoExecute."""


class GpuPool(TypedDict):
    """A GPU node pool of the cluster: which nodes are its, and what pods must tolerate to run there."""

    name: str
    """Pool name, unique in the cluster."""
    accelerator: GpuModel
    """GPU model of the pool's nodes."""
    gpus_per_node: int
    """GPUs each node exposes as nvidia.com/gpu."""
    node_labels: NotRequired[dict[str, str]]
    """Labels every node of the pool carries; pods select all of them. Default: the labels lepton-infra's
    sites put on their GPU pools, ``lepton.ai/pool: <name>`` and ``lepton.ai/accelerator: <accelerator>``."""
    taints: NotRequired[list[GpuPoolTaint]]
    """Taints on the pool's nodes. Default: nvidia.com/gpu=present:NoSchedule, as lepton-infra's sites taint
    them."""
    instance_type: NotRequired[str]
    """The nodes' instance or VM type, e.g. p5.48xlarge, with the cluster's ``cloud``: lepton-infra's catalog
    then knows what a node has for pods, sizes a workload that states no resources by its share of a node, and
    refuses one that would not fit. Without it, workloads must state their resources."""
    max_nodes: NotRequired[int]
    """Most nodes the pool has or scales to: a training job spanning more nodes is refused, as its pods could
    never all run. Unbounded if omitted."""


class MultiKueueRole(StrEnum):
    """A cluster's part in MultiKueue, as the Platform that set up its Kueue made it
    (``queueing.multikueue``)."""

    MANAGER = "manager"
    """Holds each job placed any and dispatches it to the first worker that admits it."""
    WORKER = "worker"
    """Runs the jobs a manager dispatches to it."""


class ClusterTarget(TypedDict):
    """The Kubernetes cluster a component deploys to, as facts: what it offers (its kubeconfig, a secret, is
    an input of its own: a secret inside an object makes the whole object one secret value on the wire)."""

    name: str
    """Name of the cluster (a site name): a DNS label, used in messages."""
    context: NotRequired[str]
    """Context of the kubeconfig to use; its current one if omitted."""
    registry: pulumi.Input[str]
    """Registry host (and optional path prefix) images are pulled from, e.g. an ECR registry or ACR login
    server."""
    artifact_bucket_uri: NotRequired[pulumi.Input[str]]
    """Object store URI (s3://, az://, oss://) of the artifact bucket; needed by workloads that checkpoint
    there."""
    artifact_env: NotRequired[dict[str, pulumi.Input[str]]]
    """Environment workloads need to reach the bucket besides their identity, e.g. AZURE_STORAGE_ACCOUNT_NAME
    or OSS_ENDPOINT."""
    gpu_pools: NotRequired[list[GpuPool]]
    """The cluster's GPU node pools."""
    cloud: NotRequired[str]
    """Whose managed Kubernetes runs the cluster, aws (EKS), azure (AKS) or alicloud (ACK): what a node of a
    pool's instanceType keeps for itself depends on it."""
    gpu_stack: NotRequired[str]
    """Who provides the NVIDIA stack: ``operator`` (the GPU Operator, on nodes whose image has the driver),
    ``operator-with-driver`` (it installs the driver too, for bare nodes) or ``preinstalled`` (nothing to
    install). Default: "operator"."""
    prometheus_operator: NotRequired[bool]
    """The Prometheus Operator's CRDs are installed: emit ServiceMonitors and alert rules. Default: false."""
    monitoring_namespace: NotRequired[str]
    """Namespace of the Prometheus that scrapes workload metrics. Default: "monitoring"."""
    prometheus_url: NotRequired[str]
    """URL of the cluster's Prometheus, e.g. http://prometheus.monitoring.svc:9090, which a MetricsAdapter
    reads. Default: the Prometheus Operator's prometheus-operated Service in monitoringNamespace where
    prometheusOperator is set, else a Prometheus the MetricsAdapter installs for itself."""
    gpu_operator_values: NotRequired[dict[str, Any]]
    """GPU Operator chart values for the cluster's node images, merged over those the GpuRuntime sets (who
    installs driver and toolkit, the GPU pools' tolerations, DCGM metrics), e.g. {"operator": {"runtimeClass":
    "nvidia-container-runtime"}}. If omitted with gpuStack operator, those lepton-infra's own site of the
    cluster's cloud uses: on aws (EKS AL2023 NVIDIA AMIs) CDI off; on azure (AKS GPU images with their driver
    and toolkit) CDI off and operator.runtimeClass nvidia-container-runtime, without which the operator's pods
    never start; none otherwise. Every key must be one of the pinned chart's (Helm ignores any other)."""
    multikueue: NotRequired[MultiKueueRole]
    """The cluster's part in MultiKueue, manager or worker: what a training job placed any creates here.
    Only such a job reads it."""


@dataclass(frozen=True)
class TargetFacts:
    """A checked ClusterTarget: the shared ``ClusterFacts`` a ClusterHandle is built from (as a Kubernetes
    layer builds one from a cloud layer's outputs), and what a package component must know besides, which
    the Platform's Kubernetes layer reads from its spec instead: each pool's node as the placement rules see
    it, each pool's most nodes, and the cluster's part in MultiKueue.

    Composed rather than a subclass of ``ClusterFacts``: those are the two layers' serialized contract
    (``components/facts.py`` writes every field of what it is given), and none of these belongs in it."""

    cluster: ClusterFacts
    # Each pool's node as the spec's placement rules see it (its catalog type, where the target names one).
    nodes: Mapping[str, PoolNode]
    # Each pool's most nodes, where the target states them.
    max_nodes: Mapping[str, int]
    multikueue: MultiKueueRole | None


def target_facts(
    target: Mapping[str, Any], kubeconfig: pulumi.Input[str], path: str = "cluster"
) -> TargetFacts:
    """The facts of a checked ClusterTarget and the cluster's kubeconfig, or ``InputPropertiesError`` naming
    what is wrong under ``path``."""
    require_dns_labels(target, "name", "monitoring_namespace", path=path)
    require_choice(target, "gpu_stack", {s.value for s in GpuStack}, path=path)
    require_choice(target, "cloud", {c.value for c in Cloud}, path=path)
    require_pattern(target, "prometheus_url", PROMETHEUS_URL_PATTERN, "an http(s) URL", path=path)
    _require_chart_keys(target.get("gpu_operator_values", {}), f"{path}.gpu_operator_values")
    defaults = ClusterAddons()
    nodes = [
        _pool_node(pool, target.get("cloud"), f"{path}.gpu_pools[{i}]")
        for i, pool in enumerate(target.get("gpu_pools", ()))
    ]
    cluster = ClusterFacts(
        site=target["name"],
        kubeconfig=pulumi.Output.secret(kubeconfig),
        kubeconfig_context=target.get("context"),
        registry=pulumi.Output.from_input(target["registry"]),
        artifact_bucket_uri=pulumi.Output.from_input(target.get("artifact_bucket_uri", "")),
        artifact_env=target.get("artifact_env", {}),
        gpu_pools=tuple(replace(existing_pool_placement(spec), room=node.room) for spec, node in nodes),
        addons=ClusterAddons(
            gpu_stack=GpuStack(target.get("gpu_stack", defaults.gpu_stack)),
            prometheus_operator=target.get("prometheus_operator", defaults.prometheus_operator),
            monitoring_namespace=target.get("monitoring_namespace", defaults.monitoring_namespace),
            prometheus_url=target.get("prometheus_url", defaults.prometheus_url),
            gpu_operator_values=target.get("gpu_operator_values", _site_operator_values(target)),
        ),
    )
    return TargetFacts(
        cluster=cluster,
        nodes={node.pool: node for _, node in nodes},
        max_nodes={spec.name: spec.max_nodes for spec, _ in nodes if spec.max_nodes is not None},
        multikueue=target.get("multikueue"),
    )


def _require_chart_keys(values: Mapping[str, Any], path: str) -> None:
    """Refuse a values key the pinned GPU Operator chart does not have: Helm would ignore it silently."""
    refuse(
        Problem(
            ".".join((path, *keys)), f"not a value of the GPU Operator chart {GPU_OPERATOR_CHART_VERSION}"
        )
        for keys in unknown_keys(values)
    )


def _pool_node(pool: Mapping[str, Any], cloud: str | None, path: str) -> tuple[ExistingGpuPoolSpec, PoolNode]:
    """A pool checked as an existing site's pool is, and its node: from the catalog where it names a type."""
    described = {k: v for k, v in as_data(pool).items() if k != "instance_type"}
    labels = gpu_node_labels(pool["name"], str(pool["accelerator"]))
    spec = validated(ExistingGpuPoolSpec, {"node_labels": labels, **described}, parse_path(path))
    instance_type = pool.get("instance_type")
    if instance_type is None:
        return spec, PoolNode(spec.name, spec.gpus_per_node)
    if cloud is None:
        cluster = path.rsplit(".", 1)[0]
        raise InvalidInput(
            [Problem(f"{cluster}.cloud", "name it to size the nodes of a pool's instance type")]
        )
    offering = find_offering(Cloud(cloud), instance_type)
    if offering is None:
        unknown = (
            f"{instance_type!r} is not in the {cloud} catalog; leave it out and state workloads' resources"
        )
        raise InvalidInput([Problem(f"{path}.instance_type", unknown)])
    if offering.gpus != spec.gpus_per_node:
        wrong = f"a {instance_type} node has {offering.gpus} GPUs, not {spec.gpus_per_node}"
        raise InvalidInput([Problem(f"{path}.gpus_per_node", wrong)])
    return spec, PoolNode(spec.name, spec.gpus_per_node, offering, Cloud(cloud))


# The GPU Operator values of each cloud's site, for the node images its GPU pools run (driver and toolkit
# preinstalled: gpu stack ``operator``).
_SITE_OPERATOR_VALUES: Mapping[str, Mapping[str, Any]] = {
    Cloud.AWS.value: AL2023_NVIDIA_OPERATOR_VALUES,
    Cloud.AZURE.value: AKS_GPU_OPERATOR_VALUES,
}


def _site_operator_values(target: Mapping[str, Any]) -> Mapping[str, Any]:
    """What lepton-infra's site of the target's cloud gives the GPU Operator, where the target runs the stack
    that site runs; nothing for another stack or an unnamed cloud."""
    if GpuStack(target.get("gpu_stack", ClusterAddons().gpu_stack)) is not GpuStack.OPERATOR:
        return {}
    return _SITE_OPERATOR_VALUES.get(target.get("cloud", ""), {})


def cluster_handle(
    name: str,
    target: TargetFacts,
    parent: pulumi.Resource,
    accounts: Mapping[tuple[str, str], ServiceAccountBinding] | None = None,
) -> ClusterHandle:
    """The handle our Kubernetes components take, built as the Platform's Kubernetes layer builds one from
    facts (``sites.handle_from_facts``): a Kubernetes provider ``<name>-k8s`` under ``parent``, and a binder
    that knows the service accounts of ``accounts`` (``(namespace, name)`` → binding) and no other.

    A package component deploys one workload at most, whose identity the program created and named."""
    bound = {service_account_key(ns, sa): binding for (ns, sa), binding in (accounts or {}).items()}
    return handle_from_facts(replace(target.cluster, service_accounts=bound), name, parent)
