"""Issue 12, item 8: multi-node training on p5/p4d runs NCCL over EFA, not TCP.

Before this, the H100 pool had no EFA interfaces, no placement group, no EFA device plugin and spanned three
zones. Sources: EC2 User Guide, efa-acc-inst-types ("For the primary network interface (network card index 0,
device index 0), create an ENA interface ... an EFA-only network interface for network card index 0, device
index 1 ... For each additional network interface, use the next unused network card index, device index 0");
efa-start#efa-start-security ("must allow all inbound and outbound traffic to and from itself"); EKS user
guide device-management-efa; aws/eks-charts aws-efa-k8s-device-plugin v0.5.30 (values vendored).
"""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path
from typing import Any

import pytest
from crd_schemas import unknown_values, validate_custom_object
from plan_helpers import ROOT, config_plan, config_problems, only, stack_config, stack_plan, whole_config

from lepton_infra.cli import main as cli
from lepton_infra.components.handle import NodePlacement
from lepton_infra.plan.engine import record
from lepton_infra.plan.manifests import kubernetes_object
from lepton_infra.plan.model import Plan
from lepton_infra.program import main
from lepton_infra.project import PLATFORM_KEY, StackConfig

Obj = dict[str, Any]


def node_class(plan: Plan, pool: str) -> Obj:
    (obj,) = [
        o
        for r in plan.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
        if (o := kubernetes_object(r)) is not None and o["metadata"]["name"] == pool
    ]
    return obj


def efa_group_id(plan: Plan) -> str:
    group_id: str = only(plan, "aws:ec2/securityGroup:SecurityGroup", "-efa-sg").outputs["id"]
    return group_id


def test_p5_nodes_get_an_efa_only_interface_on_every_one_of_their_32_network_cards(prod: Plan) -> None:
    obj = node_class(prod, "h100")
    validate_custom_object(obj, "karpenter", "karpenter.k8s.aws_ec2nodeclasses.yaml")
    nics = {
        (n["networkCardIndex"], n["deviceIndex"]): n["interfaceType"]
        for n in obj["spec"]["networkInterfaces"]
    }
    assert nics[(0, 0)] == "interface"  # "You can't use an EFA-only network interface as the primary"
    efa_cards = sorted(card for (card, _), kind in nics.items() if kind == "efa-only")
    assert efa_cards == list(range(32))
    assert len(nics) == 33


def test_efa_nodes_share_one_subnet_and_a_self_referencing_security_group(prod: Plan) -> None:
    spec = node_class(prod, "h100")["spec"]
    (subnet,) = spec["subnetSelectorTerms"]
    first_zone = only(prod, "aws:ec2/subnet:Subnet", "network-private-0").outputs["id"]
    assert subnet == {"id": first_zone}
    group = efa_group_id(prod)
    cluster_group = only(prod, "aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert spec["securityGroupSelectorTerms"] == [{"id": cluster_group}, {"id": group}]
    for kind in ("Ingress", "Egress"):
        rules = prod.of_type(f"aws:vpc/securityGroup{kind}Rule:SecurityGroup{kind}Rule")
        # The EFA group's own rules (the cluster group also admits the Kubernetes layer's runner on 443).
        (rule,) = [r for r in rules if r.inputs["securityGroupId"] == group]
        assert rule.inputs["securityGroupId"] == rule.inputs["referencedSecurityGroupId"] == group
        assert rule.inputs["ipProtocol"] == "-1"
    # A pool without EFA keeps every zone.
    assert len(node_class(prod, "l4")["spec"]["subnetSelectorTerms"]) == 3


def test_a_pool_that_asks_for_it_launches_into_its_cluster_placement_group(prod: Plan) -> None:
    group = only(prod, "aws:ec2/placementGroup:PlacementGroup")
    assert group.inputs["strategy"] == "cluster"
    assert node_class(prod, "h100")["spec"]["placementGroupSelector"] == {"name": group.outputs["name"]}
    assert "placementGroupSelector" not in node_class(prod, "l4")["spec"]


def test_the_efa_device_plugin_runs_on_tainted_gpu_nodes(prod: Plan) -> None:
    (plugin,) = [
        r
        for r in prod.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "aws-efa-k8s-device-plugin"
    ]
    assert plugin.inputs["version"] == "v0.5.30"
    assert plugin.inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    # The chart's daemonset tolerates only CriticalAddonsOnly unless told more (values: `tolerations: []`).
    assert plugin.inputs["values"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert unknown_values(plugin.inputs["values"], "aws-efa-k8s-device-plugin") == []
    assert not stack_plan("aws-dev").of_type("aws:ec2/securityGroup:SecurityGroup")


def placements(platform: dict[str, Any]) -> tuple[NodePlacement, ...]:
    found: list[tuple[NodePlacement, ...]] = []

    def program() -> None:
        found.append(main().handles[platform["sites"][0]["name"]].gpu_pools)

    config = StackConfig(stack="test", path=Path("Pulumi.test.yaml"), values={PLATFORM_KEY: platform})
    record(program, project="lepton-infra", stack="test", config=config)
    return found[0]


def test_pods_on_the_efa_pool_are_told_to_ask_for_every_efa_device_and_use_it() -> None:
    by_pool = {p.pool: p for p in placements(whole_config("aws-prod"))}
    fabric = by_pool["h100"].fabric
    assert fabric is not None
    assert fabric.resources == {"vpc.amazonaws.com/efa": 32}
    assert fabric.env["FI_PROVIDER"] == "efa"
    assert by_pool["l4"].fabric is None


def test_a_baseline_node_group_of_an_efa_pool_gets_the_same_interfaces_groups_and_placement() -> None:
    platform = copy.deepcopy(stack_config("aws-prod"))
    platform["sites"][0]["gpu_pools"][0]["min_nodes"] = 2
    plan = config_plan(platform)
    template = only(plan, "aws:ec2/launchTemplate:LaunchTemplate", "h100-baseline")
    nics = template.inputs["networkInterfaces"]
    assert len(nics) == 33
    cluster_group = only(plan, "aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    # With interfaces in the template EKS adds no security group itself (EKS user guide, launch-templates).
    assert all(n["securityGroups"] == [cluster_group, efa_group_id(plan)] for n in nics)
    assert all(n["associatePublicIpAddress"] == "false" for n in nics)
    assert template.inputs["placement"] == {
        "groupName": only(plan, "aws:ec2/placementGroup:PlacementGroup").outputs["name"]
    }
    group = only(plan, "aws:eks/nodeGroup:NodeGroup", "h100-baseline")
    assert group.inputs["subnetIds"] == [
        only(plan, "aws:ec2/subnet:Subnet", "network-private-0").outputs["id"]
    ]


@pytest.mark.parametrize(
    ("changes", "path", "says"),
    [
        ({"efa": True}, "gpu_pools[0].efa", "g6.12xlarge"),  # g6.xlarge has no EFA; the L4 types that do
        (
            {"efa": True, "instance_type": "g6.12xlarge", "zone_index": 2},
            "gpu_pools[0].zone_index",
            "2 zones",
        ),
        ({"zone_index": 1}, "gpu_pools[0].zone_index", "efa or placement_group"),
        (
            {"spot": False, "placement_group": True, "capacity_reservation_ids": ["cr-0123456789abcdef0"]},
            "gpu_pools[0].placement_group",
            "InsufficientInstanceCapacity",
        ),
    ],
)
def test_pools_that_could_not_use_efa_or_launch_are_refused(
    changes: dict[str, Any], path: str, says: str
) -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["gpu_pools"][0].update(changes)
    issues = config_problems(platform)
    assert any(p.endswith(path) and says in m for p, m in issues), issues


def warnings_of(stack: str) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli(["validate", "--project", str(ROOT), "--stack", stack]) == 0
    return err.getvalue()


def test_multi_node_training_on_a_pool_without_fabric_is_warned_about_with_its_line() -> None:
    # aws-dev: two g6.xlarge nodes (no EFA) train one job, so NCCL runs over TCP.
    text = warnings_of("aws-dev")
    assert text.startswith("warning: ")
    assert "Pulumi.aws-dev.yaml:" in text and "workloads[0].nodes" in text and "over TCP" in text
    assert warnings_of("aws-prod") == ""
