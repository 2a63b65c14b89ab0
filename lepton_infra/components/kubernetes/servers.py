"""What each model server needs in its pod: command, flags, probe paths, metrics, volumes, init containers.

The InferenceService builds the same hardened Deployment around any of them; only this differs. Facts about an
engine (its paths, its metric names) come from ``lepton_infra.engines`` for the version the spec pins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi_kubernetes as k8s

from lepton_infra.blueprint.servers import CustomServerSpec, VllmServerSpec
from lepton_infra.blueprint.workloads import InferenceWorkloadSpec
from lepton_infra.components.kubernetes.model_staging import MODEL_DIR, staged_model
from lepton_infra.components.kubernetes.pod_builder import PodBuilder
from lepton_infra.components.kubernetes.pod_security import Volume, disk_empty_dir, memory_empty_dir
from lepton_infra.contract import CHECKPOINT_DIR_ENV, MODEL_DIR_ENV
from lepton_infra.engines import LEPTON, VLLM, ServingMetrics

CACHE_MOUNT = "/cache"
# Beyond the preStop sleep, what the pod's grace period keeps for the process to exit after draining.
EXIT_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class ServerPlan:
    command: list[str]
    args: list[str]
    health_path: str
    ready_path: str
    metrics_path: str
    # The series the latency and error-rate alerts read; None where the platform does not know them.
    metrics: ServingMetrics | None
    env: list[k8s.core.v1.EnvVarArgs] = field(default_factory=list)
    user_env: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[Volume, ...] = ()
    init_containers: tuple[k8s.core.v1.ContainerArgs, ...] = ()


def server_plan(workload: InferenceWorkloadSpec, pods: PodBuilder, drain_seconds: int) -> ServerPlan:
    """The spec's server; ``drain_seconds`` is how long in-flight requests may run on after SIGTERM."""
    server = workload.server
    if isinstance(server, VllmServerSpec):
        return _vllm(workload, server, pods, drain_seconds)
    if isinstance(server, CustomServerSpec):
        return _custom(workload, server, pods)
    return ServerPlan(
        command=["python", "-m", "workloads.serve"],
        args=["--checkpoint-dir", f"$({CHECKPOINT_DIR_ENV})", "--port", str(workload.port)],
        health_path=LEPTON.health_path,
        ready_path=LEPTON.ready_path,
        metrics_path=LEPTON.metrics_path,
        metrics=LEPTON.metrics,
    )


def _shared_memory(workload: InferenceWorkloadSpec, pods: PodBuilder) -> Volume:
    # NCCL between a replica's GPUs shares buffers through /dev/shm; the runtime's default is 64 MiB.
    return memory_empty_dir("dshm", "/dev/shm", workload.shared_memory(pods.resources.memory_mib))


def _vllm(
    workload: InferenceWorkloadSpec, server: VllmServerSpec, pods: PodBuilder, drain_seconds: int
) -> ServerPlan:
    """`vllm serve` on the staged export (vllm 0.32.0's flags, vllm/engine/arg_utils.py)."""
    staged = staged_model(pods, server)
    flags = [
        MODEL_DIR,
        "--served-model-name",
        server.served_model_name or workload.name,
        "--port",
        str(workload.port),
        "--tensor-parallel-size",
        str(workload.gpus_per_replica),
        # In-flight requests may finish for this long after SIGTERM; vLLM's default, 0, aborts them
        # (vllm/config/vllm.py: shutdown_timeout).
        "--shutdown-timeout",
        str(drain_seconds),
        *server.extra_args,
    ]
    cache = {
        # The root filesystem is read-only: every cache vLLM, torch.compile, Triton and Hugging Face keep
        # goes to the cache emptyDir rather than under $HOME (/tmp, small).
        "XDG_CACHE_HOME": CACHE_MOUNT,
        "VLLM_CACHE_ROOT": f"{CACHE_MOUNT}/vllm",
        "TORCHINDUCTOR_CACHE_DIR": f"{CACHE_MOUNT}/torchinductor",
        "TRITON_CACHE_DIR": f"{CACHE_MOUNT}/triton",
        "HF_HOME": f"{CACHE_MOUNT}/huggingface",
        # The model is local; never reach for the Hub (the pod's egress allows HTTPS to anywhere).
        "HF_HUB_OFFLINE": "1",
        # vLLM reports usage to stats.vllm.ai unless told not to (vllm/envs.py: VLLM_NO_USAGE_STATS).
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        # UID 10001 has no passwd entry in vLLM's image: getpass.getuser() then raises, which crashed vLLM at
        # import (llm-d/llm-d-benchmark#1573, vllm-project/vllm#46734); torch 2.13 fixed its own call, USER
        # keeps every other caller working.
        "USER": "lepton",
        MODEL_DIR_ENV: MODEL_DIR,
    }
    return ServerPlan(
        command=["vllm", "serve"],
        args=flags,
        health_path=VLLM.health_path,
        ready_path=VLLM.ready_path,
        metrics_path=VLLM.metrics_path,
        metrics=VLLM.metrics,
        env=[k8s.core.v1.EnvVarArgs(name=n, value=v) for n, v in cache.items()],
        user_env=server.env,
        volumes=(
            staged.server_volume,
            disk_empty_dir("cache", CACHE_MOUNT, server.cache_disk_gib),
            _shared_memory(workload, pods),
        ),
        init_containers=(staged.init_container,),
    )


def _custom(workload: InferenceWorkloadSpec, server: CustomServerSpec, pods: PodBuilder) -> ServerPlan:
    """The user's command and paths; the model staged first only where the spec asks for it."""
    env: list[k8s.core.v1.EnvVarArgs] = []
    volumes: tuple[Volume, ...] = ()
    init: tuple[k8s.core.v1.ContainerArgs, ...] = ()
    if server.staged_model is not None:
        staged = staged_model(pods, server.staged_model)
        env = [k8s.core.v1.EnvVarArgs(name=MODEL_DIR_ENV, value=MODEL_DIR)]
        volumes = (staged.server_volume, _shared_memory(workload, pods))
        init = (staged.init_container,)
    return ServerPlan(
        command=list(server.command),
        args=list(server.args),
        health_path=server.health_path,
        ready_path=server.readiness_path or server.health_path,
        metrics_path=server.metrics_path,
        metrics=None,
        env=env,
        user_env=server.env,
        volumes=volumes,
        init_containers=init,
    )
