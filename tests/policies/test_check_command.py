"""`lepton-infra check` end to end: the three input formats, the four output formats, exit codes,
exemptions with written reasons, and values a preview cannot know yet."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from policy_fixtures import FIXTURES, load, plan

from lepton_infra.cli.check import check_command
from lepton_infra.cli.policies import policies_command
from lepton_infra.errors import ConfigError
from lepton_infra.plan.evaluate import evaluate
from lepton_infra.plan.loaders import PlanLoadError, load_plan
from lepton_infra.plan.packs import rules_by_name
from lepton_infra.policies.config import load_config
from lepton_infra.policies.registry import all_policies

PLANS = Path(__file__).parent / "plans"
SARIF_LEVELS = {"none", "note", "warning", "error"}


def test_preview_json_loads_new_states_and_their_property_dependencies() -> None:
    loaded = load_plan(PLANS / "preview.json")
    assert loaded.stack == "aws-dev"
    assert [r.name for r in loaded.resources] == ["aws-usw2", "artifacts", "artifacts-pab", "gpu-eks"]
    assert loaded.resources[2].property_dependencies == {"bucket": (loaded.resources[1].urn,)}


def test_stack_export_loads_deployment_resources() -> None:
    loaded = load_plan(PLANS / "stack-export.json")
    assert loaded.stack == "aws-prod"
    key = loaded.resources[1]
    assert (key.type, key.name, key.protect, key.inputs["enableKeyRotation"]) == (
        "aws:kms/key:Key",
        "site-key",
        True,
        False,
    )


def test_plan_json_round_trips() -> None:
    loaded = load_plan(PLANS / "plan.json")
    assert load_plan(PLANS / "plan.json").to_json()["resources"] == loaded.to_json()["resources"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hello": 1}', "not a plan"),
        ('{"resources": [{"name": "x"}]}', "urn is missing, not a Pulumi URN"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_input_exits_2_with_the_reason_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, reason: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(PlanLoadError, match=reason):
        load_plan(path)
    assert check_command(path, "text", None) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and reason in out and "Traceback" not in out


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(tmp_path / "nope.json", "json", None) == 2
    assert "cannot read" in capsys.readouterr().out


def test_preview_findings_survive_unknown_ids_and_unknown_values_do_not_fail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert check_command(PLANS / "preview.json", "json", None) == 1
    report = json.loads(capsys.readouterr().out)
    found = {(v["policy"], v["urn"].rsplit("::", 1)[-1], v["enforcement"]) for v in report["violations"]}
    # Joined through propertyDependencies although the bucket's id is unknown in a preview.
    assert ("aws-s3-bucket-public-access-blocked", "artifacts", "mandatory") in found
    # vpcConfig is unknown: the policy cannot run; pulumi_policy reports that as advisory, never as a failure.
    endpoint = [v for v in report["violations"] if v["policy"] == "aws-eks-cluster-disallow-public-endpoint"]
    assert [v["enforcement"] for v in endpoint] == ["advisory"]
    assert "can't be known during preview" in endpoint[0]["message"]
    assert report["summary"]["blocking"] == sum(v["enforcement"] == "mandatory" for v in report["violations"])


def test_clean_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(load(FIXTURES / "kubernetes" / "deployment.yaml")).to_json()))
    # The plan holds no ECR repository that says whose the images' registry is: the config does.
    config = tmp_path / "policy.yaml"
    config.write_text("allowed_registries: [123456789012.dkr.ecr.us-west-2.amazonaws.com]\n")
    assert check_command(path, "text", config, ["lepton-security"]) == 0
    assert "No policy violations" in capsys.readouterr().out


def test_an_image_on_a_cloud_registry_the_plan_cannot_place_is_undecided_not_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `*.dkr.ecr.*.amazonaws.com` would admit every AWS account's registry (issue 16): without an ECR
    # repository in the plan or a host in the config, the pack says it cannot decide.
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(load(FIXTURES / "kubernetes" / "deployment.yaml")).to_json()))
    assert check_command(path, "json", None, ["lepton-security"]) == 0
    report = json.loads(capsys.readouterr().out)
    (finding,) = [v for v in report["violations"] if v["policy"] == "kubernetes-pod-image-allowed-registry"]
    assert finding["enforcement"] == "advisory"
    assert "cannot decide whether 123456789012.dkr.ecr.us-west-2.amazonaws.com" in finding["message"]


def test_text_report_groups_by_severity_with_resource_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(PLANS / "plan.json", "text", None) == 1
    out = capsys.readouterr().out
    assert out.index("CRITICAL") < out.index("HIGH") < out.index("MEDIUM")
    assert "resource: urn:pulumi:aws-dev::lepton-infra::kubernetes:core/v1:Pod::debug" in out
    assert "fix:      Remove `securityContext.privileged: true`" in out


def test_sarif_report_is_sarif_2_1_0(capsys: pytest.CaptureFixture[str]) -> None:
    check_command(PLANS / "plan.json", "sarif", None)
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)) and {s.name for s in all_policies()} <= set(ids)
    assert all({"id", "shortDescription", "defaultConfiguration"} <= r.keys() for r in rules)
    assert run["results"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in SARIF_LEVELS and result["message"]["text"]
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]


def test_junit_report_fails_one_case_per_violated_mandatory_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    check_command(PLANS / "plan.json", "junit", None)
    suite = ET.fromstring(capsys.readouterr().out.split("?>", 1)[1])
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert "kubernetes-pod-disallow-privileged" in failed
    assert int(suite.get("failures", "0")) == len(failed)
    # One case per policy of every pack `check` ran (both, by default).
    assert int(suite.get("tests", "0")) == len(rules_by_name())


def test_exemption_without_a_written_reason_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "policy.yaml"
    config.write_text(
        "exemptions:\n  - {policy: kubernetes-pod-disallow-privileged, resource: debug, reason: ' '}\n"
    )
    with pytest.raises(ConfigError, match="reason"):
        load_config(config)
    assert check_command(PLANS / "plan.json", "text", config) == 2
    assert "reason" in capsys.readouterr().out


def test_exemption_for_an_unknown_policy_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "policy.yaml"
    config.write_text(
        "exemptions:\n  - {policy: no-such-policy, resource: debug, reason: a long enough reason}\n"
    )
    assert check_command(PLANS / "plan.json", "text", config) == 2
    assert "no-such-policy" in capsys.readouterr().out


def test_exempted_violations_show_their_reason_and_do_not_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocking = {v.policy for v in evaluate(load_plan(PLANS / "plan.json")) if v.blocks}
    reason = "debug pod for the on-call, deleted after incident 42"
    config = tmp_path / "policy.yaml"
    config.write_text(
        "exemptions:\n"
        + "".join(f"  - {{policy: {p}, resource: debug, reason: '{reason}'}}\n" for p in sorted(blocking))
    )
    assert check_command(PLANS / "plan.json", "text", config) == 0
    assert f"[exempt: {reason}] kubernetes-pod-disallow-privileged" in capsys.readouterr().out
    violations = evaluate(load_plan(PLANS / "plan.json"), config)
    assert {v.exemption for v in violations if v.policy in blocking} == {reason}


def test_enforcement_override_makes_a_policy_advisory(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"enforcement": {"kubernetes-pod-disallow-privileged": "advisory"}}))
    violations = evaluate(load_plan(PLANS / "plan.json"), config)
    assert {v.enforcement for v in violations if v.policy == "kubernetes-pod-disallow-privileged"} == {
        "advisory"
    }


def test_policies_command_lists_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert policies_command() == 0
    out = capsys.readouterr().out
    for spec in all_policies():
        assert spec.name in out
    assert "lepton-security" in out and "mandatory" in out
    # Each policy's framework controls, under its line.
    assert (
        "controls: PSS baseline Privileged Containers, CIS EKS 4.2.1, CIS AKS 4.2.1, checkov CKV_K8S_16"
        in out
    )
