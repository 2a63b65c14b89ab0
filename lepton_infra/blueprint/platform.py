"""The whole platform: sites, workloads, tags, and the rules that join them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pydantic import Field, model_validator

from lepton_infra.blueprint.base import CROSS_FIELD_ERROR, DnsLabel, SpecModel, rule_error
from lepton_infra.blueprint.budgets import SITE_TAG_KEY, SiteBudgetSpec, budget_rules
from lepton_infra.blueprint.deployment import DeploymentSpec, deployment_issues
from lepton_infra.blueprint.placement_rules import placement_rules
from lepton_infra.blueprint.secret_rules import secret_rules
from lepton_infra.blueprint.site_alicloud import shared_default_keys
from lepton_infra.blueprint.site_azure import shared_defender_plan
from lepton_infra.blueprint.site_existing import ExistingSiteSpec
from lepton_infra.blueprint.sites import GpuPoolSpec, ManagedSiteSpec, SiteSpec
from lepton_infra.blueprint.team_rules import team_rules
from lepton_infra.blueprint.teams import QueueingSpec, TeamSpec
from lepton_infra.blueprint.workloads import (
    BucketCheckpointSpec,
    TrainingWorkloadSpec,
    WorkloadSpec,
    shared_memory_too_large,
)
from lepton_infra.catalog import (
    Accelerator,
    Cloud,
    InstanceOffering,
    PodRequest,
    Resources,
    Shortfall,
    fits,
    gib,
    node_allocatable,
    node_room,
    offerings,
    pool_offering,
    scratch_room_gib,
    smallest_disk_for,
)
from lepton_infra.catalog.node_disk import OS_AND_IMAGES_GIB
from lepton_infra.catalog.tags import tag_problems

__all__ = ["CROSS_FIELD_ERROR", "PlatformSpec", "PoolNode", "gpus_per_node", "placement_pool"]


class PlatformSpec(SpecModel):
    """Everything a stack deploys. Read from the ``lepton-infra:platform`` config key."""

    name: DnsLabel = Field(description="Platform name; prefixes every cloud resource name.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Tags / labels put on every cloud resource (cost center, team ...). Checked against each cloud "
            "the sites use: AWS and Azure take 50 per resource, Alibaba Cloud 20, less the 4 the platform "
            "adds; keys up to 128 characters; values up to 256 (AWS, Azure) or 128 (Alibaba Cloud); no "
            "reserved prefixes (aws:, microsoft/azure/windows, aliyun/acs:). Tags are plain text in every "
            "console and bill: never a secret."
        ),
    )
    sites: tuple[SiteSpec, ...] = Field(min_length=1, description="Clusters to build, one per cloud region.")
    workloads: tuple[WorkloadSpec, ...] = Field(
        default=(), description="Training jobs and inference services."
    )
    teams: tuple[TeamSpec, ...] = Field(
        default=(), description="Teams sharing the GPUs through Kueue: namespaces, quotas, cohort, priority."
    )
    queueing: QueueingSpec = Field(
        default_factory=QueueingSpec,
        description="How Kueue admits work (over-commit, all-or-nothing, sites).",
    )
    budgets: tuple[SiteBudgetSpec, ...] = Field(
        default=(), description="Monthly cost budgets per site, as the cloud's own budget resource."
    )
    not_secrets: tuple[str, ...] = Field(
        default=(),
        description=(
            "Field paths the secret scan flagged that hold no secret (a false positive), e.g. "
            "`tags.token-budget`, `sites[1].artifact_env.AWS_ACCESS_KEY_ID_FILE` or "
            "`workloads[0].trainer_args[3]`. The scan reads tags, an existing site's artifact_env, "
            "service_account_annotations and kubeconfig.path, and workloads' args and env, for "
            "secret-sounding names and known credential formats (detect-secrets' plugins); a flagged value "
            "is refused, because "
            "plain config is written in clear to the plan JSON, the manifests and the state. Each entry "
            "must name a scanned value."
        ),
    )
    deployment: DeploymentSpec = Field(
        default_factory=DeploymentSpec,
        description="Which layer of the platform this stack deploys (default: all of it, in one stack).",
    )

    def site(self, name: str) -> SiteSpec:
        return next(s for s in self.sites if s.name == name)

    def site_tags(self, site_name: str) -> dict[str, str]:
        """Tags for every cloud resource of a site: the platform's, plus where the resource belongs."""
        return {**self.tags, "lepton:platform": self.name, SITE_TAG_KEY: site_name}

    def workloads_on(self, site_name: str) -> tuple[WorkloadSpec, ...]:
        return tuple(w for w in self.workloads if site_name in w.sites)

    def budget_for(self, site_name: str) -> SiteBudgetSpec | None:
        return next((b for b in self.budgets if b.site == site_name), None)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> PlatformSpec:
        issues = [
            *_unique_names(self),
            *_pool_offerings(self),
            *_workload_placement(self),
            *_checkpoint_buckets(self),
            *team_rules(self),
            *placement_rules(self),
            *budget_rules(self),
            *deployment_issues(self),
            *shared_default_keys(self.sites),
            *shared_defender_plan(self.sites),
            *_tags_each_cloud_accepts(self),
            *secret_rules(self),
        ]
        if issues:
            raise rule_error(issues)
        return self


Issue = tuple[str, str]


def _duplicates(names: list[str]) -> set[str]:
    return {name for name, count in Counter(names).items() if count > 1}


def _unique_names(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    for dup in _duplicates([s.name for s in spec.sites]):
        issues.append(("sites", f"site name {dup!r} is used more than once"))
    for dup in _duplicates([w.name for w in spec.workloads]):
        issues.append(("workloads", f"workload name {dup!r} is used more than once"))
    for i, site in enumerate(spec.sites):
        for dup in _duplicates([p.name for p in site.gpu_pools]):
            issues.append((f"sites[{i}].gpu_pools", f"pool name {dup!r} is used more than once"))
    return issues


def _tags_each_cloud_accepts(spec: PlatformSpec) -> list[Issue]:
    """The platform's tags go on every resource of every site: each cloud in use must accept them."""
    clouds = sorted({Cloud(s.cloud) for s in spec.sites if isinstance(s, ManagedSiteSpec)})
    issues: list[Issue] = []
    for cloud in clouds:
        for key, problem in tag_problems(cloud, spec.tags):
            issues.append(("tags", f"{key!r}: {problem}" if key else problem))
    return issues


def _pool_offerings(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    for i, site in enumerate(spec.sites):
        if not isinstance(site, ManagedSiteSpec):
            continue  # an existing cluster's pools are described by the user, not bought from a catalog
        cloud = Cloud(site.cloud)
        for j, pool in enumerate(site.gpu_pools):
            path = f"sites[{i}].gpu_pools[{j}]"
            sold = offerings(cloud, pool.accelerator, site.region)
            if not sold:
                anywhere = offerings(cloud, pool.accelerator)
                where = "in this region's partition" if anywhere else f"on {cloud.value}"
                offered = sorted({a.value for a in _accelerators_of(cloud, site.region)})
                issues.append(
                    (
                        f"{path}.accelerator",
                        f"{pool.accelerator.value} is not offered {where} ({site.region}); "
                        f"offered: {', '.join(offered) or 'none'}",
                    )
                )
            elif pool.instance_type is not None and pool.instance_type not in {o.instance_type for o in sold}:
                issues.append(
                    (
                        f"{path}.instance_type",
                        f"{pool.instance_type!r} does not carry {pool.accelerator.value} on {cloud.value}; "
                        f"use one of {', '.join(o.instance_type for o in sold)}",
                    )
                )
    return issues


def _accelerators_of(cloud: Cloud, region: str) -> set[Accelerator]:
    return {a for a in Accelerator if offerings(cloud, a, region)}


def _offering(cloud: Cloud, region: str, pool: GpuPoolSpec) -> InstanceOffering | None:
    try:
        return pool_offering(cloud, region, pool.accelerator, pool.instance_type)
    except LookupError:
        return None


def gpus_per_node(cloud: Cloud, region: str, pool: GpuPoolSpec) -> int | None:
    """GPUs on one node of ``pool``, or None when the pool's type is not in the catalog."""
    offering = _offering(cloud, region, pool)
    return offering.gpus if offering else None


@dataclass(frozen=True)
class PoolNode:
    """One node of a site's GPU pool, as far as the spec knows it."""

    pool: str
    gpus: int
    # The catalog's type and the site's cloud; None for an existing cluster's described pools.
    offering: InstanceOffering | None = None
    cloud: Cloud | None = None
    # Size of the node's root disk (the pool's disk_gib); None for an existing cluster's described pools.
    disk_gib: int | None = None

    @property
    def room(self) -> Resources | None:
        """What the node has for workload pods (allocatable less DaemonSets); None where unknown."""
        if self.offering is None or self.cloud is None:
            return None
        return node_room(self.cloud, self.offering)


def _pool_nodes(site: SiteSpec, accelerator: Accelerator) -> list[PoolNode]:
    """A node of every pool of ``accelerator`` on ``site``, in the site's order."""
    if isinstance(site, ExistingSiteSpec):
        return [PoolNode(p.name, p.gpus_per_node) for p in site.gpu_pools if p.accelerator == accelerator]
    cloud = Cloud(site.cloud)
    nodes = []
    for pool in site.gpu_pools:
        if pool.accelerator == accelerator:
            offering = _offering(cloud, site.region, pool)
            nodes.append(
                PoolNode(pool.name, offering.gpus if offering else 0, offering, cloud, pool.disk_gib)
            )
    return nodes


def placement_pool(site: SiteSpec, workload: WorkloadSpec) -> PoolNode | None:
    """The pool a workload's pods land on: the first of its accelerator whose nodes hold its GPUs per pod.

    The same rule as ``ClusterHandle.placement`` (the pods select that one pool's labels), so the fit is
    judged on the nodes the pods will actually get.
    """
    for node in _pool_nodes(site, workload.accelerator):
        if node.gpus >= workload.gpus_needed_per_node:
            return node
    return None


def _workload_placement(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    site_names = {s.name for s in spec.sites}
    for i, workload in enumerate(spec.workloads):
        for k, site_name in enumerate(workload.sites):
            path = f"workloads[{i}].sites[{k}]"
            if site_name not in site_names:
                issues.append((path, f"no site named {site_name!r}; sites: {', '.join(sorted(site_names))}"))
                continue
            site = spec.site(site_name)
            nodes = _pool_nodes(site, workload.accelerator)
            if not nodes:
                issues.append(
                    (
                        f"workloads[{i}].accelerator",
                        f"site {site_name!r} has no GPU pool of {workload.accelerator.value}; "
                        f"add one to its gpu_pools or target another site",
                    )
                )
                continue
            node = placement_pool(site, workload)
            if node is None:
                field = "gpus_per_node" if workload.kind == "training" else "gpus_per_replica"
                issues.append(
                    (
                        f"workloads[{i}].{field}",
                        f"{workload.gpus_needed_per_node} GPUs per pod, but a {workload.accelerator.value} "
                        f"node on site {site_name!r} has at most {max(n.gpus for n in nodes)}",
                    )
                )
                continue
            issues.extend(_pod_fits_node(f"workloads[{i}]", workload, site_name, node))
            issues.extend(_scratch_fits_disk(f"workloads[{i}]", workload, site_name, node))
    return issues


def _scratch_fits_disk(path: str, workload: WorkloadSpec, site_name: str, node: PoolNode) -> list[Issue]:
    """A pod's disk-backed emptyDirs must fit its node's disk: a training pod's /tmp, or the pod is evicted
    at its first checkpoint; a server's staged model, cache and /tmp, or its replicas are evicted while the
    model is staged.

    The kubelet evicts a pod whose emptyDir outgrows its sizeLimit, and pods of a node whose disk fills
    (https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/); the room is the
    disk less the OS, the images and the eviction threshold (``catalog.node_disk``).
    """
    if node.disk_gib is None:
        return []  # an existing cluster's disks are not described; the scheduler's request still holds
    room = scratch_room_gib(node.disk_gib)
    where = (
        f"a node of pool {node.pool!r} on site {site_name!r} can give one pod ({room} GiB: disk_gib "
        f"{node.disk_gib} less {OS_AND_IMAGES_GIB} GiB for the OS and images, the kubelet's 10% eviction "
        "reserve and 1 GiB of logs)"
    )
    if isinstance(workload, TrainingWorkloadSpec):
        if workload.scratch_disk_gib <= room:
            return []
        scratch = workload.scratch_disk_gib
        message = (
            f"{workload.name}: {scratch} GiB of scratch space is more than {where}. Its pods would fill the "
            "node's disk and be evicted, at the latest at a checkpoint. Ask for at most "
            f"{room} GiB, or give the pool disk_gib of at least {smallest_disk_for(scratch)}"
        )
        return [(f"{path}.scratch_disk_gib", message)]
    if workload.staged_model is None or workload.local_disk_gib <= room:
        return []
    message = (
        f"{workload.name}: {workload.local_disk_gib} GiB of local disk (the staged model, the engine's "
        f"cache and /tmp) is more than {where}. Its replicas would fill the node's disk and be evicted while "
        "the model is staged. Lower model_disk_gib (or cache_disk_gib), or give the pool disk_gib of at "
        f"least {smallest_disk_for(workload.local_disk_gib)}"
    )
    return [(f"{path}.{workload.staged_model_field}.model_disk_gib", message)]


def _pod_fits_node(path: str, workload: WorkloadSpec, site_name: str, node: PoolNode) -> list[Issue]:
    """A pod asking more than a node of its pool has for pods would stay Pending forever.

    Judged against the node's room for pods: its allocatable by the cloud's documented reservations,
    less the DaemonSets on every GPU node (``catalog.fit``), where the pod's /dev/shm counts in its memory.
    """
    room = node.room
    if room is None:
        if workload.resources is None:
            message = (
                f"{workload.name}: site {site_name!r} describes its nodes rather than naming a catalog "
                "type, so the pods cannot be sized by their share of a node; set resources"
            )
            return [(f"{path}.resources", message)]
        return []  # an existing cluster's nodes are not in the catalog
    resources = workload.pod_resources(room, node.gpus)
    shared_memory = workload.shared_memory(resources.memory_mib)
    if shared_memory >= resources.memory_mib:
        message = shared_memory_too_large(shared_memory, resources.memory_mib)
        return [(f"{path}.{workload.shared_memory_field}", message)]
    main = Resources(workload.gpus_needed_per_node, resources.cpu_millicores, resources.memory_mib)
    pod = PodRequest(containers=(main,), memory_volumes_mib=shared_memory)
    assert node.offering is not None  # a room comes from a catalog type
    return [
        (f"{path}.resources.{short.resource}", _unschedulable(workload, site_name, node, short, room))
        for short in fits(pod, room)
    ]


def _unschedulable(
    workload: WorkloadSpec, site_name: str, node: PoolNode, short: Shortfall, room: Resources
) -> str:
    """What will happen and how to fix it, with the figures the verdict rests on."""
    assert node.offering is not None and node.cloud is not None
    allocatable = node_allocatable(node.cloud, node.offering)
    daemons = allocatable - room
    if short.resource == "cpu_millicores":
        figures = f"allocatable {allocatable.cpu_millicores}m less {daemons.cpu_millicores}m of DaemonSets"
        most = f"{room.cpu_millicores}m"
    else:
        figures = f"allocatable {gib(allocatable.memory_mib)} less {daemons.memory_mib} MiB of DaemonSets"
        most = f"{room.memory_mib} MiB, /dev/shm included"
    where = f"a {node.offering.instance_type} node of site {site_name!r}"
    return (
        f"{workload.name}: {short.sentence(where)}; {figures}. Its pods would stay Pending. Ask for at most "
        f"{most}, leave `resources` out to get the pod's per-GPU share of the node, or give pool "
        f"{node.pool!r} a larger instance_type"
    )


def _checkpoint_buckets(spec: PlatformSpec) -> list[Issue]:
    """Bucket checkpoints need a bucket: managed sites make one, an existing cluster must name its own."""
    issues: list[Issue] = []
    for i, workload in enumerate(spec.workloads):
        if not isinstance(workload.checkpoint, BucketCheckpointSpec):
            continue
        for site_name in workload.sites:
            site = next((s for s in spec.sites if s.name == site_name), None)
            if isinstance(site, ExistingSiteSpec) and site.artifact_bucket_uri is None:
                issues.append(
                    (
                        f"workloads[{i}].checkpoint",
                        f"site {site_name!r} has no artifact_bucket_uri; "
                        "set one on the site, or keep checkpoints on a volume (kind: volume)",
                    )
                )
    return issues
