"""Wrap our rules as ``pulumi_policy`` policies: what the Pulumi CLI's analyzer runs under ``pulumi preview``.

The rules are plain functions over the neutral view; this module is the only one that loads
pulumi_policy. Resource rules become resource policies that read the analyzer's inputs as plain values;
view rules become stack policies that first turn the analyzer's ``PolicyResource`` objects into the
neutral view (``view.Stack``): the only place that conversion lives. A rule's undecided questions become
pulumi_policy's advisory "can't run during preview" note after its decided findings are reported, which
is what the offline runner (``plan.evaluate``) reports too.
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
from pulumi_policy.proxy import UnknownValueError

from lepton_infra.policies.config import load_config
from lepton_infra.policies.rule import PolicyRule, Subject, resource_outcomes, view_outcomes
from lepton_infra.policies.settings import config_schema, settings_from
from lepton_infra.policies.view import Resource, Stack


class _Undecided(UnknownValueError):
    """How a rule's undecided questions reach the analyzer: as the error pulumi_policy turns into its
    advisory "can't run policy ... during preview" note, raised after every decided finding is reported."""

    def __init__(self, reasons: list[str]) -> None:
        Exception.__init__(self, "; ".join(reasons))
        self.message = "; ".join(reasons)


def _resource_validation(rule: PolicyRule) -> Any:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        # The pack runs every policy on every resource; skip cheaply what this rule does not read.
        if not rule.applies_to(args.resource_type):
            return
        settings = settings_from(args.get_config())
        if settings.exemption_for(args.urn, args.name) is not None:
            return
        subject = Subject(
            args.resource_type,
            args.name,
            args.urn,
            _plain(args.props),
            _plain(args.provider.props) if args.provider is not None else None,
            bool(args.opts.protect),
        )
        messages, undecided = resource_outcomes(rule, subject, settings)
        for message in messages:
            report(message, None)
        if undecided:
            raise _Undecided(undecided)

    return validate


def _plain(value: Any) -> Any:
    """A value out of pulumi_policy's unknown-checking proxy, unknown sentinels kept as they are.

    Reading a proxy raises on unknowns; the neutral view leaves that judgement to each rule, so the
    proxies' targets are read instead (pulumi_policy exposes them under the key ``__target``). The wire
    carries every number as a double: whole ones are ints again, as a saved plan holds them, so a rule's
    message reads the same under the analyzer and offline.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
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


def _stack_validation(rule: PolicyRule) -> Any:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = settings_from(args.get_config())
        findings, undecided = view_outcomes(rule, view_of(args.resources), settings)
        for finding in findings:
            name = finding.urn.rsplit("::", 1)[-1] if finding.urn else ""
            if finding.urn and settings.exemption_for(finding.urn, name) is not None:
                continue
            report(finding.message, finding.urn)
        if undecided:
            raise _Undecided(undecided)

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
