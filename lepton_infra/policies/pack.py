"""Turn our policy rules into ``pulumi_policy`` policies: the objects the analyzer (CLI or offline) runs.

View rules (``rule.view_policy``) are wrapped as stack policies that first turn the analyzer's
``PolicyResource`` objects into the neutral view (``view.Stack``): the only place that conversion lives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from lepton_infra.policies.config import load_config
from lepton_infra.policies.rule import PolicyRule, Subject
from lepton_infra.policies.settings import PolicySettings, config_schema, settings_from
from lepton_infra.policies.view import Resource, Stack

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


def _plain(value: Any) -> Any:
    """A value out of pulumi_policy's unknown-checking proxy, unknown sentinels kept as they are.

    Reading a proxy raises on unknowns; the neutral view leaves that judgement to each rule, so the
    proxies' targets are read instead (pulumi_policy exposes them under the key ``__target``).
    """
    if isinstance(value, Mapping | Sequence) and not isinstance(value, str):
        try:
            target = cast(Any, value)["__target"]
        except (KeyError, TypeError, IndexError):
            target = value
        if isinstance(target, Mapping):
            return {k: _plain(v) for k, v in target.items()}
        if isinstance(target, Sequence) and not isinstance(target, str):
            return [_plain(v) for v in target]
    return value


def _options(resource: PolicyResource) -> dict[str, Any]:
    opts = resource.opts
    timeouts = opts.custom_timeouts
    options: dict[str, Any] = {"protect": bool(opts.protect)}
    if opts.ignore_changes:
        options["ignoreChanges"] = list(opts.ignore_changes)
    if opts.delete_before_replace:
        options["deleteBeforeReplace"] = True
    if opts.aliases:
        options["aliases"] = [{"urn": a} for a in opts.aliases]
    if timeouts is not None and any(
        (timeouts.create_seconds, timeouts.update_seconds, timeouts.delete_seconds)
    ):
        options["customTimeouts"] = {
            k: f"{v:g}s"
            for k, v in (
                ("create", timeouts.create_seconds),
                ("update", timeouts.update_seconds),
                ("delete", timeouts.delete_seconds),
            )
            if v
        }
    return options


def view_of(resources: Sequence[PolicyResource]) -> Stack:
    """The neutral view of the resources ``AnalyzeStack`` hands a stack policy."""
    return Stack(
        Resource(
            type=r.resource_type,
            name=r.name,
            urn=r.urn,
            props=_plain(r.props),
            parent=r.parent.urn if r.parent is not None else None,
            provider=r.provider.urn if r.provider is not None else None,
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()},
            options=_options(r),
        )
        for r in resources
    )


def _stack_findings(rule: PolicyRule, resources: Sequence[PolicyResource], settings: PolicySettings) -> Any:
    if rule.view_check is not None:
        return ((f.message, f.urn) for f in rule.view_check(view_of(resources), settings))
    assert rule.stack_check is not None
    return rule.stack_check(resources, settings)


def _stack_validation(rule: PolicyRule) -> Any:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = settings_from(args.get_config())
        for message, urn in _stack_findings(rule, args.resources, settings):
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


def serve_pack(
    name: str, rules: Sequence[PolicyRule], every_rule: Iterable[PolicyRule], description: str
) -> None:
    """Start the analyzer the Pulumi CLI talks to (blocks): what each pack's ``__main__`` calls.

    Its initial config comes from the file ``LEPTON_POLICY_CONFIG`` names, the one ``lepton-infra
    --policy-config`` reads. One file configures both packs, so its policy names are checked against
    ``every_rule`` (both packs') and the pack announces the entries of its own ``rules``.
    """
    config_file = os.environ.get("LEPTON_POLICY_CONFIG")
    config = load_config(Path(config_file)) if config_file else None
    if config is not None:
        config.check_names(every_rule, source=str(config_file))
    PolicyPack(
        name=name,
        policies=to_pulumi_policies(rules),
        initial_config=config.to_pulumi_config(rules, validate=False) if config else None,  # type: ignore[arg-type]
        description=description,
    )
