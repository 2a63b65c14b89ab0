"""Capacity: pools that start at zero can grow, a workload's peak fits its pool, a gang job shares a fabric.

Pools of GPUs start at zero nodes to cost nothing idle; then something must add nodes when a pod is
Pending, and that something needs to know, at zero nodes, what a new node would carry (labels, taints,
GPUs). A workload's peak (the HPA's maximum, every rank of a training job at once) must fit what its
pool may grow to; and the ranks of one multi-node job must sit where their GPU fabric reaches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from lepton_infra.catalog import cluster_services as svc
from lepton_infra.catalog.fit import pods_per_node
from lepton_infra.catalog.types import Cloud
from lepton_infra.policies.kubernetes.workloads import DEPLOYMENT, HPA, pod_spec
from lepton_infra.policies.operability.nodes import room
from lepton_infra.policies.operability.pods import Workload, pins_zone, quantity
from lepton_infra.policies.operability.topology import Cluster, Pool, topology
from lepton_infra.policies.rule import view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get
from lepton_infra.policies.view import Finding, Resource, Stack

FAMILY = "operability-capacity"
# Labels every node gets from the kubelet or the cloud: Cluster Autoscaler knows them without tags.
_WELL_KNOWN = ("kubernetes.io/", "node.kubernetes.io/", "topology.kubernetes.io/", "eks.amazonaws.com/")


def _users(cluster: Cluster, pool: Pool) -> list[Workload]:
    return [w for w in cluster.workloads if any(p is pool for p in cluster.landing_pools(w))]


def _image_of(obj: Resource) -> str:
    return " ".join(str(get(c, "image")) for c in as_list(get(pod_spec(obj.type, obj.props), "containers")))


def _has_cluster_autoscaler(cluster: Cluster) -> bool:
    return bool(cluster.releases(svc.CLUSTER_AUTOSCALER_CHARTS)) or any(
        svc.CLUSTER_AUTOSCALER_IMAGE in _image_of(o) for o in cluster.of_type(DEPLOYMENT)
    )


def _asg_tag_keys(stack: Stack, pool: Pool) -> set[str]:
    return {
        str(get(tag.props, "tag", "key"))
        for tag in stack.of_type(svc.ASG_TAG)
        if any(r.urn == pool.resource.urn for r in stack.references(tag, "autoscalingGroupName"))
    }


def _karpenter_covers(cluster: Cluster, users: list[Workload]) -> bool:
    """Karpenter runs and every workload that lands on the pool could land on a Karpenter pool too."""
    if not cluster.releases(svc.KARPENTER_CHARTS):
        return False
    karpenter = [p for p in cluster.pools if p.kind == "karpenter"]
    return bool(karpenter) and all(
        any(p.kind == "karpenter" for p in cluster.landing_pools(w)) for w in users
    )


def _eks_scale_up_problem(stack: Stack, cluster: Cluster, pool: Pool, users: list[Workload]) -> str | None:
    if _karpenter_covers(cluster, users):
        return None
    if not _has_cluster_autoscaler(cluster):
        return (
            "nothing grows it: an EKS managed node group keeps its size unless Cluster Autoscaler or "
            "Karpenter runs in the cluster"
        )
    keys = _asg_tag_keys(stack, pool)
    needed = [
        svc.CA_NODE_TEMPLATE_LABEL + k
        for k, v in pool.labels.items()
        if v is not None and not k.startswith(_WELL_KNOWN)
    ] + [svc.CA_NODE_TEMPLATE_TAINT + t.key for t in pool.taints if t.blocks]
    missing = [k for k in needed if k not in keys]
    if missing:
        return (
            "Cluster Autoscaler cannot tell at zero nodes that a new node would carry what the pods need; "
            f"the Auto Scaling group lacks the tags {', '.join(missing)}"
        )
    return None


def _scale_up_problem(stack: Stack, cluster: Cluster, pool: Pool, users: list[Workload]) -> str | None:
    if pool.kind == "karpenter":
        if cluster.releases(svc.KARPENTER_CHARTS):
            return None
        return "it is a Karpenter NodePool, but no Karpenter release runs in the cluster to act on it"
    if pool.cloud is Cloud.AWS:
        # An EKS pool grows through Karpenter or Cluster Autoscaler in the cluster: a cloud layer's
        # Kubernetes layer, another stack, installs them.
        return _eks_scale_up_problem(stack, cluster, pool, users) if cluster.deployed_here else None
    if not pool.cloud_autoscaled:
        if pool.cloud is Cloud.AZURE:
            return "the pool has no enableAutoScaling, so AKS's cluster autoscaler never grows it"
        return "the pool's scaling_config is not enabled, so ACK never grows it"
    if pool.cloud is Cloud.ALICLOUD and not any(a.type == svc.ACK_AUTOSCALING_CONFIG for a in cluster.addons):
        return (
            "the cluster has no node autoscaling configuration (cs.AutoscalingConfig), so ACK never acts "
            "on the pool's scaling_config"
        )
    return None


@view_policy(
    name="node-pool-scales-from-zero",
    family=FAMILY,
    severity="high",
    description=(
        "A node pool that starts at zero nodes must have an autoscaler that can grow it, with what it needs "
        "to know at zero (ASG node-template tags for Cluster Autoscaler, Karpenter NodePools, AKS "
        "enableAutoScaling, ACK scaling_config with the cluster's AutoscalingConfig)."
    ),
    remediation=(
        "EKS: run Karpenter with NodePools for the pool's labels, or Cluster Autoscaler with the ASG tags "
        "k8s.io/cluster-autoscaler/node-template/label/<label> and /taint/<taint>; AKS: enableAutoScaling "
        "with minCount/maxCount; ACK: scaling_config.enable and one cs.AutoscalingConfig per cluster."
    ),
)
def pools_scale_from_zero(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        for pool in cluster.pools:
            if pool.min_nodes != 0:
                continue
            users = _users(cluster, pool)
            problem = _scale_up_problem(stack, cluster, pool, users)
            if problem is None:
                continue
            waiting = f" {', '.join(sorted({w.name for w in users}))} will stay Pending." if users else ""
            yield Finding(
                f"{pool.describe()} starts at 0 nodes and {problem}.{waiting} Fix: give the pool an "
                f"autoscaler that can grow it from zero.",
                pool.resource.urn,
            )


def _hpa_peaks(stack: Stack) -> dict[tuple[str, str, str], int]:
    """Each HPA's maxReplicas by the (kind, namespace, name) of the workload it scales."""
    peaks = {}
    for hpa in stack.of_type(HPA):
        target = get(hpa.props, "spec", "scaleTargetRef", default={})
        namespace = str(get(hpa.props, "metadata", "namespace", default="default"))
        peak = quantity(get(hpa.props, "spec", "maxReplicas"))
        peaks[(str(get(target, "kind")), namespace, str(get(target, "name")))] = int(peak or 0)
    return peaks


def _peak(peaks: dict[tuple[str, str, str], int], workload: Workload) -> int:
    return max(workload.replicas, peaks.get((workload.kind, workload.namespace, workload.name), 0))


def _nodes_needed(cluster: Cluster, workload: Workload, pool: Pool, pods: int) -> int | None:
    free = room(cluster, pool)
    if free is None:
        return None
    per_node = pods_per_node(workload.request, free, pool.max_pods or 110)
    return math.ceil(pods / per_node) if per_node else None


@view_policy(
    name="workload-peak-fits-pool",
    family=FAMILY,
    severity="high",
    description=(
        "A workload's peak (every rank of a multi-node job, the HPA's maxReplicas) must fit the nodes its "
        "pools may grow to; a gang job that cannot place every rank never starts."
    ),
    remediation=(
        "Raise the pool's max_nodes (and the cloud quota behind it), or lower the workload's nodes / "
        "max_replicas or its per-pod resources so more pods share a node."
    ),
)
def workload_peak_fits_pool(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    peaks = _hpa_peaks(stack)
    for cluster in topology(stack).clusters:
        for workload in cluster.workloads:
            pools = cluster.landing_pools(workload)
            if not pools or any(p.max_nodes is None for p in pools):
                continue
            pods = _peak(peaks, workload)
            needs = [_nodes_needed(cluster, workload, p, pods) for p in pools]
            if any(n is None for n in needs):
                continue
            capacity = sum(p.max_nodes or 0 for p in pools)
            fewest = min(n for n in needs if n is not None)
            if fewest <= capacity:
                continue
            names = ", ".join(p.describe() for p in pools)
            effect = (
                "the job needs all of them at once and never starts"
                if workload.gang
                else "the pods above that stay Pending at peak"
            )
            yield Finding(
                f"{workload.name}: {pods} pods at peak need {fewest} nodes, but {names} may grow to "
                f"{capacity}; {effect}. Fix: raise max_nodes or lower the peak.",
                workload.resource.urn,
            )


def _fabric_problem(pool: Pool, spec_pins_zone: bool) -> str | None:
    fabric = next((svc.FABRIC_TYPES[t] for t in pool.instance_types if t in svc.FABRIC_TYPES), None)
    spans = (pool.zones or 1) > 1 and not spec_pins_zone
    if fabric is not None and (spans or (pool.cloud is Cloud.AWS and not pool.placement_group)):
        where = f"spans {pool.zones} zones" if spans else "has no cluster placement group"
        return f"{pool.describe()} {where}: {fabric.statement} ({fabric.source})"
    if spans:
        return (
            f"{pool.describe()} spans {pool.zones} zones, so its ranks can land in different zones and every "
            "collective crosses zones (latency, cross-zone traffic cost)"
        )
    return None


@view_policy(
    name="multi-node-training-one-zone",
    family=FAMILY,
    severity="medium",
    description=(
        "The ranks of a multi-node training job must be able to land in one zone (and one placement group "
        "where the GPU fabric, EFA or InfiniBand, needs it)."
    ),
    remediation=(
        "Give the training pool a single zone (one subnet / vSwitch / availability zone) and, for EFA "
        "types, a cluster placement group; or pin the job's pods to one zone with required pod affinity "
        "on topology.kubernetes.io/zone."
    ),
)
def multi_node_training_one_zone(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        for workload in cluster.workloads:
            if not workload.gang or not workload.gpus:
                continue
            for pool in cluster.landing_pools(workload):
                problem = _fabric_problem(pool, pins_zone(workload.spec))
                if problem is not None:
                    yield Finding(
                        f"{workload.name}: a {workload.replicas}-node job on {problem}. Fix: one zone per "
                        f"training pool, or pin the job to one zone.",
                        workload.resource.urn,
                    )


POLICIES = (pools_scale_from_zero, workload_peak_fits_pool, multi_node_training_one_zone)
