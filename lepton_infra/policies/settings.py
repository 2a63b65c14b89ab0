"""What a policy may be configured with: each setting declared once, everything else derived from it.

A setting is a field of ``PolicySettings`` declared with ``setting(...)``: its snake_case name (the key a
user writes in the pack config file, and the attribute a rule reads), its camelCase key (Pulumi policy
config, as the analyzer hands it over), its type and default (the field's), a description and the JSON
schema of its value. From that one declaration come the config schema each policy announces
(``config_schema``), the settings a rule reads back from analyzer config (``settings_from``) and the
optional fields of the pack config file (``policies.config.PackConfig``). Every policy reads the same
``PolicySettings``; each declares (``config=``) only the keys it uses. Defaults live here once, so the pack
under the Pulumi CLI and the offline runner agree without config.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from lepton_infra.validation import DEFAULT_MAX_PUBLIC_IPV4, DEFAULT_MAX_PUBLIC_IPV6

T = TypeVar("T")

# Registries allowed besides the platform's own (the ones the plan creates): NVIDIA's and the Kubernetes
# project's, which the GPU and cluster services publish from. Never a cloud's registry domain
# (`*.azurecr.io` admits every tenant's registry): name this platform's hosts instead.
DEFAULT_REGISTRIES: tuple[str, ...] = ("nvcr.io", "registry.k8s.io")
DEFAULT_REQUIRED_TAGS: tuple[str, ...] = ("team", "cost-center")
DEFAULT_REQUIRED_LABELS: tuple[str, ...] = ("app.kubernetes.io/name",)
# The largest GPU hosts sold today (p5.48xlarge, ND H100 v5, ebmgn8v) carry eight GPUs.
DEFAULT_MAX_GPUS_PER_NODE = 8
DEFAULT_MAX_GPUS_PER_STACK = 256
# The oldest minor the three clouds still support in the bench's checkov 3.3.30 list (EKS 1.29-1.35,
# CKV_AWS_339) and that every stack of this project is past; raise it as the clouds retire versions
# (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
DEFAULT_MIN_KUBERNETES_VERSION = "1.31"
DEFAULT_EKS_LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")

_STRINGS: Mapping[str, Any] = {"type": "array", "items": {"type": "string"}}
_METADATA = "lepton.setting"

# Exemptions are not a setting a user writes per policy: the pack config lists them with their policy,
# and each policy receives its own as this key.
EXEMPTIONS_KEY = "exemptions"
_EXEMPTIONS_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"resource": {"type": "string"}, "reason": {"type": "string", "minLength": 10}},
        "required": ["resource", "reason"],
    },
}


@dataclass(frozen=True)
class _Declared:
    key: str
    description: str
    schema: Mapping[str, Any]


def setting(default: T, *, key: str, description: str, schema: Mapping[str, Any]) -> T:
    """A ``PolicySettings`` field that users may set: typed as its default, so mypy checks the two agree."""
    return field(default=default, metadata={_METADATA: _Declared(key, description, schema)})


@dataclass(frozen=True)
class PolicySettings:
    """The settings every rule sees: the pack config's values over these defaults."""

    allowed_registries: tuple[str, ...] = setting(
        DEFAULT_REGISTRIES,
        key="allowedRegistries",
        description=(
            "Registry hosts (or host patterns) images may come from besides the registries the plan "
            "creates, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com."
        ),
        schema=_STRINGS,
    )
    allowed_regions: tuple[str, ...] = setting(
        (),  # empty: every region allowed
        key="allowedRegions",
        description="Cloud regions resources may live in.",
        schema=_STRINGS,
    )
    allowed_api_cidrs: tuple[str, ...] = setting(
        (),  # empty: any non-world allowlist is accepted
        key="allowedApiCidrs",
        description="CIDRs a public API endpoint may admit.",
        schema=_STRINGS,
    )
    max_public_ipv4_addresses: int = setting(
        DEFAULT_MAX_PUBLIC_IPV4,
        key="maxPublicIpv4Addresses",
        description=(
            "Public IPv4 addresses a list of source ranges (API allowlist, security group, load balancer, "
            "network rules) may admit together, counted over their union; a union of every address is "
            "always a finding. Default 2^24 (a /8)."
        ),
        schema={"type": "integer", "minimum": 0},
    )
    max_public_ipv6_addresses: int = setting(
        DEFAULT_MAX_PUBLIC_IPV6,
        key="maxPublicIpv6Addresses",
        description="The same for public IPv6 addresses. Default 2^96 (a /32).",
        schema={"type": "integer", "minimum": 0},
    )
    required_tags: tuple[str, ...] = setting(
        DEFAULT_REQUIRED_TAGS,
        key="requiredTags",
        description="Tag keys every cloud resource carries.",
        schema=_STRINGS,
    )
    required_labels: tuple[str, ...] = setting(
        DEFAULT_REQUIRED_LABELS,
        key="requiredLabels",
        description="Label keys every Kubernetes workload carries.",
        schema=_STRINGS,
    )
    required_eks_log_types: tuple[str, ...] = setting(
        DEFAULT_EKS_LOG_TYPES,
        key="requiredEksLogTypes",
        description="EKS control-plane log types to enable.",
        schema=_STRINGS,
    )
    max_gpus_per_node: int = setting(
        DEFAULT_MAX_GPUS_PER_NODE,
        key="maxGpusPerNode",
        description="GPUs on the largest node a pod may target.",
        schema={"type": "integer", "minimum": 1},
    )
    max_gpus_per_stack: int = setting(
        DEFAULT_MAX_GPUS_PER_STACK,
        key="maxGpusPerStack",
        description="GPUs a stack may provision at most.",
        schema={"type": "integer", "minimum": 0},
    )
    min_kubernetes_version: str = setting(
        DEFAULT_MIN_KUBERNETES_VERSION,
        key="minKubernetesVersion",
        description="The oldest Kubernetes minor version a managed cluster may run (e.g. 1.31).",
        schema={"type": "string", "pattern": r"^1\.\d+$"},
    )
    external_budgets: tuple[str, ...] = setting(
        (),
        key="externalBudgets",
        description="Sites whose monthly cost budget is made outside the stack (Alibaba Cloud's console).",
        schema=_STRINGS,
    )
    external_defender: tuple[str, ...] = setting(
        (),
        key="externalDefender",
        description=(
            "Azure sites whose subscription's Defender for Containers plan is managed outside the stack "
            "(a central security team, Azure Policy)."
        ),
        schema=_STRINGS,
    )
    exemptions: tuple[tuple[str, str], ...] = ()  # (resource urn or name, reason)

    def exemption_for(self, urn: str, name: str) -> str | None:
        """The written reason this resource is exempt from the policy, if it is."""
        for resource, reason in self.exemptions:
            if resource in (urn, name):
                return reason
        return None


@dataclass(frozen=True)
class Setting:
    """One declared setting of ``PolicySettings``, as the other layers read it."""

    name: str
    key: str
    type: Any  # ``tuple[str, ...]`` or ``int``
    default: Any
    description: str
    schema: Mapping[str, Any]

    def parse(self, value: Any) -> Any:
        """The value as ``PolicySettings`` holds it, from Pulumi policy config (JSON numbers are floats)."""
        if self.type == tuple[str, ...]:
            return tuple(str(v) for v in value)
        return str(value) if self.type is str else int(value)


def _declared() -> tuple[Setting, ...]:
    hints = typing.get_type_hints(PolicySettings)
    declared = []
    for f in fields(PolicySettings):
        if _METADATA in f.metadata:
            meta: _Declared = f.metadata[_METADATA]
            declared.append(
                Setting(f.name, meta.key, hints[f.name], f.default, meta.description, meta.schema)
            )
    return tuple(declared)


SETTINGS: tuple[Setting, ...] = _declared()
SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def config_schema(keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The JSON schema a policy announces for the config keys it reads, exemptions always included."""
    schemas = {s.key: s.schema for s in SETTINGS} | {EXEMPTIONS_KEY: _EXEMPTIONS_SCHEMA}
    return {k: dict(schemas[k]) for k in (*keys, EXEMPTIONS_KEY)}


def settings_from(config: Mapping[str, Any]) -> PolicySettings:
    """Settings from one policy's config as the analyzer received it; absent keys keep their defaults."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        if value is None:
            continue
        if key == EXEMPTIONS_KEY:
            values["exemptions"] = tuple((str(e["resource"]), str(e["reason"])) for e in value)
        elif key in SETTINGS_BY_KEY:
            declared = SETTINGS_BY_KEY[key]
            values[declared.name] = declared.parse(value)
    return PolicySettings(**values)
