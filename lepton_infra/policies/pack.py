"""Turn our policy specs into ``pulumi_policy`` policies: the objects the analyzer (CLI or offline) runs."""

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

from lepton_infra.policies.settings import CONFIG_KEYS, settings_from
from lepton_infra.policies.spec import PolicySpec, Subject

PACK_NAME = "lepton-security"


def _resource_validation(spec: PolicySpec) -> Any:
    check = spec.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        # The pack runs every policy on every resource; skip cheaply what this rule does not read.
        if not spec.applies_to(args.resource_type):
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


def _stack_validation(spec: PolicySpec) -> Any:
    check = spec.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = settings_from(args.get_config())
        for message, urn in check(args.resources, settings):
            name = urn.rsplit("::", 1)[-1] if urn else ""
            if urn and settings.exemption_for(urn, name) is not None:
                continue
            report(message, urn)

    return validate


def _common(spec: PolicySpec) -> dict[str, Any]:
    first = spec.controls[0] if spec.controls else None
    keys = (*spec.config_keys, "exemptions")
    return {
        "name": spec.name,
        "description": spec.description,
        "enforcement_level": EnforcementLevel(spec.enforcement),
        "severity": Severity(spec.severity),
        "remediation_steps": spec.remediation,
        "framework": PolicyComplianceFramework(name=first.framework, reference=first.id) if first else None,
        "tags": [spec.family, *(str(c) for c in spec.controls)],
        "config_schema": PolicyConfigSchema(properties={k: CONFIG_KEYS[k][1] for k in keys}),
    }


def to_pulumi_policy(spec: PolicySpec) -> Policy:
    if spec.kind == "resource":
        return ResourceValidationPolicy(validate=_resource_validation(spec), **_common(spec))
    return StackValidationPolicy(validate=_stack_validation(spec), **_common(spec))


def to_pulumi_policies(specs: Iterable[PolicySpec]) -> list[Policy]:
    return [to_pulumi_policy(s) for s in specs]
