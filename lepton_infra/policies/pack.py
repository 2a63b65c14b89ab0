"""Turn our policy rules into ``pulumi_policy`` policies: the objects the analyzer (CLI or offline) runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from lepton_infra.policies.rule import PolicyRule, Subject
from lepton_infra.policies.settings import config_schema, settings_from

PACK_NAME = "lepton-security"


def _resource_validation(rule: PolicyRule) -> Any:
    check = rule.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        # The pack runs every policy on every resource; skip cheaply what this rule does not read.
        if not rule.applies_to(args.resource_type):
            return
        settings = settings_from(args.get_config())
        if settings.exemption_for(args.urn, args.name) is not None:
            return
        subject = Subject(
            type=args.resource_type,
            name=args.name,
            urn=args.urn,
            props=args.props,
            provider=args.provider.props if args.provider is not None else {},
            protect=bool(args.opts.protect),
            settings=settings,
        )
        for message in check(subject):
            report(message, None)

    return validate


def _stack_validation(rule: PolicyRule) -> Any:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = settings_from(args.get_config())
        for message, urn in check(args.resources, settings):
            name = urn.rsplit("::", 1)[-1] if urn else ""
            if urn and settings.exemption_for(urn, name) is not None:
                continue
            report(message, urn)

    return validate


def _common(rule: PolicyRule) -> dict[str, Any]:
    first = rule.controls[0] if rule.controls else None
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.enforcement),
        "severity": Severity(rule.severity),
        "remediation_steps": rule.remediation,
        "framework": PolicyComplianceFramework(name=first.framework, reference=first.id) if first else None,
        "tags": [rule.family, *(str(c) for c in rule.controls)],
        "config_schema": PolicyConfigSchema(properties=config_schema(rule.config_keys)),
    }


def to_pulumi_policy(rule: PolicyRule) -> Policy:
    if rule.kind == "resource":
        return ResourceValidationPolicy(validate=_resource_validation(rule), **_common(rule))
    return StackValidationPolicy(validate=_stack_validation(rule), **_common(rule))


def to_pulumi_policies(rules: Iterable[PolicyRule]) -> list[Policy]:
    return [to_pulumi_policy(r) for r in rules]
