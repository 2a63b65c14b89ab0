"""AWS components imported one at a time into another program (examples/byo-vpc), without the Platform."""

from __future__ import annotations

import pytest
from plan_helpers import ROOT, only, policy_json

from lepton_infra.plan.engine import run_program
from lepton_infra.plan.model import Plan
from lepton_infra.project import find_project, read_stack_config


@pytest.fixture(scope="module")
def byo() -> Plan:
    project = find_project(ROOT / "examples" / "byo-vpc")
    return run_program(project, read_stack_config(project, "dev"))


def test_example_builds_a_cluster_in_the_given_subnets_without_a_platform(byo: Plan) -> None:
    assert not byo.of_type("lepton:index:Platform")
    assert not byo.of_type("aws:ec2/vpc:Vpc")
    cluster = only(byo, "aws:eks/cluster:Cluster")
    assert cluster.inputs["vpcConfig"]["subnetIds"] == [
        "subnet-0a1b2c3d4e5f60718",
        "subnet-0f1e2d3c4b5a69788",
    ]
    assert (
        cluster.inputs["encryptionConfig"]["provider"]["keyArn"]
        == only(byo, "aws:kms/key:Key").outputs["arn"]
    )
    assert cluster.urn.endswith("lepton:aws:EksCluster$aws:eks/cluster:Cluster::team-a-eks")


def test_components_use_the_programs_own_provider(byo: Plan) -> None:
    provider = only(byo, "pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-central-1"
    assert all(
        r.provider and "::regional::" in r.provider
        for r in byo.custom_resources()
        if r.type.startswith("aws:")
    )


def test_workload_role_trusts_only_one_service_account_through_the_clusters_oidc(byo: Plan) -> None:
    cluster = only(byo, "aws:eks/cluster:Cluster")
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"].removeprefix("https://")
    oidc = only(byo, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    role = only(byo, "aws:iam/role:Role", "ci-puller")
    (statement,) = policy_json(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"] == {"Federated": oidc.outputs["arn"]}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:ci:image-puller",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }


def test_workload_role_may_pull_only_from_the_given_repository(byo: Plan) -> None:
    repository_arn = only(byo, "aws:ecr/repository:Repository").outputs["arn"]
    policy = policy_json(only(byo, "aws:iam/rolePolicy:RolePolicy", "ci-puller").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"EcrLogin", "PullSiteImages"}
    assert by_sid["PullSiteImages"]["Resource"] == [repository_arn]
    # GetAuthorizationToken supports no resource-level permission: "*" is its only valid resource.
    assert by_sid["EcrLogin"] == {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": ["*"],
    }


def test_a_cluster_alone_gets_the_cni_with_network_policy_and_no_unmanaged_add_ons(byo: Plan) -> None:
    # bootstrapSelfManagedAddons false (issue 12, item 7): the example installs what nodes need itself.
    assert only(byo, "aws:eks/cluster:Cluster").inputs["bootstrapSelfManagedAddons"] is False
    addons = {a.inputs["addonName"]: a for a in byo.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy"}
    assert addons["vpc-cni"].inputs["configurationValues"] == '{"enableNetworkPolicy": "true"}'
