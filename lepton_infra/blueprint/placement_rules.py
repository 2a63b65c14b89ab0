"""When `placement: any` can work, and why not elsewhere.

MultiKueue copies the manager's Job unchanged to the worker that admits it. Our Job depends on objects of
its site: the rendezvous Service and the ServiceAccount (pre-created on every worker), and values written
into the Job itself: the image's registry host, the bucket URI and the variables that reach it, the node
labels and tolerations of its pool. So every worker must be of one cloud with the manager, share one
registry and one bucket with it, and label its pool the same; the manager must reach each worker's API
server, and its own Kubernetes must honour ``spec.managedBy`` (on by default from 1.32).
Sources: Kueue docs, concepts/multikueue and tasks/manage/setup_multikueue (v0.19.2); KEP-4368.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lepton_infra.blueprint.queueing import landing_pool, pool_gpus_per_node
from lepton_infra.blueprint.site_base import ManagedSiteSpec
from lepton_infra.blueprint.site_existing import ExistingGpuPoolSpec, ExistingSiteSpec
from lepton_infra.blueprint.teams import MultiKueueSpec
from lepton_infra.blueprint.workloads import BucketCheckpointSpec, TrainingWorkloadSpec

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec
    from lepton_infra.blueprint.sites import SiteSpec

Issue = tuple[str, str]
# JobManagedBy: alpha (off) in 1.30 and 1.31, beta and on by default from 1.32, GA in 1.35 (KEP-4368). On an
# older manager the Job controller would ignore spec.managedBy and run the job's pods on the manager too.
MANAGED_BY_SINCE = (1, 32)


def placement_rules(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    multikueue = spec.queueing.multikueue
    if multikueue is not None:
        issues += _multikueue_sites(spec, multikueue)
    for i, workload in enumerate(spec.workloads):
        if workload.placement != "any":
            continue
        path = f"workloads[{i}]"
        if not isinstance(workload, TrainingWorkloadSpec):
            issues.append(
                (
                    f"{path}.placement",
                    "MultiKueue dispatches batch Jobs; an inference service runs on each site it lists "
                    "(placement: each)",
                )
            )
            continue
        if multikueue is None:
            message = (
                "placement `any` needs queueing.multikueue: a manager site and the workers it dispatches to"
            )
            issues.append((f"{path}.placement", message))
            continue
        workers = set(multikueue.worker_sites)
        if set(workload.sites) != workers:
            issues.append(
                (
                    f"{path}.sites",
                    "a job placed `any` runs on whichever worker admits it: list exactly the workers "
                    f"({', '.join(sorted(workers))})",
                )
            )
        if workload.team is None:
            issues.append(
                (f"{path}.team", "a job placed `any` is dispatched through its team's queue: name it")
            )
        if not isinstance(workload.checkpoint, BucketCheckpointSpec):
            issues.append(
                (
                    f"{path}.checkpoint",
                    "a claim is local to one cluster, so a job resumed on another worker would start over: "
                    "keep checkpoints in the shared bucket (kind: bucket)",
                )
            )
        issues += _same_pool_everywhere(spec, path, workload)
    return issues


def _multikueue_sites(spec: PlatformSpec, multikueue: MultiKueueSpec) -> list[Issue]:
    path = "queueing.multikueue"
    names = {s.name for s in spec.sites}
    issues: list[Issue] = []
    if multikueue.manager not in names:
        return [
            (f"{path}.manager", f"no site named {multikueue.manager!r}; sites: {', '.join(sorted(names))}")
        ]
    if not spec.teams:
        issues.append((path, "MultiKueue dispatches through the teams' queues: define `teams`"))
    manager = spec.site(multikueue.manager)
    if tuple(int(p) for p in manager.kubernetes_version.split(".")) < MANAGED_BY_SINCE:
        issues.append(
            (
                f"{path}.manager",
                f"{manager.name} runs Kubernetes {manager.kubernetes_version}, whose Job controller ignores "
                "spec.managedBy (on by default from 1.32): it would run the dispatched jobs itself",
            )
        )
    seen: set[str] = set()
    for i, worker in enumerate(multikueue.workers):
        where = f"{path}.workers[{i}].site"
        if worker.site not in names:
            issues.append((where, f"no site named {worker.site!r}; sites: {', '.join(sorted(names))}"))
            continue
        if worker.site == manager.name:
            # Kueue docs, concepts/multikueue: "role sharing where the manager is also one of its workers" is
            # not supported.
            issues.append(
                (where, "the manager cannot be its own worker; run its local jobs in its own queues")
            )
            continue
        if worker.site in seen:
            issues.append((where, f"{worker.site} is listed twice"))
        seen.add(worker.site)
        issues += [(where, reason) for reason in _why_not_shared(manager, spec.site(worker.site))]
        unreachable = _unreachable(worker.api_server_url)
        if unreachable:
            issues.append((f"{path}.workers[{i}].api_server_url", unreachable))
    return issues


def _unreachable(url: str) -> str | None:
    """Why the manager's cluster could never reach ``url``: an address that means the caller itself."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "the manager's cluster cannot reach localhost" if host == "localhost" else None
    if address.is_loopback or address.is_link_local or address.is_unspecified:
        return f"{host} is an address of the caller itself: give the worker's API address the manager reaches"
    return None


def _why_not_shared(manager: SiteSpec, worker: SiteSpec) -> list[str]:
    """Why a Job copied from ``manager`` would not run on ``worker``; empty when it would."""
    if manager.cloud != worker.cloud:
        return [
            f"{worker.name} is on {worker.cloud} and the manager {manager.name} on {manager.cloud}: "
            "the copied "
            "Job's ServiceAccount binding, registry, bucket and node labels mean something else on another "
            "cloud; `placement: any` needs sites of one cloud"
        ]
    reasons: list[str] = []
    if isinstance(worker, ManagedSiteSpec):
        reasons.append(
            f"{worker.name} builds its own registry and bucket: the Job MultiKueue copies there would pull "
            f"{manager.name}'s images and write {manager.name}'s bucket, which {worker.name}'s workload "
            "identities are not granted; MultiKueue works between existing clusters that name one shared "
            "registry and bucket"
        )
        if not worker.network.api_allowlist:
            reasons.append(
                f"{worker.name}'s API endpoint is private to its own network: the manager's cluster cannot "
                "reach it"
            )
    elif isinstance(worker, ExistingSiteSpec) and isinstance(manager, ExistingSiteSpec):
        if worker.registry != manager.registry:
            reasons.append(
                f"{worker.name} pulls from {worker.registry}, the manager's jobs name {manager.registry}: "
                "share one (replicated) registry"
            )
        if worker.artifact_bucket_uri is None or worker.artifact_bucket_uri != manager.artifact_bucket_uri:
            reasons.append(
                f"{worker.name}'s artifact_bucket_uri must be the manager's ({manager.artifact_bucket_uri}): "
                "a job dispatched there writes and resumes from the manager's bucket"
            )
        if dict(worker.artifact_env) != dict(manager.artifact_env):
            reasons.append(f"{worker.name}'s artifact_env must match the manager's: the Job carries it")
    return reasons


def _pool_identity(site: SiteSpec, pool: Any) -> tuple[Any, ...]:
    """What the copied pod spec assumes of its pool: name, GPUs per node, labels and taints."""
    if isinstance(pool, ExistingGpuPoolSpec):
        return (pool.name, pool.gpus_per_node, sorted(pool.node_labels.items()), pool.taints)
    return (pool.name, pool_gpus_per_node(site, pool))


def _same_pool_everywhere(spec: PlatformSpec, path: str, workload: TrainingWorkloadSpec) -> list[Issue]:
    names = {s.name for s in spec.sites}
    found = []
    for site_name in workload.sites:
        if site_name not in names:
            continue
        site = spec.site(site_name)
        pool = landing_pool(site, workload.accelerator, workload.gpus_per_node)
        if pool is not None:
            found.append((site_name, _pool_identity(site, pool)))
    if len({repr(identity) for _, identity in found}) > 1:
        described = "; ".join(f"{site}: pool {identity[0]} x{identity[1]}" for site, identity in found)
        return [
            (
                f"{path}.accelerator",
                "the copied pod selects one pool's labels and tolerates its taints: give its "
                f"{workload.accelerator.value} pool the same name, size, labels and taints on every worker "
                f"({described})",
            )
        ]
    return []
