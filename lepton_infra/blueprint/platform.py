"""The whole platform: sites, workloads, tags, and the rules that join them."""

from __future__ import annotations

from collections import Counter

from pydantic import Field, model_validator

from lepton_infra.blueprint.base import CROSS_FIELD_ERROR, DnsLabel, SpecModel, rule_error
from lepton_infra.blueprint.deployment import DeploymentSpec, deployment_issues
from lepton_infra.blueprint.site_existing import ExistingSiteSpec
from lepton_infra.blueprint.sites import GpuPoolSpec, ManagedSiteSpec, SiteSpec
from lepton_infra.blueprint.workloads import BucketCheckpointSpec, WorkloadSpec
from lepton_infra.catalog import (
    Accelerator,
    Cloud,
    InstanceOffering,
    Resources,
    fits,
    offerings,
    pool_offering,
    roomiest,
)

__all__ = ["CROSS_FIELD_ERROR", "PlatformSpec", "gpus_per_node"]


class PlatformSpec(SpecModel):
    """Everything a stack deploys. Read from the ``lepton-infra:platform`` config key."""

    name: DnsLabel = Field(description="Platform name; prefixes every cloud resource name.")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags / labels put on every cloud resource (cost center, team ...)."
    )
    sites: tuple[SiteSpec, ...] = Field(min_length=1, description="Clusters to build, one per cloud region.")
    workloads: tuple[WorkloadSpec, ...] = Field(
        default=(), description="Training jobs and inference services."
    )
    deployment: DeploymentSpec = Field(
        default_factory=DeploymentSpec,
        description="Which layer of the platform this stack deploys (default: all of it, in one stack).",
    )

    def site(self, name: str) -> SiteSpec:
        return next(s for s in self.sites if s.name == name)

    def site_tags(self, site_name: str) -> dict[str, str]:
        """Tags for every cloud resource of a site: the platform's, plus where the resource belongs."""
        return {**self.tags, "lepton:platform": self.name, "lepton:site": site_name}

    def workloads_on(self, site_name: str) -> tuple[WorkloadSpec, ...]:
        return tuple(w for w in self.workloads if site_name in w.sites)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> PlatformSpec:
        issues = [
            *_unique_names(self),
            *_pool_offerings(self),
            *_workload_placement(self),
            *_checkpoint_buckets(self),
            *deployment_issues(self),
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


def _node_sizes(site: SiteSpec, accelerator: Accelerator) -> list[tuple[int, InstanceOffering | None]]:
    """(GPUs per node, catalog offering or None) of every pool of ``accelerator`` on ``site``."""
    if isinstance(site, ExistingSiteSpec):
        return [(p.gpus_per_node, None) for p in site.gpu_pools if p.accelerator == accelerator]
    sizes = []
    for pool in site.gpu_pools:
        if pool.accelerator == accelerator:
            offering = _offering(Cloud(site.cloud), site.region, pool)
            sizes.append((offering.gpus if offering else 0, offering))
    return sizes


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
            sizes = _node_sizes(site, workload.accelerator)
            if not sizes:
                issues.append(
                    (
                        f"workloads[{i}].accelerator",
                        f"site {site_name!r} has no GPU pool of {workload.accelerator.value}; "
                        f"add one to its gpu_pools or target another site",
                    )
                )
                continue
            capacity = max(gpus for gpus, _ in sizes)
            if workload.gpus_needed_per_node > capacity:
                field = "gpus_per_node" if workload.kind == "training" else "gpus_per_replica"
                issues.append(
                    (
                        f"workloads[{i}].{field}",
                        f"{workload.gpus_needed_per_node} GPUs per pod, but a {workload.accelerator.value} "
                        f"node on site {site_name!r} has at most {capacity}",
                    )
                )
            issues.extend(_pod_fits_node(f"workloads[{i}].resources", workload, site_name, sizes))
    return issues


def _pod_fits_node(
    path: str, workload: WorkloadSpec, site_name: str, sizes: list[tuple[int, InstanceOffering | None]]
) -> list[Issue]:
    """A pod asking more CPU or memory than any node of its pools has would stay Pending forever."""
    known = [o for gpus, o in sizes if o is not None and gpus >= workload.gpus_needed_per_node]
    if not known:
        return []  # existing clusters' nodes are not in the catalog
    largest = roomiest(known)
    request = Resources(
        gpus=workload.gpus_needed_per_node,
        cpu_millicores=workload.resources.cpu_millicores,
        memory_mib=workload.resources.memory_mib,
    )
    node = f"a {largest.instance_type} node of site {site_name!r}"
    return [(f"{path}.{short.resource}", short.sentence(node)) for short in fits(largest, request)]


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
