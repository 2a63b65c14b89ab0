"""Issue 12, item 6: the site key is created in a fresh account and in one that already has the AutoScaling
service-linked role.

The key policy lets the AutoScaling service-linked role use the key (managed node groups' encrypted
volumes; EC2 Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes"). KMS
refuses a policy naming a role that does not exist yet: "MalformedPolicyDocumentException: Policy contains a
statement with one or more invalid principals" (GoogleCloudPlatform/anthos-samples#357, particuleio/teks#92);
creating the role where it exists fails: "Service role name AWSServiceRoleForAutoScaling has been taken in
this account" (DataDog/pathfinding-labs#23). Before this, the key named the role and nothing made it exist.
"""

from __future__ import annotations

import copy

import pytest
from plan_helpers import config_plan, only, policy_json, stack_config, stack_plan

from lepton_infra.plan.model import Plan

LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"


@pytest.fixture(scope="module")
def fresh_account() -> Plan:
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["create_service_linked_roles"] = True
    return config_plan(platform)


def autoscaling_principals(plan: Plan) -> set[str]:
    statements = policy_json(only(plan, "aws:kms/key:Key").inputs["policy"])["Statement"]
    return {
        s["Principal"]["AWS"]
        for s in statements
        if s["Sid"].startswith("AutoScaling") and isinstance(s["Principal"].get("AWS"), str)
    }


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod"])
def test_by_default_the_stack_creates_no_account_wide_role_that_may_exist_already(stack: str) -> None:
    plan = stack_plan(stack)
    assert not plan.of_type(LINKED_ROLE)
    assert autoscaling_principals(plan)  # the README's one-time step makes sure it exists


def test_asked_to_the_site_creates_the_roles_and_the_key_waits_for_them(fresh_account: Plan) -> None:
    roles = {r.inputs["awsServiceName"]: r for r in fresh_account.of_type(LINKED_ROLE)}
    # aws-dev's L4 pool is spot: Karpenter's spot launches need the EC2 Spot role too.
    assert set(roles) == {"autoscaling.amazonaws.com", "spot.amazonaws.com"}
    key = only(fresh_account, "aws:kms/key:Key")
    assert {r.urn for r in roles.values()} <= set(key.dependencies)
    assert autoscaling_principals(fresh_account) == {roles["autoscaling.amazonaws.com"].outputs["arn"]}


def test_a_created_role_outlives_the_stack(fresh_account: Plan) -> None:
    # Other Auto Scaling groups of the account use the same role.
    for role in fresh_account.of_type(LINKED_ROLE):
        assert role.options.get("retainOnDelete") is True


def test_without_spot_pools_no_spot_role_is_made() -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["create_service_linked_roles"] = True
    platform["sites"][0]["gpu_pools"][0]["spot"] = False
    roles = {r.inputs["awsServiceName"] for r in config_plan(platform).of_type(LINKED_ROLE)}
    assert roles == {"autoscaling.amazonaws.com"}
