"""Drive any policy analyzer as the Pulumi CLI does, over the CLI's own RPCs.

``run_analyzer`` sends ``Configure``, ``Analyze`` per custom resource and ``AnalyzeStack`` to an analyzer:
the pack started as its own process and reached over loopback gRPC, as the CLI does. The tests run it and
``evaluate.evaluate_plan`` on the same plans and require identical violations, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from pulumi.runtime import proto

from lepton_infra.plan.exemptions import with_exemptions
from lepton_infra.plan.model import Plan, PlanResource, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.registry import PACK_NAME
from lepton_infra.policies.rule import PolicyRule

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
    response: proto.AnalyzeResponse, urn: str | None, rules: Mapping[str, PolicyRule]
) -> Iterator[Violation]:
    for diagnostic in response.diagnostics:
        rule = rules.get(diagnostic.policyName)
        # The pack prefixes each message with the policy's description; our reports show that separately.
        message = diagnostic.message
        if rule is not None and message.startswith(rule.description):
            message = message[len(rule.description) :].lstrip("\n") or rule.description
        yield Violation(
            policy=diagnostic.policyName,
            pack=diagnostic.policyPackName or PACK_NAME,
            enforcement=_ENFORCEMENT.get(diagnostic.enforcementLevel, "advisory"),
            severity=_SEVERITY.get(diagnostic.severity) or (rule.severity if rule else "medium"),
            urn=diagnostic.urn or urn,
            message=message,
        )


def run_analyzer(
    analyzer: Analyzer, plan: Plan, rules: Sequence[PolicyRule], config: PackConfig | None = None
) -> list[Violation]:
    """Drive an analyzer as the CLI does: configure it, analyze each custom resource, then the stack."""
    config = config or PackConfig()
    analyzer.Configure(
        configure_request(config.to_pulumi_config(rules, with_exemptions=False, validate=False))
    )
    by_name = {r.name: r for r in rules}
    requests = _Requests(plan)
    found: list[Violation] = []
    for r in plan.resources:
        if r.custom:
            found.extend(_from_diagnostics(analyzer.Analyze(requests.analyze(r)), r.urn, by_name))
    found.extend(_from_diagnostics(analyzer.AnalyzeStack(requests.stack(plan.resources)), None, by_name))
    return with_exemptions(found, config)
