"""A training job's and an inference service's inputs, mirroring the platform spec's workload models.

Field names are the spec's (``TrainingWorkloadSpec``, ``InferenceWorkloadSpec``): Construct hands them over in
snake_case, so the checked inputs validate against the spec itself at construct time, with all its rules. The
spec's tagged unions (checkpoint, autoscaling, server) become one object type each with a ``kind`` and the
fields of every variant: the spec refuses the fields of the variant not chosen. Read by Pulumi's analyzer: no
``from __future__ import annotations`` here.
"""

from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.engines import VLLM_VERSION
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
    command: NotRequired[list[str]]
    """The image's torchrun-compatible launcher, e.g. ["torchrun"] or ["python", "-m",
    "torch.distributed.run"]: the platform puts torchrun's flags (nodes, processes per node, rendezvous,
    restarts) after it, then args. ["torchrun"] (in our image, workloads.train.launch) if omitted."""
    args: NotRequired[list[str]]
    """What torchrun runs, and its arguments: a script (["train.py", "--lr", "3e-4"]) or a module (["-m",
    "mypkg.train"]); $(VAR) expands from the environment, e.g. $(CHECKPOINT_DIR). The platform still provides
    the rendezvous, CHECKPOINT_DIR, the bucket's credentials through the workload's identity and the
    preemption contract (after SIGTERM, checkpoint and exit with $(LEPTON_PREEMPTED_EXIT_CODE)). Our trainer
    (-m workloads.train with maxSteps, the checkpoint directory and checkpointEverySteps) if omitted."""
    env: NotRequired[dict[str, str]]
    """More environment variables for the trainer; those the platform sets (lepton_infra/contract.py:
    CHECKPOINT_DIR, NNODES, HOME ...) are refused."""
    max_steps: NotRequired[int]
    """Training steps; our trainer's --max-steps: required with our trainer, refused with your own args."""
    checkpoint_every_steps: NotRequired[int]
    """Steps between checkpoints (our trainer's --checkpoint-every; refused with your own args). Default:
    500."""
    trainer_args: NotRequired[list[str]]
    """More arguments for our trainer, e.g. ["--n-layer", "12"]; refused with your own args."""
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
    scratch_disk_gib: NotRequired[int]
    """Writable scratch space of each pod at /tmp (also $HOME, and Python's tempfile): an emptyDir on the
    node's disk (node ephemeral storage), requested from the scheduler as ``ephemeral-storage``. Checkpoints
    bound for a bucket pass through it whole, so it must hold the largest checkpoint file; writing more
    evicts the pod. The pod requests 1 GiB more (its logs). Default: 50."""
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
    """A per-pod gauge the server exports, served to the HPA by prometheus-adapter (a MetricsAdapter with a
    rule for it)."""


class InferenceAutoscaling(TypedDict):
    """How the server's replica count follows its load."""

    kind: AutoscalingKind
    """cpu or pods-metric; the other fields belong to one of them."""
    target_utilization_percent: NotRequired[int]
    """cpu: target average CPU utilization. Default: 70."""
    metric_name: NotRequired[str]
    """pods-metric: the Prometheus series the server's pods export, e.g. lepton_serve_queue_depth or
    vllm:num_requests_waiting; the adapter serves it to the HPA with colons turned to underscores."""
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


class ServerKind(StrEnum):
    """Which model server a replica runs."""

    LEPTON = "lepton"
    """Our server (python -m workloads.serve): reads the checkpoint location itself."""
    VLLM = "vllm"
    """vLLM's OpenAI-compatible server (vllm serve), on the newest export of the checkpoint, staged to local
    disk."""
    CUSTOM = "custom"
    """Your own server in the workload's image (SGLang, Triton, your code ...): your command and paths."""


class VllmVersion(StrEnum):
    """vLLM versions whose flags, probes, metrics and alerts the platform knows."""

    V0_32_0 = VLLM_VERSION
    """vLLM 0.32.0: mirror vllm/vllm-openai:v0.32.0 into the cluster's registry and pin its digest."""


class StagedModel(TypedDict):
    """What a server that reads the model from local disk needs: the stager, and room for the weights."""

    stager_image: WorkloadImage
    """Image of the model stager (stager/Dockerfile: python -m stager), the init container that copies the
    newest export (<checkpoint>/export/latest) to the pod's local disk under the workload's identity."""
    model_disk_gib: NotRequired[int]
    """Local disk (an emptyDir on the node) for the staged weights; more evicts the pod. Default: 50."""
    shared_memory_mib: NotRequired[int]
    """Size of /dev/shm (NCCL between the GPUs of a replica); memory-backed, so it counts against the pod's
    memory. A quarter of the pod's memory, in whole GiB, if omitted."""


class InferenceServer(TypedDict):
    """The model server a replica runs: ours, vLLM, or your own. Whatever the server, the pod stays hardened
    and restricted, the image pinned and the identity the workload's own; what an engine needs that the
    restricted profile forbids (a writable cache, shared memory, the model on local disk) comes as an
    emptyDir, never as privilege."""

    kind: ServerKind
    """lepton, vllm or custom; the other fields belong to one or two of them."""
    version: NotRequired[VllmVersion]
    """vllm: vLLM version of the workload's image; the platform's flags, probes, metrics and alerts are those
    of this version. Default: "0.32.0"."""
    served_model_name: NotRequired[str]
    """vllm: the model clients ask for (--served-model-name). The workload's name if omitted."""
    extra_args: NotRequired[list[str]]
    """vllm: more vllm serve flags, e.g. ["--max-model-len", "4096"]; those the platform sets (--model,
    --served-model-name, --port, --host, --tensor-parallel-size, --shutdown-timeout, --download-dir) are
    refused."""
    cache_disk_gib: NotRequired[int]
    """vllm: writable cache (torch.compile, Triton; an emptyDir), as the root filesystem is read-only.
    Default: 20."""
    stager_image: NotRequired[WorkloadImage]
    """vllm (required): image of the model stager (stager/Dockerfile: python -m stager), the init container
    that copies the newest export (<checkpoint>/export/latest) to the pod's local disk under the workload's
    identity."""
    model_disk_gib: NotRequired[int]
    """vllm: local disk (an emptyDir on the node) for the staged weights; more evicts the pod. Default: 50."""
    shared_memory_mib: NotRequired[int]
    """vllm: size of /dev/shm (NCCL between the GPUs of a replica); it counts against the pod's memory. A
    quarter of the pod's memory, in whole GiB, if omitted."""
    env: NotRequired[dict[str, str]]
    """vllm or custom: more environment variables for the server's container; those the platform sets are
    refused."""
    command: NotRequired[list[str]]
    """custom (required): the container's command."""
    args: NotRequired[list[str]]
    """custom: its arguments; $(VAR) expands from the container's environment, e.g. $(CHECKPOINT_DIR) or
    $(LEPTON_MODEL_DIR)."""
    health_path: NotRequired[str]
    """custom (required): liveness and startup probe path; answers 200 unless restarting the process is the
    fix."""
    readiness_path: NotRequired[str]
    """custom: readiness probe path, 200 while the server should get traffic. healthPath if omitted."""
    metrics_path: NotRequired[str]
    """custom: path of its Prometheus metrics on the workload's port. Default: "/metrics"."""
    staged_model: NotRequired[StagedModel]
    """custom: stage the newest export to local disk before the server starts, at $(LEPTON_MODEL_DIR); omit
    when the server reads $(CHECKPOINT_DIR) itself."""


class InferenceWorkload(TypedDict):
    """An autoscaled model server behind a ClusterIP Service."""

    name: str
    """Workload name: names its Kubernetes objects and its service account."""
    accelerator: GpuModel
    """GPU model; a pool of it must be among the cluster's gpuPools."""
    namespace: NotRequired[str]
    """Kubernetes namespace (one per team). Default: "ml"."""
    image: WorkloadImage
    """Container image of the server (ours, vLLM's or your own, as server says)."""
    server: NotRequired[InferenceServer]
    """Which server runs: lepton (ours), vllm, or custom (your command and paths). Our lepton server if
    omitted."""
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
    """What the autoscaler follows. If omitted: CPU utilization for the lepton and custom servers; for vllm,
    its queue of waiting requests (pods-metric vllm:num_requests_waiting, 4 per replica), which needs a
    MetricsAdapter on the cluster."""
    ingress: NotRequired[InferenceIngress]
    """Expose outside the cluster; ClusterIP only if omitted."""
    alerts: NotRequired[ServingAlerts]
    """Latency and error-rate alerts."""
    startup_timeout_seconds: NotRequired[int]
    """Time a replica may take to load its model (after the model is staged) before it is restarted. Default:
    600. For vllm, 1200 if omitted: it compiles and captures CUDA graphs before it listens."""
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
