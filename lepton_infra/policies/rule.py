"""A policy's metadata next to its rule: the decorators every policy module uses, and the framework controls.

A rule is a plain function over the neutral view, so it runs the same way offline (``lepton-infra
check`` and ``plan``, which never load pulumi_policy or gRPC) and under ``pulumi preview`` (``pack.py``
wraps each rule as a ``pulumi_policy`` policy):

- ``resource_policy`` rules take a ``Subject`` (one resource) and the settings, and yield a message per
  problem, or an ``Undecided`` where a value they need is unknown until deployment;
- ``view_policy`` rules take the whole ``view.Stack`` and the settings, and yield ``view.Finding``s: the
  rules that join resources (a bucket and its encryption, a Deployment and its disruption budget).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from lepton_infra.policies.settings import SETTINGS_BY_KEY, PolicySettings
from lepton_infra.policies.values import UnknownRead, strict
from lepton_infra.policies.view import Finding, Resource, Stack

T = TypeVar("T")
Severity = Literal["critical", "high", "medium", "low"]
Enforcement = Literal["mandatory", "advisory", "remediate", "disabled"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low")

# The frameworks a policy cites, by the names reports and the README's coverage table use.
CIS_EKS = "CIS Amazon EKS Benchmark v1.7.0"
CIS_AKS = "CIS Azure Kubernetes Service Benchmark v1.7.0"
CIS_ACK = "CIS Alibaba Cloud Container Service for Kubernetes Benchmark v1.0.0"
PSS_BASELINE = "Kubernetes Pod Security Standards (baseline)"
PSS_RESTRICTED = "Kubernetes Pod Security Standards (restricted)"
CHECKOV = "checkov"
FRAMEWORKS = (CIS_EKS, CIS_AKS, CIS_ACK, PSS_BASELINE, PSS_RESTRICTED, CHECKOV)


@dataclass(frozen=True)
class Control:
    """One control of an external framework the policy implements (CIS item, PSS control, checkov ID)."""

    framework: str
    id: str

    def __str__(self) -> str:
        return f"{self.framework}: {self.id}"


def cis_eks(*items: str) -> tuple[Control, ...]:
    return tuple(Control(CIS_EKS, i) for i in items)


def cis_aks(*items: str) -> tuple[Control, ...]:
    return tuple(Control(CIS_AKS, i) for i in items)


def cis_ack(*items: str) -> tuple[Control, ...]:
    return tuple(Control(CIS_ACK, i) for i in items)


def pss_baseline(*controls: str) -> tuple[Control, ...]:
    """Controls of the PSS baseline profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/)."""
    return tuple(Control(PSS_BASELINE, c) for c in controls)


def pss(*controls: str) -> tuple[Control, ...]:
    """Controls the PSS restricted profile adds to the baseline (same page)."""
    return tuple(Control(PSS_RESTRICTED, c) for c in controls)


def checkov(*ids: str) -> tuple[Control, ...]:
    return tuple(Control(CHECKOV, i) for i in ids)


class Subject:
    """What a resource rule sees of one resource: its inputs, its provider's inputs and its options.

    Plain values only (the neutral view's): a value the cloud computes later is the engine's unknown
    sentinel (``values.is_unknown``), and each rule decides per field what that means. Facts derived
    from the inputs (a workload's pod specs, say) are built once per resource and shared by every rule
    through ``memo``, so a pack costs one pass over each resource, not one per rule.
    """

    __slots__ = ("_memo", "name", "props", "protect", "provider", "type", "urn")

    def __init__(  # noqa: PLR0917 - the view's fields, in its order
        self,
        type: str,
        name: str,
        urn: str,
        props: Mapping[str, Any],
        provider: Mapping[str, Any] | None = None,
        protect: bool = False,
    ) -> None:
        self.type = type
        self.name = name
        self.urn = urn
        self.props = props
        self.provider: Mapping[str, Any] = provider or {}
        self.protect = protect
        # Made on first use: most resources are subjects of no rule that derives a fact.
        self._memo: dict[str, Any] | None = None

    @classmethod
    def of(cls, resource: Resource, provider: Resource | None = None) -> Subject:
        return cls(
            resource.type,
            resource.name,
            resource.urn,
            resource.props,
            provider.props if provider is not None else None,
            bool(resource.option("protect")),
        )

    def strict(self) -> Subject:
        """This resource with inputs read through ``values.strict``: reading an unknown raises."""
        return Subject(
            self.type, self.name, self.urn, strict(self.props), strict(self.provider), self.protect
        )

    def memo(self, key: str, build: Callable[[Subject], T]) -> T:
        """A fact derived from this resource, built on first use and shared by every rule after."""
        if self._memo is None:
            self._memo = {}
        if key not in self._memo:
            self._memo[key] = build(self)
        found: T = self._memo[key]
        return found


def subject_of(stack: Stack, resource: Resource) -> Subject:
    """The stack's one ``Subject`` for ``resource``: view rules share the facts resource rules derived."""
    subjects: dict[str, Subject] = stack.memo("subjects", lambda _: {})
    found = subjects.get(resource.urn)
    if found is None:
        found = subjects[resource.urn] = Subject.of(resource, stack.provider_of(resource))
    return found


@dataclass(frozen=True, slots=True)
class Undecided:
    """A question a rule cannot answer yet: the value it needs is unknown until the cloud computes it.

    Reported as Pulumi's analyzer reports a policy that reads an unknown value: an advisory
    "can't run policy ... during preview: <reason>", never as a pass. Findings the rule did decide
    (on another container, say) keep their own enforcement.
    """

    reason: str


# What a resource rule yields: a message per problem, or an ``Undecided`` question.
Outcome = str | Undecided
ResourceCheck = Callable[[Subject, PolicySettings], Iterable[Outcome]]
ViewCheck = Callable[[Stack, PolicySettings], Iterable[Finding]]


@dataclass(frozen=True)
class PolicyRule:
    """A rule and its metadata: what ``resource_policy`` and ``view_policy`` declare."""

    name: str
    description: str
    severity: Severity
    remediation: str
    controls: tuple[Control, ...]
    config_keys: tuple[str, ...]
    # Types the rule reads: a set of type tokens, a predicate over them (every Kubernetes object that
    # may carry a pod), or None for rules that look at every resource (governance).
    resource_types: frozenset[str] | Callable[[str], bool] | None
    check: ResourceCheck | None = None
    # A stack rule over the neutral view (``view.Stack``).
    view_check: ViewCheck | None = None
    # The family where the name's prefix does not tell it (the operability pack's rules declare theirs).
    family_name: str | None = None
    # How a resource rule meets unknown values: "raise" reads inputs through ``values.strict`` (a read of
    # an unknown ends the rule as undecided on that resource, as pulumi_policy's proxy does); "values"
    # hands it the sentinels, for rules that decide per part (each container of a pod).
    unknowns: Literal["raise", "values"] = "raise"
    # How a stack rule meets secrets: "values" hands it the placeholder, for rules that judge a secret
    # themselves (a secret policy document is a finding); "raise" ends the rule as undecided when it reads
    # one (``Stack.secrets_strict``), for rules that would read a secret as absent and judge that.
    secrets: Literal["raise", "values"] = "values"

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
        types = self.resource_types
        if types is None:
            return True
        if isinstance(types, frozenset):
            return resource_type in types
        return types(resource_type)

    def controls_of(self, framework: str) -> list[str]:
        return [c.id for c in self.controls if c.framework == framework]


def _rule(name: str, config: Iterable[str], **fields: Any) -> PolicyRule:
    config_keys = tuple(config)
    unknown = [k for k in config_keys if k not in SETTINGS_BY_KEY]
    if unknown:
        raise ValueError(f"policy {name} declares unknown config keys {unknown}")
    return PolicyRule(name=name, config_keys=config_keys, **fields)


def resource_policy(
    *,
    name: str,
    types: Iterable[str] | Callable[[str], bool] | None,
    severity: Severity,
    description: str,
    remediation: str,
    controls: Iterable[Control] = (),
    config: Iterable[str] = (),
    unknowns: Literal["raise", "values"] = "raise",
) -> Callable[[ResourceCheck], PolicyRule]:
    """Declare a rule run on each resource of ``types`` (every resource when None)."""
    resource_types = types if types is None or callable(types) else frozenset(types)
    metadata = {"description": description, "severity": severity, "remediation": remediation}

    def wrap(check: ResourceCheck) -> PolicyRule:
        return _rule(
            name,
            config,
            controls=tuple(controls),
            resource_types=resource_types,
            check=check,
            unknowns=unknowns,
            **metadata,
        )

    return wrap


def view_policy(
    *,
    name: str,
    severity: Severity,
    description: str,
    remediation: str,
    family: str | None = None,
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


# The version a Python PolicyPack reports in its messages (pulumi_policy's default), so the offline
# runner words a "can't run during preview" note exactly as the analyzer does.
PACK_VERSION = "0.0.1"


def unknown_note(policy: str, pack: str, reasons: list[str]) -> str:
    """The analyzer's wording for a policy that met values unknown during preview."""
    return (
        f"can't run policy '{policy}' from policy pack '{pack}@v{PACK_VERSION}' during preview: "
        + "; ".join(reasons)
    )


def _unreadable(error: Exception) -> str:
    # A rule met a shape it does not expect; it says so instead of passing the resource (or crashing).
    return f"cannot read the resource: {type(error).__name__}: {error}"


def resource_outcomes(
    rule: PolicyRule, subject: Subject, settings: PolicySettings
) -> tuple[list[str], list[str]]:
    """A resource rule's messages and its undecided reasons, the same for every runner."""
    assert rule.check is not None
    messages: list[str] = []
    undecided: list[str] = []
    if rule.unknowns == "raise":
        subject = subject.memo("strict", Subject.strict)
    try:
        for outcome in rule.check(subject, settings):
            if isinstance(outcome, Undecided):
                undecided.append(outcome.reason)
            else:
                messages.append(outcome)
    except UnknownRead as unknown:
        undecided.append(unknown.message)
    except Exception as error:
        messages.append(_unreadable(error))
    return messages, undecided


def view_outcomes(
    rule: PolicyRule, stack: Stack, settings: PolicySettings
) -> tuple[list[Finding], list[str]]:
    """A view rule's findings and its undecided messages, the same for every runner."""
    assert rule.view_check is not None
    findings: list[Finding] = []
    undecided: list[str] = []
    if rule.secrets == "raise":
        stack = stack.secrets_strict()
    try:
        for finding in rule.view_check(stack, settings):
            if finding.undecided:
                undecided.append(finding.message)
            else:
                findings.append(finding)
    except UnknownRead as unknown:  # a stack rule read a value no plan shows yet (``values.strict``)
        undecided.append(unknown.message)
    except Exception as error:
        findings.append(Finding(_unreadable(error), None))
    return findings, undecided
