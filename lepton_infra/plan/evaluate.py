"""Run the policy pack on a plan in-process, with the semantics of the analyzer the Pulumi CLI drives.

``evaluate_plan`` calls the pack's ``pulumi_policy`` policy objects directly, the way pulumi_policy's
analyzer servicer does: inputs turned into wire values (every number a double), deserialised with
``deserialize_properties`` and wrapped in ``unknown_checking_proxy``; enforcement from the pack config,
``disabled`` skipped, ``remediate`` reported as ``mandatory``; a policy that reads a value unknown before
deployment becomes an advisory "can't run during preview" note, exactly as in a preview. Unlike the
servicer it deserialises each resource once, not once per policy, which is what makes a thousand objects
take seconds rather than tens of seconds.

``analyzer_driver.run_analyzer`` reaches the same pack over the CLI's own RPCs; the tests run both on the
same plans and require identical violations, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from lepton_infra.plan.exemptions import with_exemptions
from lepton_infra.plan.model import Plan, PlanResource, Violation
from lepton_infra.policies.config import PackConfig, load_config
from lepton_infra.policies.pack import PACK_NAME, to_pulumi_policy
from lepton_infra.policies.registry import all_policies
from lepton_infra.policies.rule import PolicyRule

# The version a Python PolicyPack reports in its own messages (the CLI shows PulumiPolicy.yaml's elsewhere).
PACK_VERSION = "0.0.1"


def _wire(value: Any) -> Any:
    """A value as it comes out of a protobuf Struct: every number a double (bools stay bools)."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _wrapped(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    props: Mapping[str, Any] = unknown_checking_proxy(deserialize_properties(_wire(dict(inputs))))
    return props


def _unknown_message(policy: str, error: UnknownValueError) -> str:
    # The servicer's wording, so a preview and an offline check read the same.
    pack = f"{PACK_NAME}@v{PACK_VERSION}"
    return f"can't run policy '{policy}' from policy pack '{pack}' during preview: {error.message}"


@dataclass(frozen=True)
class _Configured:
    rule: PolicyRule
    policy: Policy
    enforcement: str
    config: dict[str, Any] | None


def _configured(rules: Sequence[PolicyRule], config: PackConfig) -> list[_Configured]:
    pulumi_config = config.to_pulumi_config(rules, with_exemptions=False, validate=False)
    configured = []
    for rule in rules:
        entry = pulumi_config[rule.name]
        level = EnforcementLevel(entry["enforcementLevel"])
        if level is EnforcementLevel.DISABLED:
            continue
        if level is EnforcementLevel.REMEDIATE:  # a violation left after remediation blocks
            level = EnforcementLevel.MANDATORY
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        configured.append(_Configured(rule, to_pulumi_policy(rule), level.value, properties or None))
    return configured


class _Resources:
    """Each plan resource deserialised and wrapped once, shared by every policy that reads it."""

    def __init__(self, plan: Plan) -> None:
        self._by_urn = {r.urn: r for r in plan.resources}
        self._props: dict[str, Mapping[str, Any]] = {}

    def props(self, resource: PlanResource) -> Mapping[str, Any]:
        if resource.urn not in self._props:
            self._props[resource.urn] = _wrapped(resource.inputs)
        return self._props[resource.urn]

    def provider(self, resource: PlanResource) -> PolicyProviderResource | None:
        # A provider reference is "<provider urn>::<provider id>".
        provider = self._by_urn.get((resource.provider or "").rsplit("::", 1)[0])
        if provider is None:
            return None
        return PolicyProviderResource(provider.type, self.props(provider), provider.urn, provider.name)

    @staticmethod
    def options(resource: PlanResource) -> PolicyResourceOptions:
        return PolicyResourceOptions(
            resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], resource.parent or None
        )

    def stack(self, resources: Sequence[PlanResource]) -> list[PolicyResource]:
        """Resources linked to their parents and dependencies, as ``AnalyzeStack`` builds them."""
        built = {
            r.urn: PolicyResource(
                r.type, self.props(r), r.urn, r.name, self.options(r), self.provider(r), None, [], {}
            )
            for r in resources
        }
        for r in resources:
            resource = built[r.urn]
            resource.parent = built.get(r.parent or "")
            resource.dependencies = [built[d] for d in r.dependencies if d in built]
            resource.property_dependencies = {
                k: [built[d] for d in v if d in built] for k, v in r.property_dependencies.items()
            }
        return list(built.values())


def _run(policy: _Configured, args: Any, urn: str | None) -> list[Violation]:
    found: list[Violation] = []

    def report(message: str, reported_urn: str | None = None) -> None:
        found.append(_violation(policy, reported_urn or urn, message or policy.rule.description))

    try:
        policy.policy.validate(args, report)  # type: ignore[attr-defined]
    except UnknownValueError as e:
        found.append(
            replace(_violation(policy, urn, _unknown_message(policy.rule.name, e)), enforcement="advisory")
        )
    return found


def _violation(policy: _Configured, urn: str | None, message: str) -> Violation:
    return Violation(
        policy=policy.rule.name,
        pack=PACK_NAME,
        enforcement=policy.enforcement,
        severity=policy.rule.severity,
        urn=urn,
        message=message,
    )


def evaluate_plan(
    plan: Plan, rules: Sequence[PolicyRule], config: PackConfig | None = None
) -> list[Violation]:
    """Every resource policy on each custom resource, then every stack policy; exemptions applied last."""
    config = config or PackConfig()
    configured = _configured(rules, config)
    resource_policies = [c for c in configured if isinstance(c.policy, ResourceValidationPolicy)]
    by_type: dict[str, list[_Configured]] = {}
    resources = _Resources(plan)
    found: list[Violation] = []
    for r in plan.resources:
        if not r.custom:
            continue
        if r.type not in by_type:
            by_type[r.type] = [c for c in resource_policies if c.rule.applies_to(r.type)]
        for policy in by_type[r.type]:
            args = ResourceValidationArgs(
                r.type,
                resources.props(r),
                r.urn,
                r.name,
                resources.options(r),
                resources.provider(r),
                policy.config,
            )
            found.extend(_run(policy, args, r.urn))
    stack = resources.stack(plan.resources)
    for policy in configured:
        if policy not in resource_policies:
            found.extend(_run(policy, StackValidationArgs(stack, policy.config), None))
    return with_exemptions(found, config)


def evaluate(plan: Plan, config: PackConfig | Path | None = None) -> list[Violation]:
    """Every policy of the pack on every resource of ``plan``; exempted results carry their reason.

    The config may name the operability pack's policies too (one file serves both packs); a name
    neither pack has is refused.
    """
    from lepton_infra.policies.operability.registry import all_policies as operability_policies

    if isinstance(config, Path):
        config = load_config(config)
    if config is not None:
        config.check_names((*all_policies(), *operability_policies()))
    return evaluate_plan(plan, all_policies(), config)
