"""What a policy may be configured with, as the analyzer hands it over (Pulumi policy config, camelCase).

Every policy reads the same ``Settings``; each declares (in its config schema) only the keys it uses.
Defaults live here once, so the pack under the Pulumi CLI and the offline runner agree without config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Registries our clouds and NVIDIA's stack publish from; anything else should be mirrored first.
DEFAULT_REGISTRIES: tuple[str, ...] = (
    "*.dkr.ecr.*.amazonaws.com",
    "*.azurecr.io",
    "*.cr.aliyuncs.com",
    "nvcr.io",
    "registry.k8s.io",
)
DEFAULT_REQUIRED_TAGS: tuple[str, ...] = ("team", "cost-center")
DEFAULT_REQUIRED_LABELS: tuple[str, ...] = ("app.kubernetes.io/name",)
# The largest GPU hosts sold today (p5.48xlarge, ND H100 v5, ebmgn8v) carry eight GPUs.
DEFAULT_MAX_GPUS_PER_NODE = 8
DEFAULT_MAX_GPUS_PER_STACK = 256
DEFAULT_EKS_LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class Settings:
    allowed_registries: tuple[str, ...] = DEFAULT_REGISTRIES
    allowed_regions: tuple[str, ...] = ()  # empty: every region allowed
    allowed_api_cidrs: tuple[str, ...] = ()  # empty: any non-world allowlist is accepted
    required_tags: tuple[str, ...] = DEFAULT_REQUIRED_TAGS
    required_labels: tuple[str, ...] = DEFAULT_REQUIRED_LABELS
    required_eks_log_types: tuple[str, ...] = DEFAULT_EKS_LOG_TYPES
    max_gpus_per_node: int = DEFAULT_MAX_GPUS_PER_NODE
    max_gpus_per_stack: int = DEFAULT_MAX_GPUS_PER_STACK
    exemptions: tuple[tuple[str, str], ...] = ()  # (resource urn or name, reason)

    def exemption_for(self, urn: str, name: str) -> str | None:
        """The written reason this resource is exempt from the policy, if it is."""
        for resource, reason in self.exemptions:
            if resource in (urn, name):
                return reason
        return None


# Pulumi policy config key -> (Settings field, JSON schema of the value).
CONFIG_KEYS: dict[str, tuple[str, dict[str, Any]]] = {
    "allowedRegistries": ("allowed_registries", {"type": "array", "items": {"type": "string"}}),
    "allowedRegions": ("allowed_regions", {"type": "array", "items": {"type": "string"}}),
    "allowedApiCidrs": ("allowed_api_cidrs", {"type": "array", "items": {"type": "string"}}),
    "requiredTags": ("required_tags", {"type": "array", "items": {"type": "string"}}),
    "requiredLabels": ("required_labels", {"type": "array", "items": {"type": "string"}}),
    "requiredEksLogTypes": ("required_eks_log_types", {"type": "array", "items": {"type": "string"}}),
    "maxGpusPerNode": ("max_gpus_per_node", {"type": "integer", "minimum": 1}),
    "maxGpusPerStack": ("max_gpus_per_stack", {"type": "integer", "minimum": 0}),
    "exemptions": (
        "exemptions",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"resource": {"type": "string"}, "reason": {"type": "string", "minLength": 10}},
                "required": ["resource", "reason"],
            },
        },
    ),
}


def settings_from(config: Mapping[str, Any]) -> Settings:
    """Settings from one policy's config as the analyzer received it; absent keys keep their defaults."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key not in CONFIG_KEYS or value is None:
            continue
        field_name = CONFIG_KEYS[key][0]
        if field_name == "exemptions":
            values[field_name] = tuple((str(e["resource"]), str(e["reason"])) for e in value)
        elif isinstance(value, list | tuple):
            values[field_name] = tuple(str(v) for v in value)
        else:
            values[field_name] = int(value)
    return Settings(**values)
