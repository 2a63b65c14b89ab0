"""Findings point at the stack-file line they came from, and the commands run and list both packs."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from op_fixtures import before
from plan_helpers import ROOT, stack_plan

from lepton_infra.cli import main
from lepton_infra.plan.sources import locate
from lepton_infra.policies.operability.registry import all_policies
from lepton_infra.project import find_project, read_stack_config


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _saved(tmp_path: Path, stack: str) -> Path:
    """The reviewed plan of ``stack`` saved as `lepton-infra plan --json` writes it."""
    saved = tmp_path / f"{stack}.json"
    saved.write_text(json.dumps(before(stack).to_json()))
    return saved


def _run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(args)
    return code, buffer.getvalue()


def test_every_resource_built_for_a_spec_entry_maps_to_its_line() -> None:
    config = read_stack_config(find_project(ROOT), "aws-dev")
    plan = stack_plan("aws-dev")
    locations = locate(plan, config)
    by_name = {r.name: r.urn for r in plan.resources}
    stack_file = ROOT / "stacks" / "Pulumi.aws-dev.yaml"
    job, pool, cluster = (
        locations[by_name[n]]
        for n in ("aws-usw2-pretrain-job", "lepton-aws-usw2-compute-l4", "lepton-aws-usw2-cluster-eks")
    )
    assert (job.path, job.line) == ("workloads[0]", _line(stack_file, "kind: training"))
    assert (pool.path, pool.line) == ("sites[0].gpu_pools[0]", _line(stack_file, "{name: l4"))
    assert (cluster.path, cluster.line) == ("sites[0]", _line(stack_file, "- name: aws-usw2"))
    assert job.file.name == "Pulumi.aws-dev.yaml"
    # Resources of no spec entry (the stack itself) have no line, rather than a guessed one.
    assert not any(r.type == "pulumi:pulumi:Stack" and r.urn in locations for r in plan.resources)


def test_check_text_names_the_line_and_sarif_writes_the_physical_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _saved(tmp_path, "aws-dev")
    code, text = _run(["check", str(saved), "--pack", "lepton-operability"], ROOT, monkeypatch)
    assert code == 1
    assert "== lepton-operability:" in text and "source:   stacks/Pulumi.aws-dev.yaml:" in text
    _, sarif = _run(
        ["check", str(saved), "--pack", "lepton-operability", "--format", "sarif"], ROOT, monkeypatch
    )
    located = [
        loc["physicalLocation"]
        for result in json.loads(sarif)["runs"][0]["results"]
        for loc in result["locations"]
        if "physicalLocation" in loc
    ]
    assert located and all(p["artifactLocation"]["uri"] == "stacks/Pulumi.aws-dev.yaml" for p in located)
    assert all(p["region"]["startLine"] > 0 for p in located)


def test_check_json_keeps_the_contract_and_tells_packs_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _saved(tmp_path, "aws-dev")
    code, out = _run(["check", str(saved), "--format", "json"], tmp_path, monkeypatch)
    report = json.loads(out)
    assert code == 1 and set(report) == {"violations", "summary"}
    assert {v["pack"] for v in report["violations"]} == {"lepton-operability", "lepton-security"}
    # The reviewed plan predates site budgets, and its artifact bucket logs no access: the security
    # pack's findings are those two advisory policies.
    security = [v for v in report["violations"] if v["pack"] == "lepton-security"]
    assert {(v["policy"], v["enforcement"]) for v in security} == {
        ("governance-site-cost-budget", "advisory"),
        ("aws-s3-bucket-access-logging", "advisory"),
    }
    for violation in report["violations"]:
        assert set(violation) == {"policy", "pack", "enforcement", "severity", "urn", "message"}


def test_a_policy_config_may_tune_either_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = _saved(tmp_path, "existing-cluster")
    config = tmp_path / "policy.yaml"
    config.write_text(
        "enforcement:\n"
        "  kubernetes-await-can-finish: advisory\n"
        "  kubernetes-pod-disallow-privileged: mandatory\n"
    )
    code, out = _run(
        ["check", str(saved), "--policy-config", str(config), "--format", "json"], tmp_path, monkeypatch
    )
    assert code == 0
    assert {v["enforcement"] for v in json.loads(out)["violations"] if v["pack"] == "lepton-operability"} == {
        "advisory"
    }


def test_policies_lists_both_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(["policies"], ROOT, monkeypatch)
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert {r.name for r in all_policies()} <= {
        name for name, pack in rows.items() if pack == "lepton-operability"
    }
    assert "lepton-security" in rows.values()
