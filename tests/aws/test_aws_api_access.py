"""The Kubernetes layer's runner reaches a private EKS endpoint: HTTPS from its network, nothing more.

"You must ensure that your Amazon EKS control plane security group contains rules to allow ingress traffic
on port 443 from your connected network" (EKS user guide, cluster-endpoint); without one, a runner inside
the VPC but outside the cluster security group times out like one on the internet (pulumi/pulumi-eks#86).
"""

from __future__ import annotations

import copy

from plan_helpers import config_plan, only, stack_config, stack_plan

from lepton_infra.plan.model import Plan, PlanResource

RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def cluster_security_group(plan: Plan) -> str:
    group: str = only(plan, "aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    return group


def api_rules(plan: Plan) -> list[PlanResource]:
    return [r for r in plan.of_type(RULE) if r.inputs.get("toPort") == 443]


def test_a_runner_inside_the_vpc_reaches_the_private_endpoint_on_443_from_the_vpc_only() -> None:
    plan = stack_plan("aws-prod")
    [rule] = api_rules(plan)
    assert rule.inputs["securityGroupId"] == cluster_security_group(plan)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == stack_config("aws-prod")["sites"][0]["network"]["cidr"]
    assert only(plan, "aws:eks/cluster:Cluster").inputs["vpcConfig"]["endpointPublicAccess"] is False


def test_a_runner_in_a_connected_network_gets_a_rule_for_each_range_it_declares() -> None:
    platform = copy.deepcopy(stack_config("aws-prod"))
    ranges = ["10.99.0.0/24", "172.16.8.0/22"]
    platform["sites"][0]["kubernetes_runner"]["cidrs"] = ranges
    plan = config_plan(platform)
    assert sorted(r.inputs["cidrIpv4"] for r in api_rules(plan)) == ranges
    assert {r.inputs["securityGroupId"] for r in api_rules(plan)} == {cluster_security_group(plan)}


def test_a_runner_through_the_public_allowlist_opens_nothing_on_the_private_side() -> None:
    assert api_rules(stack_plan("aws-dev")) == []
