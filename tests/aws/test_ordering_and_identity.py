"""Issue 12, item 11: what waits for what, who the kubeconfig signs as, GPU Operator values on AL2023.

Before this: the cluster and node groups did not wait for their roles' policy attachments (a destroy detached
them first, and EKS could not clean up), the Kubernetes provider waited only for the cluster (objects were
sent to a cluster with no node and no DNS), the kubeconfig's `aws eks get-token` ignored the provider's
profile and role, and the GPU Operator chart v25.10 silently turned CDI on.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from plan_helpers import only, stack_config

from lepton_infra.plan.engine import record
from lepton_infra.plan.model import Plan
from lepton_infra.program import main
from lepton_infra.project import PLATFORM_KEY, StackConfig


def attachments_of(plan: Plan, role_fragment: str) -> set[str]:
    return {
        a.urn
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role_fragment in a.name
    }


def test_the_cluster_waits_for_its_roles_policies(dev: Plan) -> None:
    # "Ensure the resource configuration includes explicit dependencies on the IAM Role permissions ...
    # otherwise EKS cannot delete EKS managed EC2 infrastructure such as Security Groups" (pulumi-aws
    # eks.Cluster, role_arn).
    attached = attachments_of(dev, "cluster-role")
    assert attached
    assert attached <= set(only(dev, "aws:eks/cluster:Cluster").dependencies)


def test_node_groups_wait_for_the_node_roles_policies(dev: Plan) -> None:
    attached = attachments_of(dev, "cluster-node-role")
    assert len(attached) == 3
    for group in dev.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert attached <= set(group.dependencies), group.name


def test_the_kubernetes_layer_waits_for_nodes_and_dns_not_only_the_api_server(dev: Plan) -> None:
    provider = only(dev, "pulumi:providers:kubernetes")
    system = only(dev, "aws:eks/nodeGroup:NodeGroup", "-system-ng")
    (coredns,) = [r for r in dev.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "coredns"]
    assert {system.urn, coredns.urn} <= set(provider.dependencies)
    # Every Kubernetes object goes through that provider.
    assert all(
        r.provider and "::lepton-aws-usw2-k8s::" in r.provider for r in dev.of_type("kubernetes:batch/v1:Job")
    )


def exec_of(config: str) -> dict[str, Any]:
    document = json.loads(config)
    (user,) = document["users"]
    exec_config: dict[str, Any] = user["user"]["exec"]
    return exec_config


def test_without_profile_or_role_the_kubeconfig_uses_ambient_credentials_as_the_provider_does() -> None:
    plan, config = site_kubeconfig(copy.deepcopy(stack_config("aws-dev")))
    provider = only(plan, "pulumi:providers:aws")
    assert "profile" not in provider.inputs and "assumeRoles" not in provider.inputs
    exec_config = exec_of(config)
    assert "--role-arn" not in exec_config["args"] and "env" not in exec_config


def site_kubeconfig(platform: dict[str, Any]) -> tuple[Plan, str]:
    """The plan of ``platform`` and its site's kubeconfig (a secret, so not in the plan's inputs)."""
    seen: list[str] = []

    def program() -> None:
        main().handles["aws-usw2"].kubeconfig.apply(seen.append)

    config = StackConfig(stack="test", path=Path("Pulumi.test.yaml"), values={PLATFORM_KEY: platform})
    plan = record(program, project="lepton-infra", stack="test", config=config)
    return plan, seen[0]


def test_the_kubeconfig_signs_tokens_as_the_providers_profile_and_role() -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    role = "arn:aws:iam::123456789012:role/platform-deployer"
    platform["sites"][0].update(aws_profile="ml-platform", assume_role_arn=role)
    plan, config = site_kubeconfig(platform)
    provider = only(plan, "pulumi:providers:aws")
    assert provider.inputs["profile"] == "ml-platform"
    assert json.loads(provider.inputs["assumeRoles"])[0]["roleArn"] == role
    exec_config = exec_of(config)
    args = exec_config["args"]
    assert args[:2] == ["eks", "get-token"]
    assert args[args.index("--role-arn") + 1] == role
    assert exec_config["env"] == [{"name": "AWS_PROFILE", "value": "ml-platform"}]


def test_the_gpu_operator_uses_the_amis_driver_and_toolkit_with_cdi_pinned_off(dev: Plan) -> None:
    # gpu-operator v25.10 "Set cdi.enabled to true by default" (NVIDIA/gpu-operator 67d2e125); the AL2023
    # NVIDIA AMI brings driver and toolkit and a single `nvidia` containerd runtime (amazon-eks-ami nodeadm).
    (operator,) = [
        r for r in dev.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "gpu-operator"
    ]
    values = operator.inputs["values"]
    assert values["cdi"] == {"enabled": False}
    assert values["driver"]["enabled"] is False
    assert values["toolkit"]["enabled"] is False
    assert values["devicePlugin"]["enabled"] is True
