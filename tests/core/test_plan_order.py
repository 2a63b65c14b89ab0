"""A plan lists its resources in the program's construction order, the same on every run.

Found by bench/plan_identity: the SDK registers each resource from a task that first awaits its inputs, so
registrations reached the monitor in another order on each run, and two runs of one commit wrote plan JSON,
manifests, trees and finding messages that differed (aws-dev's plan from byte 19,371 on): a review diff of
two plans showed moves that were no changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from plan_helpers import ROOT, run_cli

from lepton_infra.plan.engine import record, run_plan
from lepton_infra.plan.manifests import manifests_by_group
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.plan.order import ConstructionOrder


def _names(plan: Plan) -> list[str]:
    return [r.urn for r in plan.resources]


@pytest.mark.parametrize("stack", ["aws-dev", "azure-prod-k8s"])
def test_two_runs_of_a_stack_plan_its_resources_and_manifests_alike(stack: str) -> None:
    first, second = run_plan(ROOT, stack), run_plan(ROOT, stack)
    assert _names(first) == _names(second)
    assert json.dumps(first.to_json()) == json.dumps(second.to_json())
    assert manifests_by_group(first) == manifests_by_group(second)


@pytest.mark.slow
def test_two_runs_of_the_cli_write_the_same_files(tmp_path: Path) -> None:
    # existing-cluster's registry finding names two workloads in one message: in registration order, once.
    outputs = []
    for run in ("first", "second"):
        plan, manifests = tmp_path / f"{run}.json", tmp_path / run
        result = run_cli(
            "plan", "--stack", "existing-cluster", "--json", str(plan), "--manifests", str(manifests)
        )
        assert result.returncode == 0, result.stderr
        documents = {p.name: p.read_text() for p in sorted(manifests.glob("*.yaml"))}
        outputs.append((plan.read_text(), documents))
    assert json.loads(outputs[0][0])["violations"], "the stack's advisory finding is what this test compares"
    assert outputs[0] == outputs[1]


def test_each_resource_follows_its_parent_and_siblings_come_in_construction_order() -> None:
    plan = run_plan(ROOT, "aws-dev")
    position = {r.urn: i for i, r in enumerate(plan.resources)}
    assert all(position[r.parent] < position[r.urn] for r in plan.resources if r.parent in position)
    network = [r.name for r in plan.resources if r.name.startswith("lepton-aws-usw2-network-")]
    # AwsNetwork builds the VPC first, then each zone's public subnet before its private one.
    assert network[0] == "lepton-aws-usw2-network-vpc"
    assert network.index("lepton-aws-usw2-network-public-0") < network.index(
        "lepton-aws-usw2-network-private-0"
    )
    assert network.index("lepton-aws-usw2-network-private-0") < network.index(
        "lepton-aws-usw2-network-public-1"
    )


class _Pair(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Pair", name)
        # Constructed second but registered first: its input resolves at once, the first one's later.
        late = pulumi.Output.from_input("x").apply(lambda v: v)
        pulumi.CustomResource(
            "test:index:Thing", f"{name}-b", {"v": late}, opts=pulumi.ResourceOptions(parent=self)
        )
        pulumi.CustomResource(
            "test:index:Thing", f"{name}-a", {"v": "y"}, opts=pulumi.ResourceOptions(parent=self)
        )


def test_children_are_listed_as_constructed_whatever_order_they_register_in() -> None:
    plan = record(lambda: [_Pair(n) for n in ("p2", "p1")], project="t", stack="dev")
    names = [r.name for r in plan.resources if r.type != "pulumi:pulumi:Stack"]
    assert names == ["p2", "p2-b", "p2-a", "p1", "p1-b", "p1-a"]


def test_a_resource_the_program_did_not_construct_comes_after_its_siblings_by_urn() -> None:
    # A plan's resources that no constructor numbered (a stack transformation registered late, say).
    def resource(name: str, parent: str | None) -> PlanResource:
        return PlanResource(f"urn:pulumi:dev::t::x:index:T::{name}", "x:index:T", name, True, {}, parent)

    root = PlanResource(
        "urn:pulumi:dev::t::pulumi:pulumi:Stack::t-dev", "pulumi:pulumi:Stack", "t-dev", False, {}
    )
    unseen = [resource(n, root.urn) for n in ("c", "a", "b")]
    ordered = ConstructionOrder().sort([unseen[0], root, *unseen[1:]])
    assert [r.name for r in ordered] == ["t-dev", "a", "b", "c"]
