"""IAM: service roles for the cluster and nodes, and one IRSA role per workload service account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.policy_documents import Statement, policy_document
from lepton_infra.components.workload_identity import service_account_subject
from lepton_infra.validation import at, kubernetes_name, kubernetes_namespace

# Exactly the managed policies EKS documents for each role; nothing broader.
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


@dataclass(frozen=True)
class ServiceRole:
    """A service role and its policy attachments: whatever uses the role waits for ``ready``, or it may
    start before its permissions exist, and a destroy detaches them while it still needs them (EKS then
    cannot delete the security groups and network interfaces it made; pulumi-aws ``eks.Cluster`` docs)."""

    role: aws.iam.Role
    attachments: tuple[aws.iam.RolePolicyAttachment, ...]

    @property
    def ready(self) -> list[pulumi.Resource]:
        """The role with every policy attached: what a resource using the role depends on."""
        return [self.role, *self.attachments]


def service_role(
    name: str,
    service: str,
    managed_policies: Sequence[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> ServiceRole:
    """A role that only ``service`` (e.g. ``eks.amazonaws.com``) can assume, with AWS-managed policies."""
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    role = aws.iam.Role(
        name,
        aws.iam.RoleArgs(
            assume_role_policy=policy_document(
                Statement(
                    sid="ServiceAssumesRole", actions=["sts:AssumeRole"], principals={"Service": service}
                )
            ),
            tags=dict(tags),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    attachments = tuple(
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            aws.iam.RolePolicyAttachmentArgs(
                role=role.name,
                policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for policy in managed_policies
    )
    return ServiceRole(role, attachments)


@dataclass(frozen=True)
class AwsWorkloadRoleArgs:
    """The inputs of an AwsWorkloadRole."""

    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider, e.g. an AwsEksCluster's ``oidc_provider_arn``: the only
    principal the role trusts."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without its scheme, e.g. ``oidc.eks.us-west-2.amazonaws.com/id/ABC`` (an
    AwsEksCluster's ``oidc_issuer``): the trust policy's condition keys are named after it."""
    namespace: str
    """Namespace of the service account the role is for."""
    service_account: str
    """Name of the service account the role is for: only a token of ``system:serviceaccount:<namespace>:
    <service_account>`` (audience ``sts.amazonaws.com``) may assume it."""
    bucket_arn: pulumi.Input[str] | None = None
    """An artifact bucket whose objects the workload may list, read, write and delete (an AwsArtifactBucket's
    ``arn``); None grants no S3 access."""
    repository_arns: Sequence[pulumi.Input[str]] = ()
    """ECR repositories the workload may pull from; empty grants no ECR access."""
    kms_key_arn: pulumi.Input[str] | None = None
    """The key the bucket's objects are encrypted with: the workload may decrypt and generate data keys with
    it, nothing else; None grants no KMS access."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role, besides the provider's default tags."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("namespace", kubernetes_namespace(self.namespace)),
                *at("service_account", kubernetes_name(self.service_account)),
            ],
        )


class AwsWorkloadRole(pulumi.ComponentResource):
    """An IAM role for one Kubernetes service account (IRSA).

    The trust policy accepts only web identities from the cluster's OIDC provider whose ``sub`` is
    exactly ``system:serviceaccount:<namespace>:<name>`` and whose ``aud`` is ``sts.amazonaws.com``.
    Permissions: read/write objects in the artifact bucket, pull from the site's repositories, and use
    the site key for those objects; every grant names its resource.
    """

    arn: pulumi.Output[str]
    """ARN of the role: the service account's ``eks.amazonaws.com/role-arn`` annotation."""
    role_name: pulumi.Output[str]
    """Name of the role (generated), for attaching further policies."""

    def __init__(
        self, name: str, args: AwsWorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:WorkloadRole", name, None, opts)
        issuer = pulumi.Output.from_input(args.oidc_issuer)
        subject = service_account_subject(args.namespace, args.service_account)
        trust = policy_document(
            Statement(
                sid="ServiceAccountAssumesRoleThroughClusterOidc",
                actions=["sts:AssumeRoleWithWebIdentity"],
                principals={"Federated": args.oidc_provider_arn},
                conditions={
                    "StringEquals": issuer.apply(
                        lambda i: {f"{i}:sub": subject, f"{i}:aud": "sts.amazonaws.com"}
                    )
                },
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                assume_role_policy=trust,
                description=f"IRSA role of {args.namespace}/{args.service_account}",
                max_session_duration=3600,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        statements = _permissions(args)
        if statements:
            aws.iam.RolePolicy(
                f"{name}-access",
                aws.iam.RolePolicyArgs(role=role.id, policy=policy_document(*statements)),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = role.arn
        self.role_name = role.name
        self.register_outputs({"arn": self.arn, "role_name": self.role_name})


def _permissions(args: AwsWorkloadRoleArgs) -> list[Statement]:
    statements: list[Statement] = []
    if args.bucket_arn is not None:
        objects = pulumi.Output.concat(args.bucket_arn, "/*")
        statements += [
            Statement(
                sid="ListArtifactBucket",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[args.bucket_arn],
            ),
            Statement(
                sid="ReadWriteArtifacts",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[objects],
            ),
        ]
    if args.repository_arns:
        statements += [
            # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
            Statement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            Statement(
                sid="PullSiteImages",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=list(args.repository_arns),
            ),
        ]
    if args.kms_key_arn is not None:
        statements.append(
            Statement(
                sid="UseSiteKeyForArtifacts",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[args.kms_key_arn],
            )
        )
    return statements
