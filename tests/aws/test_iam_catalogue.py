"""Every IAM document in the AWS plans is checked against AWS's action catalogue (parliament's copy)."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from plan_helpers import ROOT, stack_plan

from lepton_infra.plan.engine import run_program
from lepton_infra.plan.model import Plan
from lepton_infra.project import find_project, read_stack_config

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports pkg_resources, which warns on import
    from parliament import analyze_policy_string, is_arn_strictly_valid

# Findings meaning "no such action / prefix / condition", or an action on the wrong resource type.
CATALOGUE_ISSUES = {
    "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX",
    "UNKNOWN_OPERATOR",
    "RESOURCE_MISMATCH",
    "UNKNOWN_CONDITION_FOR_ACTION",
    "MALFORMED_JSON",
}
# (type, input) of every IAM document a plan can hold.
DOCUMENT_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
}


def catalogue_findings(document: str) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyzed = analyze_policy_string(document, ignore_private_auditors=True)
    found = []
    for finding in analyzed.findings:
        if finding.issue not in CATALOGUE_ISSUES:
            continue
        detail = finding.detail
        if finding.issue == "RESOURCE_MISMATCH":
            detail = [
                d for d in detail if not _granted_elsewhere(document, d["action"], d["required_format"])
            ]
            if not detail:
                continue
        found.append(f"{finding.issue}: {detail}")
    return found


def _granted_elsewhere(document: str, action: str, required_format: str) -> bool:
    """Whether some Allow statement of the document grants ``action`` on a resource of ``required_format``.

    parliament wants each statement to name every resource type an action touches, but IAM allows a request
    when each resource it touches is allowed by some statement. Karpenter's own policy grants
    ec2:RunInstances on images and subnets in one statement and on instances (with tag conditions that
    images could never meet) in another (aws/karpenter-provider-aws, v1.14 cloudformation.yaml).
    """
    for statement in json.loads(document)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if (
            statement["Effect"] == "Allow"
            and action in actions
            and any(is_arn_strictly_valid("", required_format, r) for r in resources if r != "*")
        ):
            return True
    return False


def documents(plan: Plan) -> list[tuple[str, str]]:
    return [
        (r.name, r.inputs[DOCUMENT_INPUTS[r.type]])
        for r in plan.resources
        if r.type in DOCUMENT_INPUTS and DOCUMENT_INPUTS[r.type] in r.inputs
    ]


def byo_plan() -> Plan:
    project = find_project(ROOT / "examples" / "byo-vpc")
    return run_program(project, read_stack_config(project, "dev"))


@pytest.fixture(scope="module")
def all_documents() -> list[tuple[str, str]]:
    return [
        doc for plan in (stack_plan("aws-dev"), stack_plan("aws-prod"), byo_plan()) for doc in documents(plan)
    ]


def test_plans_hold_every_kind_of_iam_document(all_documents: list[tuple[str, str]]) -> None:
    names = " ".join(name for name, _ in all_documents)
    for fragment in (
        "cluster-role",
        "node-role",
        "kms-key",
        "tls-only",
        "ci-puller-access",
        "karpenter-controller",
        "karpenter-nodes",
        "karpenter-interruptions",
    ):
        assert fragment in names


def test_every_action_and_condition_exists_in_the_aws_catalogue(all_documents: list[tuple[str, str]]) -> None:
    problems = {name: found for name, document in all_documents if (found := catalogue_findings(document))}
    assert problems == {}


def test_no_action_is_a_bare_wildcard(all_documents: list[tuple[str, str]]) -> None:
    for name, document in all_documents:
        for statement in json.loads(document)["Statement"]:
            if statement["Effect"] == "Allow":
                assert "*" not in statement["Action"], name


def test_a_misspelled_action_is_caught(all_documents: list[tuple[str, str]]) -> None:
    name, document = next((n, d) for n, d in all_documents if n.endswith("ci-puller-access"))
    policy: dict[str, Any] = json.loads(document)
    policy["Statement"][1]["Action"][0] = "ecr:BatchGetImages"
    assert catalogue_findings(json.dumps(policy)) == ["UNKNOWN_ACTION: Unknown action ecr:BatchGetImages"], (
        name
    )


def test_an_action_granted_on_no_resource_of_its_type_is_caught() -> None:
    # Split statements pass only when another statement names the missing resource type.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": ["arn:aws:s3:::bucket/*"]},
        ],
    }
    (finding,) = catalogue_findings(json.dumps(policy))
    assert finding.startswith("RESOURCE_MISMATCH") and "ssm:GetParameter" in finding
