"""The cloud-neutral Kubernetes components of the package: GPU runtime, team namespace, training job, server.

Each takes its cluster as a kubeconfig and a ClusterTarget (facts, see ``cluster``) and builds the component
of the same name in ``lepton_infra.components.kubernetes`` through a Kubernetes provider of its own for that
kubeconfig. A workload's service account (named after the workload) is bound to the cloud identity the
program made for it (with each cloud's workload-identity component) through its ``identity``: annotations
and pod labels. Read by Pulumi's analyzer: no ``from __future__ import annotations`` here.
"""

from types import SimpleNamespace
from typing import Any, NotRequired, TypedDict

import pulumi

from lepton_infra.blueprint.platform import _pod_fits_node as pod_fits_node
from lepton_infra.blueprint.workloads import BucketCheckpointSpec, InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.catalog import Resources
from lepton_infra.components import handle
from lepton_infra.components.kubernetes import gpu_runtime, inference_service, tenancy, training_job
from lepton_infra.components.kubernetes.kueue import MULTIKUEUE_MANAGED_BY, queue_labels
from lepton_infra.components.kubernetes.tenancy import workload_account
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.cluster import (
    ClusterTarget,
    MultiKueueRole,
    TargetFacts,
    cluster_handle,
    target_facts,
)
from lepton_infra.package.inputs import require_dns_labels
from lepton_infra.package.workloads import InferenceWorkload, TrainingWorkload, inference_spec, training_spec
from lepton_infra.validation import Problem, refuse


class GpuRuntimeArgs(TypedDict):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster (e.g. a cluster component's kubeconfig output); kept a secret."""
    cluster: ClusterTarget
    """The cluster, its GPU pools, what it already runs (gpuStack) and what the operator needs on its node
    images (gpuOperatorValues, or its cloud's)."""


class GpuRuntime(PackageComponent):
    """NVIDIA's GPU Operator at a pinned version in a namespace of its own (device plugin, feature discovery,
    DCGM exporter; the driver too on bare nodes), tolerating every taint of every GPU pool; nothing where the
    cluster's GPU stack is preinstalled. With the Prometheus Operator, GPU health alerts (XID, ECC)."""

    release_name: pulumi.Output[str]
    """Name of the GPU Operator's Helm release; empty where nothing was installed."""

    def __init__(self, name: str, args: GpuRuntimeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        facts = self.prepare(args)
        child = self.start(name, opts)
        handle = cluster_handle(name, facts, self)
        runtime = gpu_runtime.GpuRuntime(name, gpu_runtime.GpuRuntimeArgs(handle), child)
        release = runtime.release.name if runtime.release is not None else pulumi.Output.from_input("")
        self.publish(SimpleNamespace(release_name=release))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        return target_facts(values["cluster"], values["kubeconfig"])


class NamespaceQuota(TypedDict):
    """What every workload of a namespace may request together, GPUs included."""

    gpus: int
    """GPUs (nvidia.com/gpu requests)."""
    cpu_millicores: int
    """CPU requests and limits, in millicores."""
    memory_mib: int
    """Memory requests and limits, in MiB."""


class TenantNamespaceArgs(TypedDict):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster (e.g. a cluster component's kubeconfig output); kept a secret."""
    cluster: ClusterTarget
    """The cluster."""
    namespace: str
    """Name of the namespace, e.g. ml."""
    quota: NamespaceQuota
    """What its workloads may request together: their peak needs, and not a GPU more."""


class TenantNamespace(PackageComponent):
    """A namespace under Pod Security "restricted", with a quota (GPUs included; no LoadBalancer or NodePort
    Services), container defaults, and default-deny traffic except DNS: each workload opens what it needs."""

    namespace: pulumi.Output[str]
    """Name of the namespace."""

    def __init__(
        self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        facts, namespace, quota = self.prepare(args)
        child = self.start(name, opts)
        handle = cluster_handle(name, facts, self)
        self.publish(
            tenancy.TenantNamespace(name, tenancy.TenantNamespaceArgs(handle, namespace, quota), child)
        )

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_dns_labels(values, "namespace")
        return (
            target_facts(values["cluster"], values["kubeconfig"]),
            values["namespace"],
            Resources(**values["quota"]),
        )


class ServiceAccountBinding(TypedDict):
    """What binds a workload's service account to the cloud identity the program made for it."""

    annotations: NotRequired[dict[str, pulumi.Input[str]]]
    """Annotations on the service account: ``eks.amazonaws.com/role-arn`` (an AwsWorkloadRole's arn),
    ``azure.workload.identity/client-id`` (an AzureWorkloadIdentity's clientId) or
    ``pod-identity.alibabacloud.com/role-name`` (an AlicloudWorkloadRole's roleName)."""
    labels: NotRequired[dict[str, str]]
    """Labels on the service account."""
    pod_labels: NotRequired[dict[str, str]]
    """Labels the identity needs on the pods: ``azure.workload.identity/use: "true"`` on Azure,
    ``pod-identity.alibabacloud.com/injection: "on"`` on Alibaba Cloud."""


class TrainingJobArgs(TypedDict):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster (e.g. a cluster component's kubeconfig output); kept a secret."""
    cluster: ClusterTarget
    """The cluster; a pool of the workload's accelerator must be among its gpuPools."""
    workload: TrainingWorkload
    """The training job."""
    identity: NotRequired[ServiceAccountBinding]
    """How the workload's service account (named after the workload) is bound to the identity made for it."""


def _require_pool(facts: TargetFacts, workload: TrainingWorkloadSpec | InferenceWorkloadSpec) -> None:
    """Refuse a workload no pool of the cluster can hold, or whose pods would not fit its pool's nodes, here,
    where the engine can name the input: the spec's own placement rules, on the pool its pods will get."""
    accelerator, gpus = workload.accelerator.value, workload.gpus_needed_per_node
    site = facts.cluster.site
    pool = next(
        (p for p in facts.cluster.gpu_pools if p.accelerator == accelerator and p.gpus_per_node >= gpus),
        None,
    )
    if pool is None:
        message = f"cluster {site!r} has no {accelerator} pool with {gpus} GPUs per node in its gpuPools"
        refuse([Problem("workload.accelerator", message)])
        return
    node = facts.nodes[pool.pool]
    problems = [Problem(p, m) for p, m in pod_fits_node("workload", workload, site, node)]
    most = facts.max_nodes.get(pool.pool)
    if isinstance(workload, TrainingWorkloadSpec) and most is not None and workload.nodes > most:
        # One pod per node, all of them at once: the pods beyond the pool's size would stay Pending and the
        # others wait at torchrun's rendezvous until it times out.
        spans = f"the job spans {workload.nodes} nodes, but pool {pool.pool!r} has at most {most}"
        problems.append(Problem("workload.nodes", spans))
    refuse(problems)


def _dispatch(facts: TargetFacts, workload: TrainingWorkloadSpec) -> dict[str, Any]:
    """What a job's placement makes on this cluster (``TrainingJobArgs``' Kueue fields), or a refusal of a job
    placed any that could not be dispatched: MultiKueue admits it only through its team's queue, copies it
    unchanged to a worker (a claim would stay behind), and needs to know which cluster keeps the Job."""
    labels = queue_labels(workload)
    if workload.placement != "any":
        return {"queue_labels": labels}
    problems = []
    if workload.team is None:
        problems.append(Problem("workload.team", "a job placed any is dispatched through its team's queue"))
    if not isinstance(workload.checkpoint, BucketCheckpointSpec):
        problems.append(
            Problem("workload.checkpoint", "a job placed any resumes on any worker: checkpoint to the bucket")
        )
    if facts.multikueue is None:
        problems.append(Problem("cluster.multikueue", "a job placed any needs to know: manager or worker"))
    refuse(problems)
    if facts.multikueue is MultiKueueRole.MANAGER:
        return {"queue_labels": labels, "managed_by": MULTIKUEUE_MANAGED_BY}
    return {"queue_labels": labels, "create_job": False}


def _identity(
    values: dict[str, Any], workload: TrainingWorkloadSpec | InferenceWorkloadSpec
) -> dict[tuple[str, str], handle.ServiceAccountBinding]:
    """The workload's service account and how ``identity`` binds it (no annotation where none is given)."""
    return {workload_account(workload): handle.ServiceAccountBinding(**values.get("identity", {}))}


class TrainingJob(PackageComponent):
    """Multi-node torchrun as an Indexed Job of hardened GPU pods behind a headless Service (stable rendezvous
    at index 0), with its service account, a network policy, a checkpoint claim when asked, and a
    ServiceMonitor and no-progress alert with the Prometheus Operator. Defaults protect the user: a deadline,
    a TTL, a grace period for a final checkpoint, GPU requests equal to limits, and a failure policy that does
    not burn retries on preemption. Under a team, the Job waits in the team's Kueue queue until its quota
    admits it."""

    job_name: pulumi.Output[str]
    """Name of the Job; empty on a MultiKueue worker, where the Job arrives from the manager."""
    service_name: pulumi.Output[str]
    """Name of the headless Service (the pods' DNS subdomain)."""

    def __init__(self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        facts, workload, identity, placed = self.prepare(args)
        child = self.start(name, opts)
        handle = cluster_handle(name, facts, self, identity)
        job = training_job.TrainingJob(name, training_job.TrainingJobArgs(handle, workload, **placed), child)
        job_name = job.job.metadata.name if job.job is not None else pulumi.Output.from_input("")
        self.publish(SimpleNamespace(job_name=job_name, service_name=job.service.metadata.name))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        facts = target_facts(values["cluster"], values["kubeconfig"])
        workload = training_spec(values["workload"], facts.cluster.site)
        _require_pool(facts, workload)
        return facts, workload, _identity(values, workload), _dispatch(facts, workload)


class InferenceServiceArgs(TypedDict):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster (e.g. a cluster component's kubeconfig output); kept a secret."""
    cluster: ClusterTarget
    """The cluster; a pool of the workload's accelerator must be among its gpuPools."""
    workload: InferenceWorkload
    """The model server."""
    identity: NotRequired[ServiceAccountBinding]
    """How the workload's service account (named after the workload) is bound to the identity made for it."""


class InferenceService(PackageComponent):
    """A Deployment of hardened GPU replicas behind a ClusterIP Service, with an HPA, a PodDisruptionBudget, a
    network policy and, if asked, a TLS Ingress. Rollouts never drop below the current replica count, replicas
    spread across zones, probes hold traffic until the model is loaded, SIGTERM gets a drain window. Under a
    team, Kueue admits each replica under the team's quota."""

    deployment_name: pulumi.Output[str]
    """Name of the Deployment."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service."""
    url: pulumi.Output[str]
    """The server's address inside the cluster: ``http://<service>.<namespace>.svc.cluster.local``."""

    def __init__(
        self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        facts, workload, identity = self.prepare(args)
        child = self.start(name, opts)
        handle = cluster_handle(name, facts, self, identity)
        server = inference_service.InferenceService(
            name, inference_service.InferenceServiceArgs(handle, workload, queue_labels(workload)), child
        )
        service = server.service.metadata.name
        self.publish(
            SimpleNamespace(
                deployment_name=server.deployment.metadata.name,
                service_name=service,
                url=pulumi.Output.concat("http://", service, f".{workload.namespace}.svc.cluster.local"),
            )
        )

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        facts = target_facts(values["cluster"], values["kubeconfig"])
        workload = inference_spec(values["workload"], facts.cluster.site)
        _require_pool(facts, workload)
        return facts, workload, _identity(values, workload)


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    GpuRuntime,
    TenantNamespace,
    TrainingJob,
    InferenceService,
]
