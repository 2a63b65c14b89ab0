"""A training job's and an inference service's inputs, mirroring the platform spec's workload models.

Field names are the spec's (``TrainingWorkloadSpec``, ``InferenceWorkloadSpec``): Construct hands them over in
snake_case, so the checked inputs validate against the spec itself at construct time, with all its rules. The
spec's tagged unions (checkpoint, autoscaling) become one object type each with a ``kind`` and the fields of
every variant: the spec refuses the fields of the variant not chosen. Read by Pulumi's analyzer: no ``from
__future__ import annotations`` here.
"""

from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.package.cluster import GpuModel
from lepton_infra.package.inputs import as_data, validated


class WorkloadImage(TypedDict):
    """A container image in the cluster's registry, pinned by digest so what runs is what was tested."""

    repository: str
    """Repository path in the cluster's registry (which gives the host), e.g. lepton/train."""
    digest: NotRequired[str]
    """Image digest, sha256:<64 hex>; required unless allowTagOnly."""
    tag: NotRequired[str]
    """Tag; informative next to a digest, the reference without one."""
    allow_tag_only: NotRequired[bool]
    """Accept a tag without a digest (a tag can move under a running workload). Default: false."""


class WorkloadResources(TypedDict):
    """CPU and memory of each pod's main container; requests equal limits (Guaranteed QoS)."""

    cpu_millicores: int
    """CPU in millicores (1000 is one core)."""
    memory_mib: int
    """Memory in MiB."""


class CheckpointKind(StrEnum):
    """Where checkpoints live."""

    BUCKET = "bucket"
    """Under the cluster's artifact bucket."""
    VOLUME = "volume"
    """On a PersistentVolumeClaim mounted as a directory."""


class WorkloadCheckpoint(TypedDict):
    """Where training writes checkpoints, or serving reads them; the container gets it as CHECKPOINT_DIR."""

    kind: CheckpointKind
    """bucket or volume; the other fields belong to one of them."""
    prefix: NotRequired[str]
    """bucket: path under the bucket; default checkpoints/<workload name>. A server names its job's prefix."""
    claim_name: NotRequired[str]
    """volume: name of the PersistentVolumeClaim in the workload's namespace."""
    size_gib: NotRequired[int]
    """volume: create the claim with this size (training only); omit to use an existing claim."""
    storage_class: NotRequired[str]
    """volume: storage class of a created claim; it must offer ReadWriteMany."""


class WorkloadPlacement(StrEnum):
    """Where a training job runs."""

    EACH = "each"
    """On the cluster it is given."""
    ANY = "any"
    """One job, dispatched by MultiKueue to whichever worker admits it first."""


class TrainingWorkload(TypedDict):
    """A distributed torchrun training job: one pod per node, each running one torchrun agent."""

    name: str
    """Workload name: names its Kubernetes objects and its service account."""
    accelerator: GpuModel
    """GPU model; a pool of it must be among the cluster's gpuPools."""
    namespace: NotRequired[str]
    """Kubernetes namespace (one per team). Default: "ml"."""
    image: WorkloadImage
    """Container image of the trainer."""
    checkpoint: NotRequired[WorkloadCheckpoint]
    """Where checkpoints go. Default: the artifact bucket, under checkpoints/<name>."""
    nodes: NotRequired[int]
    """Nodes (pods) the job spans. Default: 1."""
    gpus_per_node: NotRequired[int]
    """GPUs per node; torchrun's --nproc_per_node. Default: 1."""
    resources: NotRequired[WorkloadResources]
    """CPU and memory of each pod. Default: the pod's share of its node by GPUs (what the node has for pods,
    times the pod's GPUs over the node's), where the pool names its instanceType."""
    shared_memory_mib: NotRequired[int]
    """Size of /dev/shm (data loader workers, NCCL); it counts against the pod's memory. A quarter of that
    memory, in whole GiB, if omitted."""
    max_steps: int
    """Training steps; the trainer's --max-steps."""
    checkpoint_every_steps: NotRequired[int]
    """Steps between checkpoints. Default: 500."""
    trainer_args: NotRequired[list[str]]
    """More arguments for workloads.train, e.g. ["--n-layer", "12"]."""
    max_runtime_seconds: NotRequired[int]
    """Wall-clock limit of the job (activeDeadlineSeconds). Default: 259200."""
    backoff_limit: NotRequired[int]
    """Pod failures tolerated before the job fails; preemptions do not count. Default: 3."""
    ttl_seconds_after_finished: NotRequired[int]
    """Delete the finished job and its pods this long after it ends; kept until the workload leaves the stack
    if omitted."""
    termination_grace_period_seconds: NotRequired[int]
    """Time between SIGTERM and SIGKILL: long enough for a final checkpoint. Default: 300."""
    fail_fast_exit_codes: NotRequired[list[int]]
    """Launcher (torchrun) exit codes that fail the job at once; any other failure is retried and counts
    against backoffLimit. [2] (torchrun's usage error) if omitted."""
    rendezvous_timeout_seconds: NotRequired[int]
    """How long a job's pods wait for each other at torchrun's rendezvous: pods start minutes apart when nodes
    scale up from zero and pull a large image. Default: 1800."""
    no_progress_alert_minutes: NotRequired[int]
    """Alert when no training step has finished for this long. Default: 30."""
    team: NotRequired[str]
    """Team whose Kueue queue the job waits in: the Job carries the team's LocalQueue and training priority,
    and Kueue starts it once the team's GPU quota admits all its pods (`pulumi up` then waits only for the Job
    to exist). The cluster must run Kueue with the team's queues, as a Platform with ``teams`` installs them;
    there, Kueue holds a job of a team namespace without one. Not queued if omitted."""
    placement: NotRequired[WorkloadPlacement]
    """each, or any: one job that MultiKueue dispatches to the first worker that admits it. A job placed any
    is constructed on the manager (which keeps the Job and dispatches it) and on every worker (its Service,
    service account and policies, which the dispatched copy needs), each cluster saying which it is in
    cluster.multikueue and stating the workers' shared registry, bucket and GPU pools; it needs a team and
    checkpoints in the bucket, and the manager Kubernetes 1.32 or later (spec.managedBy). Default: "each"."""


class AutoscalingKind(StrEnum):
    """What the HorizontalPodAutoscaler follows."""

    CPU = "cpu"
    """Average CPU utilization of the replicas."""
    PODS_METRIC = "pods-metric"
    """A per-pod custom metric served by a metrics adapter (e.g. prometheus-adapter)."""


class InferenceAutoscaling(TypedDict):
    """How the server's replica count follows its load."""

    kind: AutoscalingKind
    """cpu or pods-metric; the other fields belong to one of them."""
    target_utilization_percent: NotRequired[int]
    """cpu: target average CPU utilization. Default: 70."""
    metric_name: NotRequired[str]
    """pods-metric: metric name as the adapter serves it, e.g. lepton_serve_queue_depth."""
    target_average_value: NotRequired[float]
    """pods-metric: target average value of the metric per replica."""


class InferenceIngress(TypedDict):
    """External exposure through an ingress controller, always over TLS."""

    host: str
    """Host name clients use."""
    ingress_class_name: str
    """IngressClass of the controller that serves it."""
    tls_secret_name: str
    """Secret holding the TLS certificate."""
    controller_namespace: NotRequired[str]
    """Namespace of the ingress controller's pods (allowed in by network policy). Default: "ingress-nginx"."""


class ServingAlerts(TypedDict):
    """Latency and error-rate alerts (where the Prometheus Operator runs)."""

    p99_latency_seconds: NotRequired[float]
    """Alert when p99 request latency exceeds this. Default: 2.0."""
    error_rate_ratio: NotRequired[float]
    """Alert when this share of requests fail (5xx). Default: 0.05."""
    for_minutes: NotRequired[int]
    """How long a breach lasts before it alerts. Default: 10."""


class InferenceWorkload(TypedDict):
    """An autoscaled model server behind a ClusterIP Service."""

    name: str
    """Workload name: names its Kubernetes objects and its service account."""
    accelerator: GpuModel
    """GPU model; a pool of it must be among the cluster's gpuPools."""
    namespace: NotRequired[str]
    """Kubernetes namespace (one per team). Default: "ml"."""
    image: WorkloadImage
    """Container image of the server."""
    checkpoint: NotRequired[WorkloadCheckpoint]
    """Where the model's checkpoints are read from. Default: the artifact bucket, under checkpoints/<name>."""
    gpus_per_replica: NotRequired[int]
    """GPUs each replica requests. Default: 1."""
    min_replicas: NotRequired[int]
    """Fewest replicas; 2 or more keeps it available. Default: 2."""
    max_replicas: NotRequired[int]
    """Most replicas the autoscaler may run. Default: 4."""
    resources: NotRequired[WorkloadResources]
    """CPU and memory of each replica. Default: the replica's share of its node by GPUs, where the pool names
    its instanceType."""
    port: NotRequired[int]
    """Port the server listens on (non-root: 1024 or above). Default: 8080."""
    autoscaling: NotRequired[InferenceAutoscaling]
    """What the autoscaler follows. Default: CPU utilization."""
    ingress: NotRequired[InferenceIngress]
    """Expose outside the cluster; ClusterIP only if omitted."""
    alerts: NotRequired[ServingAlerts]
    """Latency and error-rate alerts."""
    startup_timeout_seconds: NotRequired[int]
    """Time a replica may take to load its model before it is restarted. Default: 600."""
    termination_grace_period_seconds: NotRequired[int]
    """Time to drain in-flight requests after SIGTERM. Default: 60."""
    team: NotRequired[str]
    """Team whose Kueue queue the replicas wait in: each carries the team's LocalQueue and inference priority
    (above all training), and Kueue admits each one under the team's GPU quota. The cluster must run Kueue
    with the team's queues, as a Platform with ``teams`` installs them; there, Kueue holds a pod of a team
    namespace without one. Not queued if omitted."""


def training_spec(workload: dict[str, Any], cluster_name: str) -> TrainingWorkloadSpec:
    """The checked inputs as the spec's training workload, with every rule of the spec applied."""
    data = {**as_data(workload), "kind": "training", "sites": [cluster_name]}
    return validated(TrainingWorkloadSpec, data, ["workload"])


def inference_spec(workload: dict[str, Any], cluster_name: str) -> InferenceWorkloadSpec:
    """The checked inputs as the spec's inference workload, with every rule of the spec applied."""
    data = {**as_data(workload), "kind": "inference", "sites": [cluster_name]}
    return validated(InferenceWorkloadSpec, data, ["workload"])
