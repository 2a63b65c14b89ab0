"""Issue 12, item 7 and the add-on order: NetworkPolicies are enforced, the HPA has metrics, and each add-on
is created when it can become ACTIVE.

Before this, EKS bootstrapped its self-managed add-ons: the VPC CNI without network policy (so every
default-deny policy of the platform did nothing) and no metrics-server (so the HPA never scaled).
"""

from __future__ import annotations

import json

from plan_helpers import only

from lepton_infra.plan.model import Plan, PlanResource

ADDON = "aws:eks/addon:Addon"


def addon(plan: Plan, name: str) -> PlanResource:
    (found,) = [r for r in plan.of_type(ADDON) if r.inputs["addonName"] == name]
    return found


def test_eks_installs_no_add_ons_of_its_own(dev: Plan) -> None:
    # "Changing this value will force a new cluster to be created" (pulumi-aws eks.Cluster): set it once,
    # explicitly.
    assert only(dev, "aws:eks/cluster:Cluster").inputs["bootstrapSelfManagedAddons"] is False
    assert {r.inputs["addonName"] for r in dev.of_type(ADDON)} == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "metrics-server",
    }


def test_the_vpc_cni_enforces_network_policies(dev: Plan) -> None:
    # "enableNetworkPolicy": the add-on's own key, a string (EKS user guide, cni-network-policy-configure).
    cni = addon(dev, "vpc-cni")
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"), "policies exist for it to enforce"


def test_the_hpa_gets_resource_metrics_from_the_metrics_server_add_on(dev: Plan) -> None:
    # EKS installs no metrics-server; it is the community add-on `metrics-server` (EKS user guide,
    # community-addons).
    assert dev.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert addon(dev, "metrics-server").inputs["clusterName"] == "lepton-aws-usw2"


def test_our_configuration_wins_conflicts_and_add_ons_follow_the_clusters_version(dev: Plan) -> None:
    for found in dev.of_type(ADDON):
        assert found.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert found.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
        # Offline, the version EKS would name as the default for the cluster's Kubernetes version.
        assert found.inputs["addonVersion"].endswith("1.33")


def test_cni_and_proxy_come_before_nodes_and_dns_and_metrics_after_the_system_pool(dev: Plan) -> None:
    # CoreDNS created before any node waits DEGRADED until EKS gives up after 20 minutes
    # (pulumi/pulumi-eks#1819, terraform-aws-modules/terraform-aws-eks#3001).
    system = only(dev, "aws:eks/nodeGroup:NodeGroup", "-system-ng")
    for name in ("vpc-cni", "kube-proxy"):
        assert addon(dev, name).urn in system.dependencies
        assert system.urn not in addon(dev, name).dependencies
    for name in ("coredns", "metrics-server"):
        assert system.urn in addon(dev, name).dependencies


def test_no_ebs_csi_driver_since_nothing_needs_a_block_volume(dev: Plan) -> None:
    # The checkpoint claims are ReadWriteMany, which EBS cannot serve ("Only AccessModes[ReadWriteOnce]
    # supported", kubernetes-sigs/aws-ebs-csi-driver#2237): bucket checkpoints are the default on AWS.
    assert not [r for r in dev.of_type(ADDON) if r.inputs["addonName"] == "aws-ebs-csi-driver"]
    assert not dev.of_type("kubernetes:core/v1:PersistentVolumeClaim")
