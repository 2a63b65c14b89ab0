"""The pack run as the Pulumi CLI runs it (its own process, analyzer gRPC on loopback) reports exactly what
the offline runner reports on the same plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import empty_pb2
from plan_helpers import running_pack
from policy_fixtures import FIXTURES, cases, fixture_files, load, plan
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from lepton_infra.plan.analyzer_driver import run_analyzer
from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.loaders import load_plan
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()


@pytest.fixture(scope="module")
def pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with running_pack("lepton_infra.policies") as stub:
        yield stub


def _merged(mutated: bool) -> Plan:
    """Every fixture's plan in one; with ``mutated``, the first case of each file applied (so it fails)."""
    resources = []
    for index, path in enumerate(fixture_files()):
        data = load(path)
        case = next((c for c in cases() if c.file == str(path.relative_to(FIXTURES))), None)
        # One stack name per file keeps URNs unique (two files declare a provider of the same name).
        resources.extend(plan(data, case if mutated else None, stack=f"test{index}").resources)
    return Plan(stack="test", resources=resources)


def _key(violations: list[Violation]) -> list[tuple[str, str, str, str | None, str]]:
    return sorted((v.policy, v.enforcement, v.severity, v.urn, v.message) for v in violations)


def test_pack_announces_every_policy_with_its_metadata(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    announced = {p.name: p for p in info.policies}
    assert info.name == "lepton-security"
    assert set(announced) == {s.name for s in SPECS}
    for spec in SPECS:
        policy = announced[spec.name]
        assert policy.remediation_steps == spec.remediation
        assert proto.EnforcementLevel.Name(policy.enforcementLevel).lower() == spec.enforcement


@pytest.mark.parametrize("mutated", [False, True], ids=["baselines", "mutations"])
def test_cli_protocol_and_offline_runner_agree(pack: analyzer_pb2_grpc.AnalyzerStub, mutated: bool) -> None:
    merged = _merged(mutated)
    config = PackConfig(allowed_regions=["us-west-2", "westeurope", "cn-hangzhou"], max_gpus_per_stack=8)
    over_grpc = run_analyzer(pack, merged, SPECS, config)
    offline = evaluate_plan(merged, SPECS, config)
    assert _key(over_grpc) == _key(offline)
    # The GPU budget of 8 is exceeded by the fixtures' pools, so both paths found something to agree on.
    assert any(v.policy == "governance-max-gpus-per-stack" for v in offline)
    assert not mutated or len(offline) > 3


def test_cli_protocol_and_offline_runner_agree_on_a_preview_with_unknowns(
    pack: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    preview = load_plan(Path(__file__).parent / "plans" / "preview.json")
    offline = evaluate_plan(preview, SPECS)
    assert _key(run_analyzer(pack, preview, SPECS)) == _key(offline)
    assert any("can't be known during preview" in v.message for v in offline)
