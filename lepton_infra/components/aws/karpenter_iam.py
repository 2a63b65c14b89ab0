"""The IAM policy of Karpenter's controller, from Karpenter v1.14's CloudFormation (aws/karpenter-provider-aws
``website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml``), narrowed to
one site: every launch, tag and delete is conditioned on the cluster's tags, the controller passes only its
node role and reads only its queue; beyond upstream, it may use the site key, only through EC2, for the
encrypted root volumes of the nodes it launches (without it they "terminate almost immediately", Karpenter
v1.14 troubleshooting guide). No zonal-shift statement: the site does not turn zonal shift on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lepton_infra.components.aws.keys import KEY_USE
from lepton_infra.components.aws.policy_documents import Statement, policy_document


def controller_policy(
    scope: ControllerScope,
    *,
    cluster_arn: pulumi.Input[str],
    node_role_arn: pulumi.Input[str],
    queue_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
) -> pulumi.Output[str]:
    """The controller's whole policy document."""
    return policy_document(
        *_launch_statements(scope),
        *_instance_profile_statements(scope, node_role_arn),
        *_read_statements(scope, cluster_arn, queue_arn),
        _node_volume_key_statement(scope, kms_key_arn),
    )


@dataclass(frozen=True)
class ControllerScope:
    """Where the controller acts: its cluster, in its partition, region and account."""

    cluster: str
    partition: pulumi.Output[str]
    region: pulumi.Output[str]
    account: pulumi.Output[str]

    def ec2(self, resource: str, account: bool = True) -> pulumi.Output[str]:
        owner = self.account if account else ""
        return pulumi.Output.concat("arn:", self.partition, ":ec2:", self.region, ":", owner, ":", resource)

    def iam(self, resource: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", self.partition, ":iam::", self.account, ":", resource)

    @property
    def owned(self) -> str:
        return f"kubernetes.io/cluster/{self.cluster}"


_CREATED = (
    "fleet/*",
    "instance/*",
    "volume/*",
    "network-interface/*",
    "launch-template/*",
    "spot-instances-request/*",
)


def _launch_statements(s: ControllerScope) -> list[Statement]:
    created = [s.ec2(r) for r in _CREATED]
    request_tags = {
        "StringEquals": {
            f"aws:RequestTag/{s.owned}": "owned",
            "aws:RequestTag/eks:eks-cluster-name": s.cluster,
        },
        "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
    }
    owned = {
        "StringEquals": {f"aws:ResourceTag/{s.owned}": "owned"},
        "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
    }
    return [
        Statement(
            sid="AllowScopedEC2InstanceAccessActions",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[
                s.ec2("image/*", account=False),
                s.ec2("snapshot/*", account=False),
                s.ec2("security-group/*"),
                s.ec2("subnet/*"),
                s.ec2("capacity-reservation/*"),
                s.ec2("placement-group/*"),
            ],
        ),
        Statement(
            sid="AllowScopedEC2LaunchTemplateAccessActions",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[s.ec2("launch-template/*")],
            conditions=owned,
        ),
        Statement(
            sid="AllowScopedEC2InstanceActionsWithTags",
            actions=["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            resources=created,
            conditions=request_tags,
        ),
        Statement(
            sid="AllowScopedResourceCreationTagging",
            actions=["ec2:CreateTags"],
            resources=created,
            conditions={
                "StringEquals": {
                    **request_tags["StringEquals"],
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": request_tags["StringLike"],
            },
        ),
        Statement(
            sid="AllowScopedResourceTagging",
            actions=["ec2:CreateTags"],
            resources=[s.ec2("instance/*")],
            conditions={
                **owned,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": s.cluster},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        Statement(
            sid="AllowScopedDeletion",
            actions=["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            resources=[s.ec2("instance/*"), s.ec2("launch-template/*")],
            conditions=owned,
        ),
    ]


def _instance_profile_statements(s: ControllerScope, node_role_arn: pulumi.Input[str]) -> list[Statement]:
    profiles = s.iam("instance-profile/*")
    request = {
        f"aws:RequestTag/{s.owned}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": s.cluster,
        "aws:RequestTag/topology.kubernetes.io/region": s.region,
    }
    resource = {
        f"aws:ResourceTag/{s.owned}": "owned",
        "aws:ResourceTag/topology.kubernetes.io/region": s.region,
    }
    return [
        Statement(
            sid="AllowPassingInstanceRole",
            actions=["iam:PassRole"],
            resources=[node_role_arn],
            conditions={
                "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
            },
        ),
        Statement(
            sid="AllowScopedInstanceProfileCreationActions",
            actions=["iam:CreateInstanceProfile"],
            resources=[profiles],
            conditions={
                "StringEquals": request,
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        Statement(
            sid="AllowScopedInstanceProfileTagActions",
            actions=["iam:TagInstanceProfile"],
            resources=[profiles],
            conditions={
                "StringEquals": {**resource, **request},
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        ),
        Statement(
            sid="AllowScopedInstanceProfileActions",
            actions=[
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            resources=[profiles],
            conditions={
                "StringEquals": resource,
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        Statement(
            sid="AllowInstanceProfileReadActions", actions=["iam:GetInstanceProfile"], resources=[profiles]
        ),
    ]


def _read_statements(
    s: ControllerScope, cluster_arn: pulumi.Input[str], queue_arn: pulumi.Input[str]
) -> list[Statement]:
    return [
        Statement(
            sid="AllowAPIServerEndpointDiscovery", actions=["eks:DescribeCluster"], resources=[cluster_arn]
        ),
        Statement(
            sid="AllowInterruptionQueueActions",
            actions=["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            resources=[queue_arn],
        ),
        # These Describe calls accept no resource ARN: "*" narrowed to the site's region.
        Statement(
            sid="AllowRegionalReadActions",
            actions=[
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            resources=["*"],
            conditions={"StringEquals": {"aws:RequestedRegion": s.region}},
        ),
        Statement(
            sid="AllowSSMReadActions",
            actions=["ssm:GetParameter"],
            # AWS's public parameters have no account in their ARNs; "*" matches that empty segment too,
            # and no account may create parameters under /aws/.
            resources=[
                pulumi.Output.concat("arn:", s.partition, ":ssm:", s.region, ":*:parameter/aws/service/*")
            ],
        ),
        # The Price List API has no resource types: "*" is the only resource it accepts.
        Statement(sid="AllowPricingReadActions", actions=["pricing:GetProducts"], resources=["*"]),
        Statement(
            sid="AllowUnscopedInstanceProfileListAction",
            actions=["iam:ListInstanceProfiles"],
            resources=["*"],
        ),
    ]


def _node_volume_key_statement(s: ControllerScope, kms_key_arn: pulumi.Input[str]) -> Statement:
    return Statement(
        sid="UseSiteKeyForNodeVolumesThroughEc2",
        actions=[*KEY_USE, "kms:CreateGrant"],
        resources=[kms_key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": pulumi.Output.concat("ec2.", s.region, ".amazonaws.com")}
        },
    )
