"""What an existing cluster's site may tell the NVIDIA GPU Operator it installs, and what it may not.

Typed fields for what such clusters need most (a driver version, the distribution's containerd, the MIG
strategy, DCGM), and ``values`` for the rest of the chart, merged last. Every ``values`` key must be one of
the pinned chart's (``catalog/gpu_operator_chart.py``): Helm ignores a misspelled one without a word. Keys
that would undo what the platform relies on are refused, each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.config import JsonValue

from lepton_infra.blueprint.base import SpecModel, rule_error
from lepton_infra.catalog.container_runtimes import TOOLKIT_ENV, ContainerRuntime
from lepton_infra.catalog.gpu_operator_chart import GPU_OPERATOR_CHART_VERSION, chart_values, unknown_keys

# Either; which one a site needs depends on precompiled_driver (checked below).
DRIVER_VERSION_PATTERN = r"^\d{3}(\.\d{2,3}(\.\d{2})?)?$"
# A data-center driver release, e.g. 580.105.08 or 570.172.08 (the driver container's tag, before the OS).
DRIVER_RELEASE = re.compile(r"^\d{3}\.\d{2,3}(\.\d{2})?$")
# A driver branch, e.g. 570: precompiled driver images are tagged by branch and kernel, never by release
# (NVIDIA GPU Operator docs, "Precompiled Driver Containers": driver.version=<branch>).
DRIVER_BRANCH = re.compile(r"^\d{3}$")

# values keys a user may not set, each with why; a path refuses everything below it too.
GUARDED_KEYS: Mapping[tuple[str, ...], str] = {
    ("driver", "enabled"): "follows gpu_stack (operator-with-driver installs the driver)",
    ("toolkit", "enabled"): "follows gpu_stack (operator-with-driver installs the container toolkit)",
    ("driver", "version"): "use gpu_operator.driver_version, which is checked",
    ("driver", "usePrecompiled"): "use gpu_operator.precompiled_driver, which is checked with driver_version",
    ("mig", "strategy"): "use gpu_operator.mig_strategy, which is checked against what workloads request",
    ("dcgmExporter", "enabled"): "use gpu_operator.dcgm_exporter, so the plan can warn about alerts it feeds",
    ("dcgmExporter", "serviceMonitor", "enabled"): (
        "follows the site's prometheus_operator: a ServiceMonitor without its CRD fails the install"
    ),
    ("devicePlugin", "enabled"): (
        "without the device plugin no node advertises nvidia.com/gpu and no GPU pod is ever scheduled"
    ),
    ("gfd", "enabled"): "GPU feature discovery writes the nvidia.com/gpu.* node labels GPU pools select on",
    ("daemonsets", "tolerations"): (
        "a list here replaces the tolerations of every GPU pool's taints, and the device plugin would not "
        "run on those nodes; state a pool's taints in gpu_pools[].taints instead"
    ),
    ("node-feature-discovery", "worker", "tolerations"): (
        "a list here replaces the tolerations of every GPU pool's taints, and those nodes would get no GPU "
        "labels; state a pool's taints in gpu_pools[].taints instead"
    ),
}


def _chart_top_level_keys(schema: dict[str, JsonValue]) -> None:
    """Editors flag a misspelled top-level key as the user types it (validation checks every level). Run
    when the JSON Schema is made, so importing the spec does not parse the chart's values.yaml."""
    schema["propertyNames"] = {"enum": [*sorted(chart_values())]}


class GpuOperatorSpec(SpecModel):
    """How the GPU Operator an existing site installs is set up beyond who brings driver and toolkit."""

    driver_version: str | None = Field(
        default=None,
        pattern=DRIVER_VERSION_PATTERN,
        description=(
            "Driver the operator installs (gpu_stack operator-with-driver only), e.g. 570.172.08; with "
            f"precompiled_driver a branch, e.g. 570. Default: the chart's ({GPU_OPERATOR_CHART_VERSION})."
        ),
    )
    precompiled_driver: bool = Field(
        default=False,
        description=(
            "Use NVIDIA's precompiled driver images (no kernel module build on the node; Ubuntu kernels "
            "only); driver_version must then name a branch."
        ),
    )
    container_runtime: ContainerRuntime = Field(
        default="containerd",
        description=(
            "Whose containerd the operator's toolkit configures (gpu_stack operator-with-driver only): "
            "`containerd` (/etc/containerd/config.toml), `k3s`, `rke2` or `microk8s`, each with the config "
            "file and socket NVIDIA documents for it. A wrong one writes a config the node never reads and "
            "no GPU pod starts."
        ),
    )
    mig_strategy: Literal["none", "single"] = Field(
        default="single",
        description=(
            "How MIG devices are advertised: `single` (the chart's default: MIG slices of a node, all of one "
            "profile, are counted as nvidia.com/gpu, so a pool's gpus_per_node counts slices) or `none`. "
            "`mixed` is refused: it advertises nvidia.com/mig-<profile> resources, which no workload of the "
            "platform requests and no team quota counts."
        ),
    )
    dcgm_exporter: bool = Field(
        default=True,
        description=(
            "Run the operator's DCGM exporter (GPU metrics). Off only where another one runs: the GPU health "
            "alerts read its series."
        ),
    )
    values: dict[str, Any] = Field(
        default_factory=dict,
        json_schema_extra=_chart_top_level_keys,
        description=(
            f"Further GPU Operator chart values ({GPU_OPERATOR_CHART_VERSION}), merged last, e.g. "
            "{driver: {repository: registry.example.internal/nvidia}}. Every key must be the chart's; keys "
            "the fields above or the platform set (device plugin, pool tolerations ...) are refused."
        ),
    )

    @field_validator("mig_strategy", mode="before")
    @classmethod
    def _mixed_is_refused(cls, value: Any) -> Any:
        if value == "mixed":
            raise ValueError(
                "`mixed` advertises nvidia.com/mig-<profile> resources, which no workload of the platform "
                "requests and no team quota counts: use `single` (slices of one profile as nvidia.com/gpu)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GpuOperatorSpec:
        issues = [
            *self._driver_issues(),
            *_values_issues(self.values),
            *_toolkit_env_issues(self.values, self.container_runtime),
        ]
        if issues:
            raise rule_error(issues)
        return self

    def _driver_issues(self) -> list[tuple[str, str]]:
        version = self.driver_version
        if self.precompiled_driver and version is None:
            return [("driver_version", "precompiled_driver needs a driver branch here, e.g. 570")]
        if version is None:
            return []
        if self.precompiled_driver and not DRIVER_BRANCH.match(version):
            return [("driver_version", f"{version!r}: precompiled images are tagged by branch, e.g. 570")]
        if not self.precompiled_driver and not DRIVER_RELEASE.match(version):
            return [("driver_version", f"{version!r} is not a driver release such as 570.172.08")]
        return []


def _values_issues(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    issues = [
        (_path(path), f"not a value of the GPU Operator chart {GPU_OPERATOR_CHART_VERSION}")
        for path in unknown_keys(values)
    ]
    for path, reason in GUARDED_KEYS.items():
        if _present(values, path):
            issues.append((_path(path), f"refused: {reason}"))
    return issues


def _toolkit_env_issues(values: Mapping[str, Any], runtime: ContainerRuntime) -> list[tuple[str, str]]:
    """``values.toolkit.env`` is a list of name/value pairs, added after those ``container_runtime`` sets
    (e.g. CONTAINERD_USE_LEGACY_CONFIG for a version-1 containerd config, NVIDIA/gpu-operator#415); a name the
    runtime sets would contradict it."""
    toolkit = values.get("toolkit")
    env = toolkit.get("env") if isinstance(toolkit, Mapping) else None
    if env is None:
        return []
    if not isinstance(env, list):
        return [("values.toolkit.env", "a list of {name, value} entries")]
    issues: list[tuple[str, str]] = []
    for i, entry in enumerate(env):
        path = f"values.toolkit.env[{i}]"
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping) or set(entry) != {"name", "value"} or not isinstance(name, str):
            issues.append((path, "an entry is {name: VARIABLE, value: text}"))
        elif not isinstance(entry["value"], str):
            issues.append((f"{path}.value", "a string: quote true, false and numbers"))
        elif name in TOOLKIT_ENV[runtime]:
            issues.append((f"{path}.name", f"{name} is set by container_runtime {runtime}"))
    return issues


def _present(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def _path(keys: tuple[str, ...]) -> str:
    return ".".join(("values", *keys))
