"""Everything the Kubernetes layer puts on one site: the GPU runtime, a namespace per team, the workloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import pulumi

from lepton_infra.blueprint.demand import peak_pods
from lepton_infra.blueprint.queueing import SiteQueues
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec, WorkloadSpec
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.cluster_services import ClusterServices
from lepton_infra.components.kubernetes.gpu_runtime import GpuRuntime, GpuRuntimeArgs
from lepton_infra.components.kubernetes.inference_service import InferenceService, InferenceServiceArgs
from lepton_infra.components.kubernetes.kueue import KUEUE_SERVICE, kueue_service, queue_labels
from lepton_infra.components.kubernetes.metrics_adapter import metrics_adapter_services
from lepton_infra.components.kubernetes.queues import create_local_queues, local_queue_objects, site_objects
from lepton_infra.components.kubernetes.tenancy import NamespaceQuota, TenantNamespace, TenantNamespaceArgs
from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs


def peak_quota(workload: WorkloadSpec, handle: ClusterHandle) -> NamespaceQuota:
    """What ``workload`` holds at its largest on ``handle``'s site: every node of a job, or max replicas
    plus a rollout's surge, each pod sized as it is on this site's pool."""
    pods, gpus = peak_pods(workload), workload.gpus_needed_per_node
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
    ClusterHandle. With teams (``queues``), Kueue comes first (its chart, a flavor per GPU pool, a queue and
    priorities per team, a LocalQueue in each team namespace) and every workload is queued under its team.
    ``extra_namespaces``: namespaces the site needs beyond its workloads' (a MultiKueue manager's). Where a
    workload autoscales on a pods metric, the services include prometheus-adapter with a rule for it (and a
    Prometheus where the site has none).

    ``access`` says how this `pulumi up` reaches the cluster's API (the platform's record of the stack's
    layer, the endpoint's exposure and where the runner is): recorded as the component's inputs, where a
    policy sees it beside the Kubernetes provider every child uses.
    """

    namespaces: dict[str, TenantNamespace]
    # The Kueue release and LocalQueues, where the site queues (MultiKueue's objects wait for them too).
    kueue: pulumi.Resource | None
    local_queues: dict[str, pulumi.CustomResource]

    def __init__(
        self,
        name: str,
        handle: ClusterHandle,
        workloads: Sequence[WorkloadSpec],
        opts: pulumi.ResourceOptions | None = None,
        *,
        queues: SiteQueues | None = None,
        extra_namespaces: Sequence[str] = (),
        access: Mapping[str, Any] | None = None,
    ) -> None:
        props = {"site": handle.site, "access": dict(access)} if access is not None else None
        super().__init__("lepton:kubernetes:SiteWorkloads", name, props, opts)
        child = pulumi.ResourceOptions(parent=self)
        GpuRuntime(f"{name}-gpu-runtime", GpuRuntimeArgs(handle), child)
        services = (*handle.addons.services, *metrics_adapter_services(workloads, handle.addons))
        if queues is not None:
            services = (*services, kueue_service(queues, site_objects(queues, handle.gpu_pools)))
        installed = (
            ClusterServices(f"{name}-services", services, handle.provider, child) if services else None
        )
        self.kueue = installed.releases.get(KUEUE_SERVICE) if installed and queues else None
        self.namespaces = {}
        for namespace in sorted({w.namespace for w in workloads} | set(extra_namespaces)):
            members = [w for w in workloads if w.namespace == namespace]
            quota = reduce(
                NamespaceQuota.__add__, (peak_quota(w, handle) for w in members), NamespaceQuota(0, 0, 0)
            )
            self.namespaces[namespace] = TenantNamespace(
                f"{name}-{namespace}", TenantNamespaceArgs(handle, namespace, quota), child
            )
        # Workloads are created once Kueue's webhook can suspend them and their LocalQueue exists.
        self.local_queues = {}
        if queues is not None and self.kueue is not None:
            after_kueue = pulumi.ResourceOptions(
                parent=self, provider=handle.provider, depends_on=[self.kueue]
            )
            objects = local_queue_objects(queues, self.namespaces)
            self.local_queues = create_local_queues(name, objects, after_kueue, self.namespaces)
        queued = [r for r in (self.kueue, *self.local_queues.values()) if r is not None]
        for workload in workloads:
            in_namespace = pulumi.ResourceOptions(
                parent=self, depends_on=[self.namespaces[workload.namespace], *queued]
            )
            labels = queue_labels(workload) if queues is not None else {}
            if isinstance(workload, TrainingWorkloadSpec):
                args = TrainingJobArgs(
                    handle, workload, queue_labels=labels, create_job=workload.placement == "each"
                )
                TrainingJob(f"{name}-{workload.name}", args, in_namespace)
            else:
                InferenceService(
                    f"{name}-{workload.name}",
                    InferenceServiceArgs(handle, workload, queue_labels=labels),
                    in_namespace,
                )
        self.register_outputs({"namespaces": sorted(self.namespaces)})


def deploy_workloads(
    handle: ClusterHandle,
    workloads: Sequence[WorkloadSpec],
    opts: pulumi.ResourceOptions | None = None,
    *,
    queues: SiteQueues | None = None,
    extra_namespaces: Sequence[str] = (),
    access: Mapping[str, Any] | None = None,
) -> SiteWorkloads:
    """The Kubernetes layer of ``handle``'s site, named after the site."""
    return SiteWorkloads(
        handle.site,
        handle,
        workloads,
        opts,
        queues=queues,
        extra_namespaces=extra_namespaces,
        access=access,
    )
