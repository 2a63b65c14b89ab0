"""The model server an inference workload runs: ours, vLLM, or the user's own. Told apart by ``kind``.

Whatever the server, the platform keeps its guarantees: the pod is hardened and restricted, the image pinned,
the identity the workload's own, and what an engine needs that the restricted profile forbids (a writable
cache, shared memory, the model on local disk) comes as an emptyDir, never as privilege.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import SpecModel, rule_error
from lepton_infra.blueprint.names import EnvName, ImageSpec
from lepton_infra.contract import RESERVED_ENV
from lepton_infra.engines import VLLM_PLATFORM_FLAGS, VLLM_VERSION

HttpPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$", max_length=200)]
ServedModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")]

ENV_DESCRIPTION = (
    "More environment variables for the server's container; those the platform sets are refused."
)
STAGER_DESCRIPTION = (
    "Image of the model stager (stager/Dockerfile: python -m stager), the init container that copies the "
    "newest export (`<checkpoint>/export/latest`, lepton_infra/contract.py) to the pod's local disk "
    "under the workload's identity."
)


def reserved_env_issues(env: dict[str, str], path: str = "env") -> list[tuple[str, str]]:
    """One issue per variable of ``env`` that the platform sets itself."""
    return [
        (f"{path}.{name}", "the platform sets this variable (lepton_infra/contract.py); remove it")
        for name in sorted(set(env) & set(RESERVED_ENV))
    ]


class LeptonServerSpec(SpecModel):
    kind: Literal["lepton"] = Field(
        description="Our server (`python -m workloads.serve`): reads the checkpoint location itself."
    )


class StagedModelSpec(SpecModel):
    """What a server that reads the model from local disk needs: the stager, and room for the weights."""

    stager_image: ImageSpec = Field(description=STAGER_DESCRIPTION)
    model_disk_gib: int = Field(
        default=50,
        ge=1,
        le=4096,
        description="Local disk (an emptyDir on the node) for the staged weights; more evicts the pod.",
    )
    shared_memory_mib: int | None = Field(
        default=None,
        ge=64,
        description=(
            "Size of /dev/shm (NCCL between the GPUs of a replica); memory-backed, so it counts against the "
            "pod's memory. Default: a quarter of the pod's memory, in whole GiB."
        ),
    )


class VllmServerSpec(StagedModelSpec):
    kind: Literal["vllm"] = Field(description="vLLM's OpenAI-compatible server (`vllm serve`).")
    version: Literal["0.32.0"] = Field(
        default=VLLM_VERSION,
        description=(
            "vLLM version of `image` (mirror vllm/vllm-openai:v0.32.0 into the site's registry and pin its "
            "digest): the platform's flags, probes, metrics and alerts are those of this version."
        ),
    )
    served_model_name: ServedModelName | None = Field(
        default=None,
        description="The `model` clients ask for (--served-model-name). Default: the workload's name.",
    )
    extra_args: tuple[str, ...] = Field(
        default=(),
        description=(
            "More `vllm serve` flags, e.g. [--max-model-len, '4096']. The platform sets the model, "
            f"{', '.join(VLLM_PLATFORM_FLAGS[1:])} itself."
        ),
    )
    env: dict[EnvName, str] = Field(default_factory=dict, description=ENV_DESCRIPTION)
    cache_disk_gib: int = Field(
        default=20,
        ge=1,
        le=1024,
        description="Writable cache (torch.compile, Triton; an emptyDir): the root filesystem is read-only.",
    )

    @model_validator(mode="after")
    def _platform_flags(self) -> VllmServerSpec:
        issues = reserved_env_issues(self.env)
        for index, argument in enumerate(self.extra_args):
            flag = argument.split("=", 1)[0]
            if flag in VLLM_PLATFORM_FLAGS:
                message = f"the platform sets {flag} itself (from the workload's spec); remove it"
                issues.append((f"extra_args[{index}]", message))
        if issues:
            raise rule_error(issues)
        return self


class CustomServerSpec(SpecModel):
    kind: Literal["custom"] = Field(description="Your own server in `image` (SGLang, Triton, your code ...).")
    command: tuple[str, ...] = Field(min_length=1, description="The container's command.")
    args: tuple[str, ...] = Field(
        default=(),
        description=(
            "Its arguments; `$(VAR)` expands from the container's environment, e.g. $(CHECKPOINT_DIR) or "
            "$(LEPTON_MODEL_DIR)."
        ),
    )
    env: dict[EnvName, str] = Field(default_factory=dict, description=ENV_DESCRIPTION)
    health_path: HttpPath = Field(
        description="Liveness and startup probe path: answers 200 unless restarting the process is the fix."
    )
    readiness_path: HttpPath | None = Field(
        default=None,
        description="Readiness probe path: 200 while it should get traffic. Default: health_path.",
    )
    metrics_path: HttpPath = Field(
        default="/metrics", description="Path of its Prometheus metrics on the workload's port."
    )
    staged_model: StagedModelSpec | None = Field(
        default=None,
        description=(
            "Stage the newest export to local disk before the server starts, at $(LEPTON_MODEL_DIR); "
            "omit when the server reads $(CHECKPOINT_DIR) itself."
        ),
    )

    @model_validator(mode="after")
    def _no_platform_env(self) -> CustomServerSpec:
        issues = reserved_env_issues(self.env)
        if issues:
            raise rule_error(issues)
        return self


ServerSpec = Annotated[LeptonServerSpec | VllmServerSpec | CustomServerSpec, Field(discriminator="kind")]
