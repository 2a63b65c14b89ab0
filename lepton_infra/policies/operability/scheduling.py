"""Scheduling: every workload's pod lands on a pool whose nodes can hold it, and GPU taints are tolerated.

A pod the scheduler can never place stays Pending forever: nothing fails, nothing alerts, the training
never starts. These rules compute what the scheduler will: which pools a pod's selectors and tolerations
admit, what one node of each has left after its DaemonSets, and whether the GPU runtime itself runs on
the GPU nodes (a GPU node whose device plugin is kept off by a taint never advertises nvidia.com/gpu).
"""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.catalog.daemonsets import GPU_OPERATOR_CHART, GPU_RUNTIME_DAEMONS
from lepton_infra.catalog.fit import fits, gib
from lepton_infra.catalog.node_disk import node_ephemeral_mib, smallest_disk_for_ephemeral
from lepton_infra.catalog.types import Cloud
from lepton_infra.policies.kubernetes.workloads import DAEMON_SET, pod_spec
from lepton_infra.policies.operability.nodes import chart_tolerations, room, roomier_type
from lepton_infra.policies.operability.pods import GPU, Workload, disk_volumes, untolerated
from lepton_infra.policies.operability.topology import Cluster, Pool, topology
from lepton_infra.policies.rule import view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get
from lepton_infra.policies.view import Finding, Stack

FAMILY = "operability-scheduling"


def _selector(workload: Workload) -> str:
    selector = dict(get(workload.spec, "nodeSelector", default={}))
    return ", ".join(f"{k}={v}" for k, v in selector.items()) or "its node affinity"


def _fit_finding(cluster: Cluster, workload: Workload, pools: list[Pool]) -> Finding | None:
    request = workload.request
    judged = [(p, free) for p in pools if (free := room(cluster, p)) is not None]
    if not judged or len(judged) < len(pools) or any(not fits(request, free) for _, free in judged):
        return None  # fits somewhere, or lands on a pool the catalog cannot judge
    pool, free = judged[0]
    offering = pool.offering
    assert offering is not None
    needs = ", ".join(f"{s.requested}" for s in fits(request, free))
    has = ", ".join(f"{s.offered}" for s in fits(request, free))
    better = roomier_type(cluster, pool, request)
    fix = f"lower its resources or use {better.instance_type}" if better else "lower its resources"
    return Finding(
        f"{workload.name}: a pod needs {needs}, a {offering.instance_type} node of {pool.describe()} has "
        f"{has} allocatable after its DaemonSets; the pods will stay Pending. Fix: {fix}.",
        workload.resource.urn,
    )


def _disk_finding(workload: Workload, pools: list[Pool]) -> Finding | None:
    """The pod's ephemeral-storage request against a node's allocatable ephemeral storage: the scheduler
    compares the two as it does CPU (https://kubernetes.io/docs/concepts/configuration/
    manage-resources-containers/#how-pods-with-ephemeral-storage-requests-are-scheduled). Undecided (no
    finding) where a landing pool's disk is not in the plan."""
    asked = workload.ephemeral_mib
    judged = [
        (p, node_ephemeral_mib(p.cloud, p.disk_gib)) for p in pools if p.cloud is not None and p.disk_gib
    ]
    if not asked or not judged or len(judged) < len(pools) or any(asked <= room for _, room in judged):
        return None
    pool, room = judged[0]
    assert pool.cloud is not None and pool.disk_gib is not None
    volumes = ", ".join(disk_volumes(workload.spec))
    holds = (
        f"its emptyDirs ({volumes}), logs and writable layers" if volumes else "its logs and writable layers"
    )
    node = f"a {pool.offering.instance_type} node" if pool.offering else "a node"
    return Finding(
        f"{workload.name}: a pod needs {gib(asked)} ephemeral-storage for {holds}, {node} of "
        f"{pool.describe()} has {gib(room)} allocatable (its {pool.disk_gib} GiB disk less what the kubelet "
        f"reserves and its 10% eviction threshold); the pods will stay Pending. Fix: shrink its emptyDirs "
        "(scratch_disk_gib, model_disk_gib, cache_disk_gib in the stack file) or give the pool disk_gib of "
        f"at least {smallest_disk_for_ephemeral(pool.cloud, asked)}.",
        workload.resource.urn,
    )


@view_policy(
    name="workload-pods-fit-pool-nodes",
    family=FAMILY,
    severity="critical",
    description=(
        "Every workload's pod (init containers, sidecars, GPUs and memory-backed /dev/shm included) must "
        "fit the allocatable of a node of the pool its selectors land on, after that node's DaemonSets; "
        "its ephemeral-storage request must fit the allocatable ephemeral storage of the pool's node disk."
    ),
    remediation=(
        "Lower the workload's requests (resources.cpu / memory_mib / gpus in the stack file) or give its "
        "pool an instance type with more room; shrink its emptyDirs (scratch_disk_gib, model_disk_gib, "
        "cache_disk_gib) or give the pool a larger disk_gib; point nodeSelector at labels a pool's nodes "
        "carry."
    ),
)
def pods_fit_pool_nodes(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        if not cluster.pools:
            continue  # a cluster this stack does not build: its nodes are not in the plan
        for workload in cluster.workloads:
            selected = cluster.pools_for(workload)
            if not selected:
                yield Finding(
                    f"{workload.name}: its pods select {_selector(workload)}, which no node pool of "
                    f"{cluster.describe()} carries; they will stay Pending. Fix: select a pool's labels "
                    f"(pools: {', '.join(p.label for p in cluster.pools)}).",
                    workload.resource.urn,
                )
                continue
            landing = cluster.landing_pools(workload)
            if landing:
                for finding in (_fit_finding(cluster, workload, landing), _disk_finding(workload, landing)):
                    if finding is not None:
                        yield finding


def _workload_taint_findings(cluster: Cluster) -> Iterator[Finding]:
    for workload in cluster.workloads:
        selected = cluster.pools_for(workload)
        if not selected or cluster.landing_pools(workload):
            continue
        tolerations = as_list(get(workload.spec, "tolerations"))
        for pool in selected:
            missing = ", ".join(str(t) for t in untolerated(tolerations, pool.taints))
            yield Finding(
                f"{workload.name}: its pods select {pool.describe()} but do not tolerate its taint "
                f"{missing}; they will stay Pending. Fix: add a toleration for it to the pod spec.",
                workload.resource.urn,
            )


def _runtime_taint_findings(cluster: Cluster, gpu_pools: list[Pool]) -> Iterator[Finding]:
    releases = cluster.releases([GPU_OPERATOR_CHART])
    plugins = [
        d
        for d in cluster.of_type(DAEMON_SET)
        if "device-plugin" in str(d.get("metadata", "name", default=""))
        or any(
            "device-plugin" in str(get(c, "image"))
            for c in as_list(get(pod_spec(DAEMON_SET, d.props), "containers"))
        )
    ]
    if not releases and not plugins:
        if cluster.cloud in (Cloud.AWS, Cloud.AZURE):
            names = ", ".join(p.label for p in gpu_pools)
            yield Finding(
                f"{cluster.describe()}: GPU pools ({names}) but no GPU Operator or NVIDIA device plugin; "
                f"their nodes never advertise {GPU} and GPU pods stay Pending. Fix: install the GPU runtime.",
                cluster.resource.urn if cluster.resource else None,
            )
        return
    for release in releases:
        values = release.known("values", default={})
        for daemon in GPU_RUNTIME_DAEMONS:
            for pool in gpu_pools:
                missing = untolerated(chart_tolerations(values, daemon), pool.taints)
                if missing:
                    where = ".".join(daemon.tolerations_path or ())
                    yield Finding(
                        f"{daemon.name} of the GPU Operator does not tolerate {', '.join(map(str, missing))} "
                        f"of {pool.describe()}: its nodes never advertise {GPU}, so GPU pods stay Pending. "
                        f"Fix: list every GPU-pool taint in the release's values {where}.",
                        release.urn,
                    )
    for plugin in plugins:
        tolerations = as_list(get(pod_spec(DAEMON_SET, plugin.props), "tolerations"))
        for pool in gpu_pools:
            missing = untolerated(tolerations, pool.taints)
            if missing:
                yield Finding(
                    f"device plugin DaemonSet does not tolerate {', '.join(map(str, missing))} of "
                    f"{pool.describe()}: its nodes never advertise {GPU}. Fix: add the tolerations.",
                    plugin.urn,
                )


@view_policy(
    name="gpu-pool-taints-tolerated",
    family=FAMILY,
    severity="critical",
    description=(
        "Every taint of a GPU pool (the GPU taint, the cloud's spot taint, custom ones) must be tolerated by "
        "the pods meant for it and by the GPU runtime's DaemonSets (device plugin, DCGM exporter, feature "
        "discovery), or the nodes never offer their GPUs."
    ),
    remediation=(
        "Add a toleration for each pool taint to the workload's pod spec, and to the GPU Operator values "
        "`daemonsets.tolerations` and `node-feature-discovery.worker.tolerations` (Helm replaces lists: "
        "repeat the chart's defaults)."
    ),
)
def gpu_pool_taints_tolerated(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        yield from _workload_taint_findings(cluster)
        gpu_pools = [p for p in cluster.pools if p.gpu and p.kind == "node-group"]
        if gpu_pools and cluster.managed and cluster.deployed_here and cluster.cloud is not Cloud.ALICLOUD:
            yield from _runtime_taint_findings(cluster, gpu_pools)


POLICIES = (pods_fit_pool_nodes, gpu_pool_taints_tolerated)
