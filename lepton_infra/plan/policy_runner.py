"""Run the policy pack on a plan offline, with the semantics of the analyzer the Pulumi CLI drives.

Two ways in, one result:

- ``evaluate_plan`` calls the pack's ``pulumi_policy`` policy objects directly, the way pulumi_policy's
  analyzer servicer does: inputs turned into wire values (every number a double), deserialised with
  ``deserialize_properties`` and wrapped in ``unknown_checking_proxy``; enforcement from the pack config,
  ``disabled`` skipped, ``remediate`` reported as ``mandatory``; a policy that reads a value unknown
  before deployment becomes an advisory "can't run during preview" note, exactly as in a preview. Unlike
  the servicer it deserialises each resource once, not once per policy, which is what makes a thousand
  objects take seconds rather than tens of seconds.
- ``run_analyzer`` sends the CLI's own RPCs (``Configure``, ``Analyze`` per resource, ``AnalyzeStack``) to
  any analyzer: the pack started as its own process and reached over loopback gRPC, as the CLI does.
  The tests run both on the same plans and require identical violations, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pulumi.runtime import proto
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

from lepton_infra.plan.model import Plan, PlanResource, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.pack import PACK_NAME, to_pulumi_policy
from lepton_infra.policies.rule import PolicyRule as PolicySpec

# The version a Python PolicyPack reports in its own messages (the CLI shows PulumiPolicy.yaml's elsewhere).
PACK_VERSION = "0.0.1"
_ENFORCEMENT = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
_SEVERITY = {
    proto.POLICY_SEVERITY_LOW: "low",
    proto.POLICY_SEVERITY_MEDIUM: "medium",
    proto.POLICY_SEVERITY_HIGH: "high",
    proto.POLICY_SEVERITY_CRITICAL: "critical",
}


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
    spec: PolicySpec
    policy: Policy
    enforcement: str
    config: dict[str, Any] | None


def _configured(specs: Sequence[PolicySpec], config: PackConfig) -> list[_Configured]:
    pulumi_config = config.to_pulumi_config(specs, with_exemptions=False)
    configured = []
    for spec in specs:
        entry = pulumi_config[spec.name]
        level = EnforcementLevel(entry["enforcementLevel"])
        if level is EnforcementLevel.DISABLED:
            continue
        if level is EnforcementLevel.REMEDIATE:  # a violation left after remediation blocks
            level = EnforcementLevel.MANDATORY
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        configured.append(_Configured(spec, to_pulumi_policy(spec), level.value, properties or None))
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
        found.append(_violation(policy, reported_urn or urn, message or policy.spec.description))

    try:
        policy.policy.validate(args, report)  # type: ignore[attr-defined]
    except UnknownValueError as e:
        found.append(
            replace(_violation(policy, urn, _unknown_message(policy.spec.name, e)), enforcement="advisory")
        )
    return found


def _violation(policy: _Configured, urn: str | None, message: str) -> Violation:
    return Violation(
        policy=policy.spec.name,
        pack=PACK_NAME,
        enforcement=policy.enforcement,
        severity=policy.spec.severity,
        urn=urn,
        message=message,
    )


def evaluate_plan(
    plan: Plan, specs: Sequence[PolicySpec], config: PackConfig | None = None
) -> list[Violation]:
    """Every resource policy on each custom resource, then every stack policy; exemptions applied last."""
    config = config or PackConfig()
    configured = _configured(specs, config)
    resource_policies = [c for c in configured if isinstance(c.policy, ResourceValidationPolicy)]
    by_type: dict[str, list[_Configured]] = {}
    resources = _Resources(plan)
    found: list[Violation] = []
    for r in plan.resources:
        if not r.custom:
            continue
        if r.type not in by_type:
            by_type[r.type] = [c for c in resource_policies if c.spec.applies_to(r.type)]
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
    return [_exempt(v, config) for v in found]


def _exempt(violation: Violation, config: PackConfig) -> Violation:
    exemption = config.exemption_for(violation.policy, violation.urn)
    return violation if exemption is None else replace(violation, exemption=exemption.reason)


class Analyzer(Protocol):
    """The analyzer RPCs the CLI calls; a gRPC ``AnalyzerStub`` to a running pack fits."""

    def Configure(self, request: proto.ConfigureAnalyzerRequest, /) -> Any: ...
    def Analyze(self, request: proto.AnalyzeRequest, /) -> proto.AnalyzeResponse: ...
    def AnalyzeStack(self, request: proto.AnalyzeStackRequest, /) -> proto.AnalyzeResponse: ...


_M = TypeVar("_M", proto.AnalyzeRequest, proto.AnalyzerResource, proto.AnalyzerProviderResource)


def _with_properties(message: _M, values: Mapping[str, Any]) -> _M:
    # Struct.update turns every number into a double, as the engine's marshalling does.
    message.properties.update(dict(values))
    return message


def configure_request(config: Mapping[str, Mapping[str, Any]]) -> proto.ConfigureAnalyzerRequest:
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        policy_config = request.policyConfig[name]
        policy_config.enforcementLevel = proto.EnforcementLevel.Value(str(entry["enforcementLevel"]).upper())
        policy_config.properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    return request


class _Requests:
    """The CLI's analyzer requests for the resources of one plan."""

    def __init__(self, plan: Plan) -> None:
        self._by_urn = {r.urn: r for r in plan.resources}

    def _provider(self, resource: PlanResource) -> proto.AnalyzerProviderResource | None:
        provider = self._by_urn.get((resource.provider or "").rsplit("::", 1)[0])
        if provider is None:
            return None
        message = proto.AnalyzerProviderResource(type=provider.type, urn=provider.urn, name=provider.name)
        return _with_properties(message, provider.inputs)

    @staticmethod
    def _options(resource: PlanResource) -> proto.AnalyzerResourceOptions:
        return proto.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent or "")

    def analyze(self, r: PlanResource) -> proto.AnalyzeRequest:
        request = proto.AnalyzeRequest(
            type=r.type, urn=r.urn, name=r.name, options=self._options(r), provider=self._provider(r)
        )
        return _with_properties(request, r.inputs)

    def _stack_resource(self, r: PlanResource) -> proto.AnalyzerResource:
        resource = proto.AnalyzerResource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            options=self._options(r),
            provider=self._provider(r),
            parent=r.parent or "",
            dependencies=list(r.dependencies),
            propertyDependencies={
                k: proto.AnalyzerPropertyDependencies(urns=list(v))
                for k, v in r.property_dependencies.items()
            },
        )
        return _with_properties(resource, r.inputs)

    def stack(self, resources: Iterable[PlanResource]) -> proto.AnalyzeStackRequest:
        return proto.AnalyzeStackRequest(resources=[self._stack_resource(r) for r in resources])


def _from_diagnostics(
    response: proto.AnalyzeResponse, urn: str | None, specs: Mapping[str, PolicySpec]
) -> Iterator[Violation]:
    for diagnostic in response.diagnostics:
        spec = specs.get(diagnostic.policyName)
        # The pack prefixes each message with the policy's description; our reports show that separately.
        message = diagnostic.message
        if spec is not None and message.startswith(spec.description):
            message = message[len(spec.description) :].lstrip("\n") or spec.description
        yield Violation(
            policy=diagnostic.policyName,
            pack=diagnostic.policyPackName or PACK_NAME,
            enforcement=_ENFORCEMENT.get(diagnostic.enforcementLevel, "advisory"),
            severity=_SEVERITY.get(diagnostic.severity) or (spec.severity if spec else "medium"),
            urn=diagnostic.urn or urn,
            message=message,
        )


def run_analyzer(
    analyzer: Analyzer, plan: Plan, specs: Sequence[PolicySpec], config: PackConfig | None = None
) -> list[Violation]:
    """Drive an analyzer as the CLI does: configure it, analyze each custom resource, then the stack."""
    config = config or PackConfig()
    analyzer.Configure(configure_request(config.to_pulumi_config(specs, with_exemptions=False)))
    by_name = {s.name: s for s in specs}
    requests = _Requests(plan)
    found: list[Violation] = []
    for r in plan.resources:
        if r.custom:
            found.extend(_from_diagnostics(analyzer.Analyze(requests.analyze(r)), r.urn, by_name))
    found.extend(_from_diagnostics(analyzer.AnalyzeStack(requests.stack(plan.resources)), None, by_name))
    return [_exempt(v, config) for v in found]
