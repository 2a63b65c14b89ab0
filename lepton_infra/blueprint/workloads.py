"""Workloads: what runs on the platform's sites. Told apart by ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from lepton_infra.blueprint.base import DnsLabel, SpecModel, rule_error
from lepton_infra.blueprint.names import EnvName, Hostname, ImageSpec, MetricName, RepositoryPath
from lepton_infra.blueprint.servers import (
    CustomServerSpec,
    LeptonServerSpec,
    ServerSpec,
    StagedModelSpec,
    VllmServerSpec,
    reserved_env_issues,
)
from lepton_infra.catalog import Accelerator, Resources, per_gpu_share
from lepton_infra.catalog.node_disk import SERVER_TMP_GIB
from lepton_infra.contract import PREEMPTED_EXIT_CODE, SERVE_PORT, TrainExit
from lepton_infra.engines import VLLM


class ResourcesSpec(SpecModel):
    """CPU and memory of each pod's main container; requests equal limits (Guaranteed QoS)."""

    cpu_millicores: int = Field(ge=100, le=1_024_000, description="CPU in millicores (1000 = one core).")
    memory_mib: int = Field(ge=256, le=32 * 1024 * 1024, description="Memory in MiB.")


# What every workload's `resources` says when left out: the sizing rule, worked out per site.
RESOURCES_DEFAULT = (
    "CPU and memory of each pod's main container (requests = limits). Default: the pod's share of its node "
    "by GPUs, i.e. the node's allocatable less the DaemonSets on it, times the pod's GPUs over the node's, "
    "CPU rounded down to whole cores and memory to whole GiB. It is worked out per site from the instance "
    "type of the pool the pods land on, so one workload may get different sizes on different sites; a site "
    "whose node sizes the catalog does not know (`cloud: existing`) needs it set."
)


def default_shared_memory_mib(memory_mib: int) -> int:
    """A quarter of the pod's memory, in whole GiB once that is a GiB or more: the default /dev/shm."""
    quarter = memory_mib // 4
    return quarter // 1024 * 1024 if quarter >= 1024 else max(64, quarter)


class BucketCheckpointSpec(SpecModel):
    kind: Literal["bucket"] = Field(description="Checkpoints live under the site's artifact bucket.")
    prefix: RepositoryPath | None = Field(
        default=None,
        description=(
            "Path under the bucket; default checkpoints/<workload name>. An inference service names the"
            " prefix of the training job whose checkpoints it serves, e.g. checkpoints/pretrain."
        ),
    )


class VolumeCheckpointSpec(SpecModel):
    kind: Literal["volume"] = Field(
        description="Checkpoints live on a PersistentVolumeClaim, mounted as a directory."
    )
    claim_name: DnsLabel = Field(description="Name of the PersistentVolumeClaim in the workload's namespace.")
    size_gib: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Create the claim with this size; omit to use an existing claim.",
    )
    storage_class: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Storage class of a created claim; it must offer ReadWriteMany (every pod mounts it).",
    )

    @model_validator(mode="after")
    def _class_with_size(self) -> VolumeCheckpointSpec:
        if (self.size_gib is None) != (self.storage_class is None):
            missing = "storage_class" if self.storage_class is None else "size_gib"
            message = (
                "give `size_gib` and `storage_class` together to create the claim, or neither to reuse one"
            )
            raise rule_error([(missing, message)])
        return self


CheckpointSpec = Annotated[BucketCheckpointSpec | VolumeCheckpointSpec, Field(discriminator="kind")]


class WorkloadBase(SpecModel):
    name: DnsLabel = Field(description="Workload name, unique in the platform; names its Kubernetes objects.")
    accelerator: Accelerator = Field(description="GPU model; a pool of it must exist on every targeted site.")
    sites: tuple[DnsLabel, ...] = Field(min_length=1, description="Names of the sites this workload runs on.")
    namespace: DnsLabel = Field(default="ml", description="Kubernetes namespace (one per team or group).")
    image: ImageSpec = Field(description="Container image of the workload.")
    checkpoint: CheckpointSpec = Field(
        default_factory=lambda: BucketCheckpointSpec(kind="bucket"),
        description="Where training writes checkpoints, or serving reads them; passed as CHECKPOINT_DIR.",
    )
    team: DnsLabel | None = Field(
        default=None,
        description="Team whose GPU quota the workload runs under (one of `teams`); required with teams.",
    )
    placement: Literal["each", "any"] = Field(
        default="each",
        description=(
            "`each`: runs on every site it lists. `any` (training only, with `queueing.multikueue`): one "
            "job, dispatched by MultiKueue to whichever of its sites admits it first."
        ),
    )
    resources: ResourcesSpec | None = Field(default=None, description=RESOURCES_DEFAULT)

    @property
    def gpus_needed_per_node(self) -> int:
        raise NotImplementedError

    def pod_resources(self, room: Resources | None, node_gpus: int) -> ResourcesSpec:
        """The pod's CPU and memory on a node with ``room`` for pods and ``node_gpus`` GPUs.

        ``resources`` where the spec sets it, else the pod's per-GPU share of ``room``; ``room`` is None
        where the node's size is not known, and then ``resources`` must be set.
        """
        if self.resources is not None:
            return self.resources
        if room is None:
            raise ValueError(
                f"workload {self.name!r}: the nodes of its pool are not in the catalog, so its pods cannot "
                "be sized by their share of a node; set `resources`"
            )
        share = per_gpu_share(room, node_gpus, self.gpus_needed_per_node)
        return ResourcesSpec(cpu_millicores=share.cpu_millicores, memory_mib=share.memory_mib)


def shared_memory_too_large(shared_memory_mib: int, memory_mib: int) -> str:
    # tmpfs pages are charged to the memory of the container that writes them ("files you write count
    # against your container's memory limit", https://kubernetes.io/docs/concepts/storage/volumes/#emptydir):
    # a /dev/shm as large as the memory limit leaves the process nothing and it is OOM-killed.
    return (
        f"{shared_memory_mib} MiB of /dev/shm counts against the pod's memory ({memory_mib} MiB) and must be "
        "smaller"
    )


class TrainingWorkloadSpec(WorkloadBase):
    kind: Literal["training"] = Field(description="A distributed torchrun training job.")
    nodes: int = Field(
        default=1, ge=1, le=512, description="Nodes (pods) the job spans; one torchrun agent each."
    )
    gpus_per_node: int = Field(
        default=1, ge=1, le=16, description="GPUs per node; torchrun's --nproc_per_node."
    )
    shared_memory_mib: int | None = Field(
        default=None,
        ge=64,
        description=(
            "Size of /dev/shm (data loader workers, NCCL); a memory-backed volume, so it counts against the "
            "pod's memory and must be smaller. Default: a quarter of the pod's memory, in whole GiB."
        ),
    )
    command: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        description=(
            "The image's torchrun-compatible launcher, e.g. [torchrun] or [python, -m, "
            "torch.distributed.run]: the platform puts torchrun's flags (nodes, processes per node, "
            "rendezvous, restarts) after it, then `args`. Default: [torchrun] (in our image, "
            "workloads.train.launch)."
        ),
    )
    args: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        description=(
            "What torchrun runs, and its arguments: a script ([train.py, --lr, '3e-4']) or a module "
            "([-m, mypkg.train]); `$(VAR)` expands from the environment, e.g. $(CHECKPOINT_DIR). The "
            "platform still provides the rendezvous, CHECKPOINT_DIR, the bucket's credentials through the "
            "workload identity and the preemption contract (README: 'Bring your own training code'). "
            "Default: our trainer, -m workloads.train with max_steps, the checkpoint directory and "
            "checkpoint_every_steps."
        ),
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict,
        description="More environment variables for the trainer; those the platform sets are refused.",
    )
    max_steps: int | None = Field(
        default=None, ge=1, description="Training steps; our trainer's --max-steps (required with it)."
    )
    checkpoint_every_steps: int = Field(
        default=500, ge=1, description="Steps between checkpoints (our trainer's --checkpoint-every)."
    )
    trainer_args: tuple[str, ...] = Field(
        default=(),
        description="More arguments for our trainer, e.g. [--n-layer, '12', --batch-size, '32'].",
    )
    max_runtime_seconds: int = Field(
        default=3 * 86400,
        ge=600,
        le=60 * 86400,
        description="Wall-clock limit of the job (activeDeadlineSeconds).",
    )
    backoff_limit: int = Field(
        default=3,
        ge=0,
        le=100,
        description="Pod failures tolerated before the job fails (preemptions do not count).",
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        le=365 * 86400,
        description=(
            "Delete the finished job and its pods this long after it ends. Default: keep them until the "
            "workload leaves the stack. With a TTL, a `pulumi refresh` after the deletion drops the job from "
            "the state and the next `pulumi up` creates it again: it resumes from its last checkpoint, finds "
            "max_steps reached and exits, but only once its nodes have scaled up and pulled the image."
        ),
    )
    termination_grace_period_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="Time between SIGTERM and SIGKILL: long enough for a final checkpoint.",
    )
    fail_fast_exit_codes: tuple[Annotated[int, Field(ge=1, le=255)], ...] = Field(
        default=(int(TrainExit.BAD_INPUT),),
        min_length=1,
        description=(
            "Launcher (torchrun) exit codes that fail the job at once; any other failure is retried and "
            "counts against backoff_limit. Default 2: torchrun's usage error (bad flags), which will fail "
            "again. 1 is not in the default: torchrun exits 1 both when a worker keeps failing after its "
            "restarts (a bug) and when the rendezvous times out because a peer pod started more than "
            "rendezvous_timeout_seconds late (a slow scale-up or image pull), and a retry heals the second. "
            "Add 1 to stop at once on a bug, at the price of failing the job when a node comes up late. "
            f"Never {PREEMPTED_EXIT_CODE}: the trainer's status after a preemption, always retried for free "
            "(the preemption flow: lepton_infra/contract.py)."
        ),
    )
    rendezvous_timeout_seconds: int = Field(
        default=1800,
        ge=60,
        le=6 * 3600,
        description=(
            "How long a job's pods wait for each other at torchrun's rendezvous: its join timeout, and its "
            "read timeout, which also bounds how long a pod waits for the pod hosting the rendezvous to come "
            "up. Pods start minutes apart when a node must scale up from zero and pull a multi-GB image; the "
            "default 30 minutes covers both. Longer also means a rendezvous host that vanishes mid-run is "
            "noticed later."
        ),
    )
    no_progress_alert_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="Alert when no training step has finished for this long."
    )
    scratch_disk_gib: int = Field(
        default=50,
        ge=1,
        le=4096,
        description=(
            "Writable scratch space of each pod at /tmp ($HOME too, and where Python's tempfile writes; "
            "the root filesystem is read-only): an emptyDir on the node's disk (node ephemeral storage), "
            "requested from the scheduler so a pod lands only on a node with that much free. It holds each "
            "checkpoint file on its way to a bucket (rank 0 writes the model and optimizer state: about 12 "
            "bytes a parameter with AdamW in fp32, weights and two moments), torch's compile caches and "
            "whatever the trainer writes under $HOME; writing more evicts the pod. The pod requests 1 GiB "
            "more (its logs). It must fit the disk of the pool's nodes (`disk_gib`) less 40 GiB for the OS "
            "and images and the kubelet's 10% reserve (lepton_infra/catalog/node_disk.py). Default 50 GiB: "
            "a checkpoint of some 4 billion parameters."
        ),
    )

    @property
    def gpus_needed_per_node(self) -> int:
        return self.gpus_per_node

    @property
    def shared_memory_field(self) -> str:
        """Where the spec sizes the pod's /dev/shm."""
        return "shared_memory_mib"

    def shared_memory(self, memory_mib: int) -> int:
        """/dev/shm of a pod with ``memory_mib``: the spec's size, else a quarter of the pod's memory."""
        if self.shared_memory_mib is not None:
            return self.shared_memory_mib
        return default_shared_memory_mib(memory_mib)

    @model_validator(mode="after")
    def _shared_memory_fits(self) -> TrainingWorkloadSpec:
        # With per-site default resources, the platform's rules check it on each site's size.
        resources, shared_memory = self.resources, self.shared_memory_mib
        if resources is not None and shared_memory is not None and shared_memory >= resources.memory_mib:
            raise rule_error(
                [(self.shared_memory_field, shared_memory_too_large(shared_memory, resources.memory_mib))]
            )
        return self

    @property
    def runs_our_trainer(self) -> bool:
        return self.args is None

    @model_validator(mode="after")
    def _trainer_arguments(self) -> TrainingWorkloadSpec:
        issues = reserved_env_issues(self.env)
        if self.runs_our_trainer and self.max_steps is None:
            issues.append(("max_steps", "our trainer needs `max_steps` (or give your own `args`)"))
        if not self.runs_our_trainer:
            ours = ("max_steps", "checkpoint_every_steps", "trainer_args")
            for name in sorted(self.model_fields_set & set(ours)):
                issues.append((name, "is an argument of our trainer; with your own `args`, pass it there"))
        if issues:
            raise rule_error(issues)
        return self

    @model_validator(mode="after")
    def _preemption_is_not_a_failure(self) -> TrainingWorkloadSpec:
        if PREEMPTED_EXIT_CODE in self.fail_fast_exit_codes:
            message = (
                f"{PREEMPTED_EXIT_CODE} is the trainer's exit status after a preemption checkpoint; the job "
                "retries it without counting a failure, so it cannot also fail the job"
            )
            raise rule_error([("fail_fast_exit_codes", message)])
        return self


class CpuAutoscalingSpec(SpecModel):
    kind: Literal["cpu"] = Field(description="Scale on average CPU utilization of the replicas.")
    target_utilization_percent: int = Field(
        default=70, ge=10, le=95, description="Target average CPU utilization."
    )


class PodsMetricAutoscalingSpec(SpecModel):
    kind: Literal["pods-metric"] = Field(
        description=(
            "Scale on a per-pod gauge the server exports: the site gets prometheus-adapter, with a rule that "
            "serves it to the HPA."
        )
    )
    metric_name: MetricName = Field(
        description=(
            "The Prometheus series the server's pods export, e.g. lepton_serve_queue_depth or "
            "vllm:num_requests_waiting; the adapter serves it to the HPA with colons turned to underscores."
        )
    )
    target_average_value: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="Target average value of the metric per replica."
    )


AutoscalingSpec = Annotated[CpuAutoscalingSpec | PodsMetricAutoscalingSpec, Field(discriminator="kind")]


class IngressSpec(SpecModel):
    """External exposure through an ingress controller, always over TLS."""

    host: Hostname = Field(description="Host name clients use.")
    ingress_class_name: DnsLabel = Field(description="IngressClass of the controller that serves it.")
    tls_secret_name: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        max_length=253,
        description="Secret holding the TLS certificate.",
    )
    controller_namespace: DnsLabel = Field(
        default="ingress-nginx",
        description="Namespace of the ingress controller's pods (allowed in by network policy).",
    )


class ServingAlertsSpec(SpecModel):
    p99_latency_seconds: float = Field(
        default=2.0,
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="Alert when p99 request latency exceeds this.",
    )
    error_rate_ratio: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="Alert when this share of requests fail (5xx).",
    )
    for_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="How long a breach lasts before it alerts."
    )


# What a vLLM service scales on unless told otherwise: its queue of requests waiting for capacity, a few per
# replica (with the batch full, more waiting means a new replica pays off; a judgement, not a vLLM figure).
VLLM_QUEUE_TARGET_PER_REPLICA = 4.0
# vLLM loads the weights from local disk, then compiles and captures CUDA graphs before it listens.
VLLM_STARTUP_TIMEOUT_SECONDS = 1200
SERVER_DEFAULTS = (
    "Default: cpu for the lepton and custom servers; for vllm, pods-metric on vllm:num_requests_waiting, "
    f"{VLLM_QUEUE_TARGET_PER_REPLICA:g} per replica."
)


class InferenceWorkloadSpec(WorkloadBase):
    kind: Literal["inference"] = Field(description="An autoscaled model server.")
    server: ServerSpec = Field(
        default_factory=lambda: LeptonServerSpec(kind="lepton"),
        description="Which server runs: lepton (ours, the default), vllm, or custom (your command, paths).",
    )
    gpus_per_replica: int = Field(default=1, ge=1, le=16, description="GPUs each serving replica requests.")
    min_replicas: int = Field(
        default=2, ge=1, le=1000, description="Fewest replicas; 2 or more keeps it available."
    )
    max_replicas: int = Field(default=4, ge=1, le=1000, description="Most replicas the autoscaler may run.")
    port: int = Field(
        default=SERVE_PORT, ge=1024, le=65535, description="Port the server listens on (non-root: >= 1024)."
    )
    autoscaling: AutoscalingSpec = Field(
        default_factory=lambda: CpuAutoscalingSpec(kind="cpu"),
        description=f"What the HorizontalPodAutoscaler follows. {SERVER_DEFAULTS}",
    )
    ingress: IngressSpec | None = Field(
        default=None, description="Expose outside the cluster; ClusterIP only if omitted."
    )
    alerts: ServingAlertsSpec = Field(
        default_factory=ServingAlertsSpec, description="Latency and error-rate alerts."
    )
    startup_timeout_seconds: int = Field(
        default=600,
        ge=30,
        le=3600,
        description=(
            "Time a replica may take to load its model before it is restarted (after the model is staged). "
            f"Default: 600, {VLLM_STARTUP_TIMEOUT_SECONDS} for vllm."
        ),
    )
    termination_grace_period_seconds: int = Field(
        default=60, ge=10, le=3600, description="Time to drain in-flight requests after SIGTERM."
    )

    @property
    def gpus_needed_per_node(self) -> int:
        return self.gpus_per_replica

    @model_validator(mode="before")
    @classmethod
    def _server_defaults(cls, data: object) -> object:
        """vLLM's own defaults for what the user left out: scale on its queue, time to compile at start."""
        if not isinstance(data, dict):
            return data
        server = data.get("server")
        kind = server.get("kind") if isinstance(server, dict) else getattr(server, "kind", None)
        if kind != "vllm":
            return data
        queue = {
            "kind": "pods-metric",
            "metric_name": VLLM.metrics.queue_gauge,
            "target_average_value": VLLM_QUEUE_TARGET_PER_REPLICA,
        }
        return {"autoscaling": queue, "startup_timeout_seconds": VLLM_STARTUP_TIMEOUT_SECONDS, **data}

    @property
    def staged_model(self) -> VllmServerSpec | StagedModelSpec | None:
        """What the model stager needs, for a server that reads the model from local disk; else None."""
        if isinstance(self.server, VllmServerSpec):
            return self.server
        if isinstance(self.server, CustomServerSpec):
            return self.server.staged_model
        return None

    @property
    def staged_model_field(self) -> str:
        """Where the spec holds the staged model's settings: the vLLM server itself, or ``staged_model``."""
        return "server" if isinstance(self.server, VllmServerSpec) else "server.staged_model"

    @property
    def shared_memory_field(self) -> str:
        """Where the spec sizes the replica's /dev/shm."""
        return f"{self.staged_model_field}.shared_memory_mib"

    @property
    def local_disk_gib(self) -> int:
        """The node disk a replica's emptyDirs may fill: the staged model, vLLM's cache and /tmp."""
        staged = self.staged_model
        cache = self.server.cache_disk_gib if isinstance(self.server, VllmServerSpec) else 0
        return (staged.model_disk_gib if staged is not None else 0) + cache + SERVER_TMP_GIB

    def shared_memory(self, memory_mib: int) -> int:
        """/dev/shm of a replica with ``memory_mib``: the spec's size, else a quarter of the replica's memory;
        0 for a server that stages no model (it gets no /dev/shm volume)."""
        staged = self.staged_model
        if staged is None:
            return 0
        if staged.shared_memory_mib is not None:
            return staged.shared_memory_mib
        return default_shared_memory_mib(memory_mib)

    @model_validator(mode="after")
    def _consistent(self) -> InferenceWorkloadSpec:
        issues = []
        staged, resources = self.staged_model, self.resources
        shared_memory = staged.shared_memory_mib if staged is not None else None
        if resources is not None and shared_memory is not None and shared_memory >= resources.memory_mib:
            # With per-site default resources, the platform's rules check it on each site's size.
            message = shared_memory_too_large(shared_memory, resources.memory_mib)
            issues.append((self.shared_memory_field, message))
        if self.min_replicas > self.max_replicas:
            message = f"min_replicas ({self.min_replicas}) must not exceed max_replicas ({self.max_replicas})"
            issues.append(("min_replicas", message))
        if isinstance(self.checkpoint, VolumeCheckpointSpec) and self.checkpoint.size_gib is not None:
            # A server only reads: an empty claim created for it would hold no model.
            issues.append(("checkpoint.size_gib", "a server reads an existing claim; name it without a size"))
        if issues:
            raise rule_error(issues)
        return self


WorkloadSpec = Annotated[TrainingWorkloadSpec | InferenceWorkloadSpec, Field(discriminator="kind")]
