"""Run a pack's rules on a plan in-process, with the semantics of the analyzer the Pulumi CLI drives,
and without pulumi_policy or gRPC (``lepton-infra check`` and ``plan`` load neither).

The rules are plain functions over the neutral view (``policies.view``), which the plan is converted to
once and every rule shares: resource rules run on each custom resource of the types they read, view
rules once on the whole stack. The semantics are pulumi_policy's analyzer's: each rule's enforcement from
the pack config (``disabled`` skipped, ``remediate`` reported as ``mandatory``), its settings from that
config; a rule's undecided questions (values unknown during preview) become one advisory "can't run
policy ... during preview" note per rule and resource, its decided findings keep their enforcement;
exemptions are applied last with their written reason.

``policies.pack`` wraps the same functions for the analyzer, and ``analyzer_driver.run_analyzer`` reaches
that wrapper over the CLI's own RPCs; the tests run both on the same plans and require identical
violations, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lepton_infra.plan.exemptions import with_exemptions
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.plan.view import stack_view
from lepton_infra.policies.config import PackConfig, load_config
from lepton_infra.policies.rule import (
    PolicyRule,
    resource_outcomes,
    subject_of,
    unknown_note,
    view_outcomes,
)
from lepton_infra.policies.settings import PolicySettings, settings_from

SECURITY = "lepton-security"


@dataclass(frozen=True)
class _Configured:
    rule: PolicyRule
    enforcement: str
    settings: PolicySettings


def _configured(rules: Sequence[PolicyRule], config: PackConfig) -> list[_Configured]:
    entries = config.to_pulumi_config(rules, with_exemptions=False, validate=False)
    configured = []
    for rule in rules:
        entry = entries[rule.name]
        level = str(entry["enforcementLevel"])
        if level == "disabled":
            continue
        settings = settings_from({k: v for k, v in entry.items() if k != "enforcementLevel"})
        # A violation left after remediation blocks, as the analyzer reports it.
        configured.append(_Configured(rule, "mandatory" if level == "remediate" else level, settings))
    return configured


def evaluate_rules(
    plan: Plan, rules: Sequence[PolicyRule], pack: str, config: PackConfig | None = None
) -> list[Violation]:
    """Every rule of ``pack`` on ``plan``: resource rules per custom resource, then view rules."""
    config = config or PackConfig()
    configured = _configured(rules, config)
    stack = stack_view(plan)
    found: list[Violation] = []

    def violation(c: _Configured, urn: str | None, message: str, enforcement: str | None = None) -> Violation:
        return Violation(c.rule.name, pack, enforcement or c.enforcement, c.rule.severity, urn, message)

    resource_rules = [c for c in configured if c.rule.check is not None]
    by_type: dict[str, list[_Configured]] = {}
    for resource in stack.resources:
        if not resource.custom:
            continue
        applicable = by_type.get(resource.type)
        if applicable is None:
            applicable = by_type[resource.type] = [
                c for c in resource_rules if c.rule.applies_to(resource.type)
            ]
        if not applicable:
            continue
        subject = subject_of(stack, resource)
        for c in applicable:
            messages, undecided = resource_outcomes(c.rule, subject, c.settings)
            found.extend(violation(c, resource.urn, m or c.rule.description) for m in messages)
            if undecided:
                note = unknown_note(c.rule.name, pack, undecided)
                found.append(violation(c, resource.urn, note, "advisory"))
    for c in configured:
        if c.rule.view_check is None:
            continue
        findings, undecided = view_outcomes(c.rule, stack, c.settings)
        found.extend(violation(c, f.urn, f.message or c.rule.description) for f in findings)
        if undecided:
            found.append(violation(c, None, unknown_note(c.rule.name, pack, undecided), "advisory"))
    return with_exemptions(found, config)


def evaluate_plan(
    plan: Plan, rules: Sequence[PolicyRule], config: PackConfig | None = None
) -> list[Violation]:
    """The security pack's ``rules`` on ``plan`` (the name the tests and the bench call)."""
    return evaluate_rules(plan, rules, SECURITY, config)


def evaluate(plan: Plan, config: PackConfig | Path | None = None) -> list[Violation]:
    """Every policy of the security pack on every resource of ``plan``; exempted results carry their reason.

    The config may name the operability pack's policies too (one file serves both packs); a name
    neither pack has is refused.
    """
    from lepton_infra.policies.operability.registry import all_policies as operability_policies
    from lepton_infra.policies.registry import all_policies

    if isinstance(config, Path):
        config = load_config(config)
    if config is not None:
        config.check_names((*all_policies(), *operability_policies()))
    return evaluate_plan(plan, all_policies(), config)
