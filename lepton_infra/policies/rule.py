"""A policy's metadata next to its rule: the decorators every policy module uses, and the framework controls.

A rule is a plain function. Resource rules take a ``Subject`` and yield one message per problem; stack
rules take every resource of the stack and yield ``(message, urn)``; view rules (``view_policy``) take the
neutral ``view.Stack`` and yield ``view.Finding``s. ``pack.py`` turns them into ``pulumi_policy``
policies, so the same function runs under the Pulumi CLI and offline. This module imports pulumi_policy
only for type checking: a pack of view rules is declared, listed and checked offline without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from lepton_infra.policies.settings import SETTINGS_BY_KEY, PolicySettings
from lepton_infra.policies.view import Finding, Stack

if TYPE_CHECKING:
    from pulumi_policy import PolicyResource

Severity = Literal["critical", "high", "medium", "low"]
Enforcement = Literal["mandatory", "advisory", "remediate", "disabled"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Control:
    """One control of an external framework the policy implements (CIS item, PSS control, checkov ID)."""

    framework: str
    id: str

    def __str__(self) -> str:
        return f"{self.framework}: {self.id}"


def cis_eks(item: str) -> Control:
    return Control("CIS Amazon EKS Benchmark v1.7.0", item)


def cis_aks(item: str) -> Control:
    return Control("CIS Azure Kubernetes Service Benchmark v1.7.0", item)


def cis_ack(item: str) -> Control:
    return Control("CIS Alibaba Cloud Container Service for Kubernetes Benchmark v1.0.0", item)


def pss(control: str) -> Control:
    return Control("Kubernetes Pod Security Standards (restricted)", control)


def checkov(*ids: str) -> tuple[Control, ...]:
    return tuple(Control("checkov", i) for i in ids)


@dataclass(frozen=True)
class Subject:
    """What a resource rule sees: its inputs, its provider's inputs, its options and the settings."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    provider: Mapping[str, Any]
    protect: bool
    settings: PolicySettings


ResourceCheck = Callable[[Subject], Iterable[str]]
StackCheck = Callable[[Sequence["PolicyResource"], PolicySettings], Iterable[tuple[str, str | None]]]
ViewCheck = Callable[[Stack, PolicySettings], Iterable[Finding]]


@dataclass(frozen=True)
class PolicyRule:
    """A rule and its metadata: what ``resource_policy`` and ``stack_policy`` declare."""

    name: str
    description: str
    severity: Severity
    remediation: str
    controls: tuple[Control, ...]
    config_keys: tuple[str, ...]
    # Types the rule reads; None for rules that look at every resource (governance).
    resource_types: frozenset[str] | None
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # A stack rule over the neutral view (``view.Stack``): runs offline without pulumi_policy.
    view_check: ViewCheck | None = None
    # The family where the name's prefix does not tell it (the operability pack's rules declare theirs).
    family_name: str | None = None

    @property
    def kind(self) -> Literal["resource", "stack"]:
        return "resource" if self.check is not None else "stack"

    @property
    def family(self) -> str:
        if self.family_name is not None:
            return self.family_name
        prefix = self.name.split("-", 1)[0]
        return {"kubernetes": "kubernetes", "governance": "governance"}.get(prefix, "cloud-security")

    @property
    def enforcement(self) -> Enforcement:
        # The rule: critical and high block a deployment by default, the rest advise.
        return "mandatory" if self.severity in ("critical", "high") else "advisory"

    def applies_to(self, resource_type: str) -> bool:
        return self.resource_types is None or resource_type in self.resource_types


def _rule(name: str, config: Iterable[str], **fields: Any) -> PolicyRule:
    config_keys = tuple(config)
    unknown = [k for k in config_keys if k not in SETTINGS_BY_KEY]
    if unknown:
        raise ValueError(f"policy {name} declares unknown config keys {unknown}")
    return PolicyRule(name=name, config_keys=config_keys, **fields)


def resource_policy(
    *,
    name: str,
    types: Iterable[str] | None,
    severity: Severity,
    description: str,
    remediation: str,
    controls: Iterable[Control] = (),
    config: Iterable[str] = (),
) -> Callable[[ResourceCheck], PolicyRule]:
    """Declare a rule run on each resource of ``types`` (every resource when None)."""
    resource_types = None if types is None else frozenset(types)
    metadata = {"description": description, "severity": severity, "remediation": remediation}

    def wrap(check: ResourceCheck) -> PolicyRule:
        return _rule(
            name, config, controls=tuple(controls), resource_types=resource_types, check=check, **metadata
        )

    return wrap


def stack_policy(
    *,
    name: str,
    severity: Severity,
    description: str,
    remediation: str,
    controls: Iterable[Control] = (),
    config: Iterable[str] = (),
) -> Callable[[StackCheck], PolicyRule]:
    """Declare a rule run once on all resources of the stack (to join resources that belong together)."""
    metadata = {"description": description, "severity": severity, "remediation": remediation}

    def wrap(check: StackCheck) -> PolicyRule:
        return _rule(
            name, config, controls=tuple(controls), resource_types=None, stack_check=check, **metadata
        )

    return wrap


def view_policy(
    *,
    name: str,
    family: str,
    severity: Severity,
    description: str,
    remediation: str,
    controls: Iterable[Control] = (),
    config: Iterable[str] = (),
) -> Callable[[ViewCheck], PolicyRule]:
    """Declare a rule run once on the neutral view of the whole stack (``view.Stack``)."""
    metadata = {"description": description, "severity": severity, "remediation": remediation}

    def wrap(check: ViewCheck) -> PolicyRule:
        return _rule(
            name,
            config,
            controls=tuple(controls),
            resource_types=None,
            view_check=check,
            family_name=family,
            **metadata,
        )

    return wrap


def collect(modules: Iterable[Any]) -> tuple[PolicyRule, ...]:
    """Every rule the modules declare (their ``POLICIES``), refusing two rules of one name."""
    rules = tuple(rule for module in modules for rule in module.POLICIES)
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique: {duplicates}")
    return rules
