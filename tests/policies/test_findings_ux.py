"""Findings a reader can act on: JSON carries each finding's fix, text groups a policy's repeated findings,
and the policy config file has a schema and offers the name a typo meant, naming the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from lepton_infra.cli import main
from lepton_infra.cli.check import check_command
from lepton_infra.plan.loaders import load_plan
from lepton_infra.plan.model import Violation
from lepton_infra.plan.packs import evaluate_packs, rules_by_name
from lepton_infra.plan.reporters import render_text
from lepton_infra.plan.sources import SourceLocation
from lepton_infra.policies.config import load_config
from lepton_infra.policies.config_schema import policy_config_schema
from lepton_infra.policies.settings import SETTINGS

PLANS = Path(__file__).parent / "plans"
README = Path(__file__).resolve().parents[2] / "README.md"


def test_json_findings_carry_the_policys_fix(capsys: pytest.CaptureFixture[str]) -> None:
    check_command(PLANS / "plan.json", "json", None)
    violations = json.loads(capsys.readouterr().out)["violations"]
    rules = rules_by_name()
    assert violations
    assert all(v["fix"] == rules[v["policy"]].remediation and v["fix"] for v in violations)


def test_plan_json_findings_carry_the_fix() -> None:
    plan = load_plan(PLANS / "plan.json")
    plan.violations = evaluate_packs(plan)
    saved = plan.to_json()["violations"]
    assert saved and all(v["fix"] == rules_by_name()[v["policy"]].remediation for v in saved)


def test_a_finding_without_a_rule_has_a_null_fix() -> None:
    finding = Violation("someone-elses-policy", "other", "advisory", "low", None, "found")
    assert finding.to_json()["fix"] is None


def _buckets(count: int) -> list[Violation]:
    return [
        Violation(
            "aws-s3-bucket-versioning-enabled",
            "lepton-security",
            "mandatory",
            "high",
            f"urn:pulumi:dev::lepton-infra::aws:s3/bucket:Bucket::bucket-{i:02}",
            "versioning is not enabled",
        )
        for i in range(count)
    ]


def test_repeated_findings_are_one_entry_with_a_count_and_their_resources() -> None:
    found = _buckets(15)
    where = SourceLocation(Path("stacks/Pulumi.dev.yaml"), 12, "sites[0]")
    text = render_text(found, rules_by_name(), {found[3].urn or "": where})
    assert text.count("aws-s3-bucket-versioning-enabled") == 1
    assert "aws-s3-bucket-versioning-enabled (15)" in text
    assert text.count("versioning is not enabled") == 1
    assert text.count(rules_by_name()["aws-s3-bucket-versioning-enabled"].remediation) == 1
    listed = re.findall(r"^\s+- (\S+)", text, flags=re.MULTILINE)
    assert listed == [v.urn for v in found]
    assert f"- {found[3].urn}  at stacks/Pulumi.dev.yaml:12 (sites[0])" in text


def test_different_messages_of_one_policy_stay_with_their_resource() -> None:
    found = _buckets(2)
    found[1] = Violation(**{**found[1].__dict__, "message": "versioning is suspended"})
    text = render_text(found, rules_by_name())
    assert "aws-s3-bucket-versioning-enabled (2)" in text
    lines = text.splitlines()
    second = lines.index(f"    - {found[1].urn}")
    assert lines[second + 1].strip() == "problem: versioning is suspended"


def _readme_policy_config() -> str:
    section = README.read_text().split("## The policy config file", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_is_valid_by_the_schema_and_by_the_loader(tmp_path: Path) -> None:
    example = _readme_policy_config()
    schema = policy_config_schema(rules_by_name())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(yaml.safe_load(example))) == []
    path = tmp_path / "policy.yaml"
    path.write_text(example)
    load_config(path).check_names(rules_by_name().values(), source=str(path))


def test_the_readme_and_the_schema_name_every_setting() -> None:
    section = README.read_text().split("## The policy config file", 1)[1].split("\n## ", 1)[0]
    properties = policy_config_schema(rules_by_name())["properties"]
    for setting in SETTINGS:
        assert f"`{setting.name}`" in section
        assert properties[setting.name]["description"] == setting.description


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"enforcement": {"aws-eks-cluster-secrets-encryptd": "advisory"}}, "enforcement"),
        ({"enforcement": {"all": "sometimes"}}, "level"),
        ({"max_gpu_per_node": 4}, "setting"),
        ({"max_gpus_per_node": 0}, "minimum"),
        (
            {
                "exemptions": [
                    {"policy": "kubernetes-pod-disallow-privileged", "resource": "x", "reason": "no"}
                ]
            },
            "reason",
        ),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(
    tmp_path: Path, config: dict[str, object], refused: str
) -> None:
    validator = Draft202012Validator(policy_config_schema(rules_by_name()))
    assert not validator.is_valid(config), refused
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    assert check_command(PLANS / "plan.json", "json", path) == 2


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("enforcement:\n  aws-eks-cluster-secrets-encryptd: advisory\n", "aws-eks-cluster-secrets-encrypted"),
        (
            "exemptions:\n  - {policy: kubernetes-pod-disalow-privileged, resource: debug, "
            "reason: the on-call's debug pod}\n",
            "kubernetes-pod-disallow-privileged",
        ),
        ("max_gpu_per_node: 4\n", "max_gpus_per_node"),
    ],
)
def test_a_misspelled_name_gets_a_did_you_mean_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, meant: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(written)
    assert check_command(PLANS / "plan.json", "text", path) == 2
    out = capsys.readouterr().out
    assert str(path) in out
    assert f"(did you mean {meant!r}?)" in out


def test_schema_policy_config_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--policy-config"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema") and schema["$id"]
    assert set(schema["properties"]["enforcement"]["propertyNames"]["enum"]) == {*rules_by_name(), "all"}
