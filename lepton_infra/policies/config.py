"""The pack config a user writes (YAML or JSON, snake_case), and its translation to Pulumi policy config.

One file serves both runs: ``lepton-infra check --policy-config FILE`` reads it, and the pack's
``__main__`` reads it through ``LEPTON_POLICY_CONFIG`` and announces it as the pack's initial config.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lepton_infra.policies.spec import PolicySpec

# snake_case key in our file -> camelCase key of Pulumi policy config.
_SETTING_KEYS = {
    "allowed_registries": "allowedRegistries",
    "allowed_regions": "allowedRegions",
    "allowed_api_cidrs": "allowedApiCidrs",
    "required_tags": "requiredTags",
    "required_labels": "requiredLabels",
    "required_eks_log_types": "requiredEksLogTypes",
    "max_gpus_per_node": "maxGpusPerNode",
    "max_gpus_per_stack": "maxGpusPerStack",
}


class ConfigError(ValueError):
    """The pack config cannot be read or names something that does not exist."""


class Exemption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="Name of the policy the resource is exempt from.")
    resource: str = Field(description="URN or logical name of the exempt resource.")
    reason: str = Field(min_length=10, description="Why the exemption is acceptable; shown in every report.")

    @field_validator("reason")
    @classmethod
    def _written(cls, value: str) -> str:
        if len(value.strip()) < 10:
            raise ValueError("an exemption needs a written reason of at least 10 characters")
        return value.strip()


class PackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enforcement: dict[str, Literal["mandatory", "advisory", "disabled"]] = Field(
        default_factory=dict, description="Policy name (or `all`) to enforcement level."
    )
    allowed_registries: list[str] | None = Field(
        default=None, description="Registry host patterns images may come from."
    )
    allowed_regions: list[str] | None = Field(
        default=None, description="Cloud regions resources may live in."
    )
    allowed_api_cidrs: list[str] | None = Field(
        default=None, description="CIDRs a public API endpoint may admit."
    )
    required_tags: list[str] | None = Field(
        default=None, description="Tag keys every cloud resource carries."
    )
    required_labels: list[str] | None = Field(
        default=None, description="Label keys every Kubernetes workload carries."
    )
    required_eks_log_types: list[str] | None = Field(
        default=None, description="EKS control-plane log types to enable."
    )
    max_gpus_per_node: int | None = Field(
        default=None, ge=1, description="GPUs on the largest node a pod may target."
    )
    max_gpus_per_stack: int | None = Field(
        default=None, ge=0, description="GPUs a stack may provision at most."
    )
    exemptions: list[Exemption] = Field(
        default_factory=list, description="Resource/policy pairs exempt, each with a reason."
    )

    def check_names(self, specs: Iterable[PolicySpec]) -> None:
        known = {s.name for s in specs} | {"all"}
        unknown = sorted({*self.enforcement, *(e.policy for e in self.exemptions)} - known)
        if unknown:
            raise ConfigError(f"pack config names unknown policies: {', '.join(unknown)}")

    def enforcement_for(self, spec: PolicySpec) -> str:
        return self.enforcement.get(spec.name) or self.enforcement.get("all") or spec.enforcement

    def exemption_for(self, policy: str, urn: str | None) -> Exemption | None:
        name = urn.rsplit("::", 1)[-1] if urn else None
        for exemption in self.exemptions:
            if exemption.policy == policy and exemption.resource in (urn, name):
                return exemption
        return None

    def to_pulumi_config(
        self, specs: Iterable[PolicySpec], *, with_exemptions: bool = True
    ) -> dict[str, dict[str, Any]]:
        """Per-policy config as ``--policy-pack-config`` takes it: enforcement plus the settings it reads."""
        specs = tuple(specs)
        self.check_names(specs)
        settings = {
            _SETTING_KEYS[k]: v
            for k, v in self.model_dump(include=set(_SETTING_KEYS)).items()
            if v is not None
        }
        config: dict[str, dict[str, Any]] = {}
        for spec in specs:
            entry: dict[str, Any] = {"enforcementLevel": self.enforcement_for(spec)}
            entry.update({k: v for k, v in settings.items() if k in spec.config_keys})
            exempt = [
                {"resource": e.resource, "reason": e.reason} for e in self.exemptions if e.policy == spec.name
            ]
            if exempt and with_exemptions:
                entry["exemptions"] = exempt
            config[spec.name] = entry
        return config


def load_config(path: Path) -> PackConfig:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return PackConfig.model_validate(data or {})
    except OSError as e:
        raise ConfigError(f"cannot read policy config {path}: {e.strerror or e}") from e
    except (ValueError, yaml.YAMLError) as e:
        detail = (
            "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
            if isinstance(e, ValidationError)
            else str(e)
        )
        raise ConfigError(f"invalid policy config {path}: {detail}") from e
