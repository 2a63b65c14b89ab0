"""`lepton-infra plan`: the resource tree, the contract plan JSON, and no secret in any output."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import ROOT

from lepton_infra.cli import main
from lepton_infra.project import find_project, read_stack_config

CLUSTER_URN = (
    "urn:pulumi:aws-dev::lepton-infra::lepton:index:Platform$lepton:aws:Site$lepton:aws:EksCluster"
    "$aws:eks/cluster:Cluster::lepton-aws-usw2-cluster-eks"
)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("plan") / "plan.json"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["plan", "--project", str(ROOT), "--json", str(out)])
    return code, buffer.getvalue(), json.loads(out.read_text())


def test_default_stack_plans_and_passes_every_mandatory_security_policy(
    planned: tuple[int, str, dict[str, Any]],
) -> None:
    code, out, plan = planned
    assert plan["stack"] == "aws-dev"
    blocking = [v for v in plan["violations"] if v["enforcement"] == "mandatory"]
    assert not [v for v in blocking if v["pack"] == "lepton-security"]
    # Both packs ran and were reported; a mandatory finding of either exits 1. The operability pack
    # still blocks aws-dev until the day-one issues land (tests/operability/test_reviewed_plans.py).
    assert "lepton-security (" in out and "lepton-operability (" in out
    assert code == (1 if blocking else 0)


def test_plan_json_follows_the_contract(planned: tuple[int, str, dict[str, Any]]) -> None:
    _, _, plan = planned
    resources = plan["resources"]
    assert isinstance(resources, list)
    cluster = next(r for r in resources if r["urn"] == CLUSTER_URN)
    assert cluster["type"] == "aws:eks/cluster:Cluster"
    assert cluster["name"] == "lepton-aws-usw2-cluster-eks"
    assert cluster["custom"] is True
    assert cluster["parent"].endswith("lepton:aws:EksCluster::lepton-aws-usw2-cluster")
    assert "pulumi:providers:aws::lepton-aws-usw2-aws::" in cluster["provider"]
    assert cluster["inputs"]["encryptionConfig"]["resources"] == ["secrets"]  # camelCase engine names
    assert isinstance(plan["violations"], list)
    for violation in plan["violations"]:
        assert set(violation) >= {"policy", "pack", "enforcement", "severity", "urn", "message"}


def test_numbers_are_integers_where_the_sdk_sends_integers(
    planned: tuple[int, str, dict[str, Any]],
) -> None:
    _, _, plan = planned
    key = next(r for r in plan["resources"] if r["type"] == "aws:kms/key:Key")
    assert key["inputs"]["deletionWindowInDays"] == 30
    assert isinstance(key["inputs"]["deletionWindowInDays"], int)


def test_secrets_never_reach_the_plan_or_the_screen(planned: tuple[int, str, dict[str, Any]]) -> None:
    _, stdout, plan = planned
    provider = next(r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert "get-token" not in json.dumps(plan) and "get-token" not in stdout


def test_output_shows_the_tree_and_counts(planned: tuple[int, str, dict[str, Any]]) -> None:
    _, stdout, _ = planned
    assert "lepton-aws-usw2-cluster-eks  (aws:eks/cluster:Cluster)" in stdout
    assert "1  aws:eks/cluster:Cluster" in stdout


def test_secret_stack_config_is_masked(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: lepton-infra\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    stack = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()
    stack += "  lepton-infra:token:\n    secure: v1:abcdEFGHijkl==\n"
    (tmp_path / "stacks" / "Pulumi.aws-dev.yaml").write_text(stack)
    config = read_stack_config(find_project(tmp_path), "aws-dev")
    assert config.runtime_config()["lepton-infra:token"] == "[secret]"
    assert config.secret_keys == {"lepton-infra:token"}
