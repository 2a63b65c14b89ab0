"""The operability pack run as the Pulumi CLI runs it (its own process, analyzer gRPC on loopback)
reports exactly what the offline runner reports: the PolicyResource -> neutral view conversion under
`pulumi preview` and the PlanResource -> neutral view conversion offline cannot drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import empty_pb2
from op_fixtures import RULES, baseline, before, mutated, op_cases, op_files, operability
from plan_helpers import running_pack
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from lepton_infra.plan.analyzer_driver import run_analyzer
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.policies.config import PackConfig


@pytest.fixture(scope="module")
def pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with running_pack("lepton_infra.policies.operability") as stub:
        yield stub


def _key(violations: list[Violation]) -> list[tuple[str, str, str, str, str | None, str]]:
    return sorted((v.pack, v.policy, v.enforcement, v.severity, v.urn, v.message) for v in violations)


def _merged(mutate: bool) -> Plan:
    """Every fixture site in one plan (one stack name per file keeps URNs apart); mutated: each case."""
    resources = [r for i, f in enumerate(op_files()) for r in baseline(f.name, stack=f"base{i}").resources]
    if mutate:
        for i, case in enumerate(op_cases()):
            resources += mutated(case, stack=f"case{i}").resources
    return Plan(stack="test", resources=resources)


def test_pack_announces_every_rule_with_its_metadata(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    announced = {p.name: p for p in info.policies}
    assert info.name == "lepton-operability"
    assert set(announced) == {r.name for r in RULES}
    for rule in RULES:
        assert announced[rule.name].remediation_steps == rule.remediation
        assert proto.EnforcementLevel.Name(announced[rule.name].enforcementLevel).lower() == rule.enforcement


@pytest.mark.parametrize("mutate", [False, True], ids=["baselines", "mutations"])
def test_cli_protocol_and_offline_runner_agree_on_the_fixtures(
    pack: analyzer_pb2_grpc.AnalyzerStub, mutate: bool
) -> None:
    merged = _merged(mutate)
    offline = operability(merged)
    assert _key(run_analyzer(pack, merged, RULES)) == _key(offline)
    assert not mutate or len(offline) >= len(op_cases())


@pytest.mark.parametrize("stack", ["aws-dev", "azure-prod", "alicloud-prod", "multicloud"])
def test_cli_protocol_and_offline_runner_agree_on_the_reviewed_plans(
    pack: analyzer_pb2_grpc.AnalyzerStub, stack: str
) -> None:
    plan = before(stack)
    config = PackConfig(enforcement={"multi-node-training-one-zone": "disabled"})
    offline = operability(plan, config)
    assert offline and _key(run_analyzer(pack, plan, RULES, config)) == _key(offline)
