"""Everything the Kubernetes layer puts on one site: the GPU runtime, a namespace per team, the workloads."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import pulumi

from lepton_infra.blueprint.workloads import TrainingWorkloadSpec, WorkloadSpec
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.cluster_services import ClusterServices
from lepton_infra.components.kubernetes.gpu_runtime import GpuRuntime, GpuRuntimeArgs
from lepton_infra.components.kubernetes.inference_service import (
    MAX_SURGE,
    InferenceService,
    InferenceServiceArgs,
)
from lepton_infra.components.kubernetes.tenancy import NamespaceQuota, TenantNamespace, TenantNamespaceArgs
from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs


def peak_quota(workload: WorkloadSpec, handle: ClusterHandle) -> NamespaceQuota:
    """What ``workload`` holds at its largest on ``handle``'s site: every node of a job, or max replicas
    plus a rollout's surge, each pod sized as it is on this site's pool."""
    if isinstance(workload, TrainingWorkloadSpec):
        pods, gpus = workload.nodes, workload.gpus_per_node
    else:
        pods, gpus = workload.max_replicas + MAX_SURGE, workload.gpus_per_replica
    placement = handle.placement(workload.accelerator.value, gpus)
    resources = workload.pod_resources(placement.room, placement.gpus_per_node)
    return NamespaceQuota(
        gpus=pods * gpus,
        cpu_millicores=pods * resources.cpu_millicores,
        memory_mib=pods * resources.memory_mib,
    )


class SiteWorkloads(pulumi.ComponentResource):
    """The GPU runtime and cluster services of one site, a TenantNamespace per namespace its workloads use
    (quota = their peak needs), and a TrainingJob or InferenceService per workload, all through the site's
    ClusterHandle."""

    def __init__(
        self,
        name: str,
        handle: ClusterHandle,
        workloads: Sequence[WorkloadSpec],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("lepton:kubernetes:SiteWorkloads", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        GpuRuntime(f"{name}-gpu-runtime", GpuRuntimeArgs(handle), child)
        if handle.addons.services:
            ClusterServices(f"{name}-services", handle.addons.services, handle.provider, child)
        namespaces: dict[str, TenantNamespace] = {}
        for namespace in sorted({w.namespace for w in workloads}):
            members = [w for w in workloads if w.namespace == namespace]
            quota = reduce(NamespaceQuota.__add__, (peak_quota(w, handle) for w in members))
            namespaces[namespace] = TenantNamespace(
                f"{name}-{namespace}", TenantNamespaceArgs(handle, namespace, quota), child
            )
        for workload in workloads:
            in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespaces[workload.namespace]])
            if isinstance(workload, TrainingWorkloadSpec):
                TrainingJob(f"{name}-{workload.name}", TrainingJobArgs(handle, workload), in_namespace)
            else:
                InferenceService(
                    f"{name}-{workload.name}", InferenceServiceArgs(handle, workload), in_namespace
                )
        self.register_outputs({"namespaces": sorted(namespaces)})


def deploy_workloads(
    handle: ClusterHandle, workloads: Sequence[WorkloadSpec], opts: pulumi.ResourceOptions | None = None
) -> SiteWorkloads:
    """The Kubernetes layer of ``handle``'s site, named after the site."""
    return SiteWorkloads(handle.site, handle, workloads, opts)
