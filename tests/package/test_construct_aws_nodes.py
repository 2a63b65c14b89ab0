"""What gives a package EKS cluster its nodes, constructed over gRPC as another language's program does,
builds what a Python program builds: EFA node groups, the managed add-ons in their two stages, Karpenter's
AWS side; and what must come first is ordered through the component's own ``dependsOn``."""

from __future__ import annotations

import pulumi
import pytest
from parity import children, python_children
from provider_harness import STACK_URN, FakeEngine, output

from lepton_infra.components.aws.efa import efa_layout

CLUSTER_URN = "urn:pulumi:dev::consumer::lepton-infra:index:AwsEksCluster::gpu"
ROLE = "arn:aws:iam::123456789012:role/nodes"
KEY = "arn:aws:kms:us-west-2:123456789012:key/k"
CLUSTER_SG = "sg-cluster"
EFA_SG = "sg-efa"


def test_an_efa_node_group_over_grpc_builds_what_python_builds_with_its_interfaces_and_placement_group(
    engine: FakeEngine,
) -> None:
    from lepton_infra.components.aws import AwsManagedNodeGroup, AwsManagedNodeGroupArgs

    layout = efa_layout(4)
    built = engine.construct(
        "lepton-infra:index:AwsManagedNodeGroup",
        "h100",
        {
            "clusterName": "gpu-eks",
            "kubernetesVersion": "1.33",
            "nodeRoleArn": ROLE,
            "subnetIds": ["subnet-a"],
            "instanceType": "p5.48xlarge",
            "amiType": "AL2023_x86_64_NVIDIA",
            "minNodes": 2.0,
            "maxNodes": 2.0,
            "kmsKeyArn": KEY,
            "networkInterfaces": [
                {"networkCard": float(n.network_card), "device": float(n.device), "kind": n.kind}
                for n in layout
            ],
            "securityGroupIds": [output(CLUSTER_SG, CLUSTER_URN), EFA_SG],
            "placementGroupName": "h100-pg",
        },
    )

    expected = python_children(
        lambda: AwsManagedNodeGroup(
            "h100",
            AwsManagedNodeGroupArgs(
                cluster_name="gpu-eks",
                kubernetes_version="1.33",
                node_role_arn=ROLE,
                subnet_ids=["subnet-a"],
                instance_type="p5.48xlarge",
                ami_type="AL2023_x86_64_NVIDIA",
                min_nodes=2,
                max_nodes=2,
                kms_key_arn=KEY,
                network_interfaces=layout,
                security_group_ids=[CLUSTER_SG, EFA_SG],
                placement_group_name="h100-pg",
            ),
        ),
        "lepton:aws:ManagedNodeGroup",
    )
    assert children(built.resources, "lepton:aws:ManagedNodeGroup") == expected
    (template,) = [r for r in built.resources if r.type == "aws:ec2/launchTemplate:LaunchTemplate"]
    interfaces = template.inputs["networkInterfaces"]
    # EFA's layout (EC2 User Guide, efa-acc-inst-types): an ENA primary, EFA-only on every card.
    assert [(i["networkCardIndex"], i["deviceIndex"], i["interfaceType"]) for i in interfaces] == [
        (0, 0, "interface"),
        (0, 1, "efa-only"),
        (1, 0, "efa-only"),
        (2, 0, "efa-only"),
        (3, 0, "efa-only"),
    ]
    # With its own interfaces a node gets no group from EKS: the cluster's and EFA's are on every one.
    assert all(i["securityGroups"] == [CLUSTER_SG, EFA_SG] for i in interfaces)
    assert template.inputs["placement"] == {"groupName": "h100-pg"}


@pytest.mark.parametrize(
    ("stage", "addons"),
    [("beforeNodes", ["kube-proxy", "vpc-cni"]), ("afterSystemPool", ["coredns", "metrics-server"])],
)
def test_eks_addons_over_grpc_build_what_the_python_site_installs_at_that_stage(
    engine: FakeEngine, stage: str, addons: list[str]
) -> None:
    from lepton_infra.components.aws.addons import AFTER_SYSTEM_POOL, BEFORE_NODES, eks_addons

    built = engine.construct(
        "lepton-infra:index:AwsEksAddons",
        f"gpu-{stage}",
        {"clusterName": "gpu-eks", "kubernetesVersion": "1.33", "stage": stage, "tags": {"team": "ml"}},
    )

    def python_program() -> None:
        # What the site's compute component does, under a component of the package's type.
        parent = pulumi.ComponentResource("lepton-infra:index:AwsEksAddons", f"gpu-{stage}")
        chosen = BEFORE_NODES if stage == "beforeNodes" else AFTER_SYSTEM_POOL
        opts = pulumi.ResourceOptions(parent=parent)
        eks_addons(f"gpu-{stage}", "gpu-eks", "1.33", chosen, opts, tags={"team": "ml"})

    expected = python_children(python_program, "lepton-infra:index:AwsEksAddons")
    assert children(built.resources, "lepton-infra:index:AwsEksAddons") == expected
    installed = [r for r in built.resources if r.type == "aws:eks/addon:Addon"]
    assert sorted(r.inputs["addonName"] for r in installed) == addons
    assert sorted(built.state["addonVersions"]) == addons
    if stage == "beforeNodes":
        # The VPC CNI enforces NetworkPolicy only when its add-on sets enableNetworkPolicy (EKS user guide,
        # cni-network-policy-configure): without it every default-deny policy does nothing.
        (cni,) = [r for r in installed if r.inputs["addonName"] == "vpc-cni"]
        assert cni.inputs["configurationValues"] == '{"enableNetworkPolicy": "true"}'


def test_karpenter_and_the_efa_security_group_over_grpc_build_what_python_builds(engine: FakeEngine) -> None:
    from lepton_infra.components.aws import (
        AwsEfaSecurityGroup,
        AwsEfaSecurityGroupArgs,
        AwsKarpenter,
        AwsKarpenterArgs,
    )

    cluster_arn = "arn:aws:eks:us-west-2:123456789012:cluster/gpu-eks"
    oidc = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
    issuer = "oidc.eks.us-west-2.amazonaws.com/id/ABC"
    karpenter = engine.construct(
        "lepton-infra:index:AwsKarpenter",
        "gpu",
        {
            "clusterName": "gpu-eks",
            "clusterArn": output(cluster_arn, CLUSTER_URN),
            "oidcProviderArn": oidc,
            "oidcIssuer": issuer,
            "kmsKeyArn": KEY,
        },
    )
    group = engine.construct("lepton-infra:index:AwsEfaSecurityGroup", "gpu", {"vpcId": "vpc-1"})

    assert children(karpenter.resources, "lepton:aws:Karpenter") == python_children(
        lambda: AwsKarpenter("gpu", AwsKarpenterArgs("gpu-eks", cluster_arn, oidc, issuer, KEY)),
        "lepton:aws:Karpenter",
    )
    assert children(group.resources, "lepton:aws:EfaSecurityGroup") == python_children(
        lambda: AwsEfaSecurityGroup("gpu", AwsEfaSecurityGroupArgs("vpc-1")), "lepton:aws:EfaSecurityGroup"
    )
    assert set(karpenter.state) == {"controllerRoleArn", "nodeRoleName", "queueName"}
    assert set(group.state) == {"securityGroupId"}


def test_the_karpenter_docs_name_the_chart_version_the_site_installs(schema: dict[str, object]) -> None:
    from lepton_infra.components.aws.karpenter import KARPENTER_REPOSITORY, KARPENTER_VERSION

    resources = schema["resources"]
    assert isinstance(resources, dict)
    description = resources["lepton-infra:index:AwsKarpenter"]["description"]
    assert f"version {KARPENTER_VERSION} from {KARPENTER_REPOSITORY}" in description


def test_what_the_key_must_wait_for_is_the_components_own_depends_on(engine: FakeEngine) -> None:
    """The service-linked role a key policy names must exist first, or KMS refuses the policy (an invalid
    principal: GoogleCloudPlatform/anthos-samples#357). The package offers no ``dependsOn`` input for it: the
    program's ``dependsOn`` option reaches the component, which the engine registers after it."""
    role_urn, _ = engine.register(
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        "autoscaling",
        {"awsServiceName": "autoscaling.amazonaws.com"},
    )
    built = engine.construct(
        "lepton-infra:index:AwsKmsKey",
        "site",
        {"description": "site key", "alias": "lepton-site"},
        depends_on=[role_urn],
    )
    (component,) = [r for r in built.resources if r.type == "lepton-infra:index:AwsKmsKey"]
    assert component.parent == STACK_URN
    assert role_urn in component.dependencies
    (key,) = [r for r in built.resources if r.type == "aws:kms/key:Key"]
    inner = next(r for r in built.resources if r.urn == key.parent)
    assert inner.parent == component.urn
