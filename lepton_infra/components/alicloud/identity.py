"""RAM: one role per workload service account, assumable only through the cluster's RRSA OIDC provider."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.policy_documents import RamStatement, ram_policy
from lepton_infra.components.args import refuse_args
from lepton_infra.components.workload_identity import service_account_subject
from lepton_infra.validation import at, kubernetes_name, kubernetes_namespace, ram_role_name

# The audience ACK's RRSA tokens carry, as ACK's RRSA guide writes it in every trust policy.
RRSA_AUDIENCE = "sts.aliyuncs.com"
_MAX_ROLE_NAME = 64
_OBJECT_ACTIONS = (
    "oss:GetObject",
    "oss:PutObject",
    "oss:DeleteObject",
    "oss:AbortMultipartUpload",
    "oss:ListParts",
)


def role_name(prefix: str, namespace: str, service_account: str) -> str:
    """A RAM role name (at most 64 characters) that still tells which service account it serves."""
    name = f"{prefix}-{namespace}-{service_account}"
    if len(name) <= _MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_ROLE_NAME - 9]}-{digest}"


@dataclass(frozen=True)
class AlicloudWorkloadRoleArgs:
    """The inputs of an AlicloudWorkloadRole."""

    role_name: str
    """The RAM role's name, 1 to 64 letters, digits, ``.`` and ``-`` (``role_name()`` makes one from the
    service account that still says which it serves). Its policy is named ``<role_name>-access``."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's RAM OIDC provider, from the cluster's ``rrsa_metadata`` (an AlicloudAckCluster's
    ``oidc_provider_arn``): the only principal the role trusts."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's token issuer URL, from its ``rrsa_metadata`` (an AlicloudAckCluster's
    ``oidc_issuer_url``): tokens of another issuer are refused."""
    namespace: str
    """Namespace of the service account the role is for."""
    service_account: str
    """Name of the service account the role is for: only a token whose subject is
    ``system:serviceaccount:<namespace>:<service_account>`` (audience ``sts.aliyuncs.com``) may assume it."""
    account_id: pulumi.Input[str]
    """The Alibaba Cloud account ID: the ARNs of the bucket and repositories are named with it."""
    region: str
    """The region of the registry, e.g. ``cn-hangzhou``."""
    bucket_name: pulumi.Input[str] | None = None
    """An artifact bucket whose objects the workload may list, read, write and delete (an
    AlicloudArtifactBucket's ``bucket_name``); None grants no OSS access."""
    registry_instance_id: pulumi.Input[str] | None = None
    """The Enterprise Edition instance of ``repositories`` (an AlicloudContainerRegistry's ``instance_id``);
    None grants no registry access."""
    repositories: Sequence[str] = ()
    """Repository paths ``<namespace>/<repository>`` in that instance the workload may pull from."""
    kms_key_arn: pulumi.Input[str] | None = None
    """The key the bucket's objects are encrypted with: the workload may generate data keys and decrypt with
    it, nothing else (OSS uses the caller's KMS rights under SSE-KMS); None grants no KMS access."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role and its policy."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("role_name", ram_role_name(self.role_name)),
                *at("namespace", kubernetes_namespace(self.namespace)),
                *at("service_account", kubernetes_name(self.service_account)),
            ],
        )


class AlicloudWorkloadRole(pulumi.ComponentResource):
    """A RAM role for one Kubernetes service account (RRSA).

    The trust policy accepts only tokens from the cluster's OIDC provider whose issuer is the cluster's,
    whose audience is ``sts.aliyuncs.com`` and whose subject is exactly
    ``system:serviceaccount:<namespace>:<name>``. Permissions: read/write objects in the artifact bucket,
    pull the site's repositories, and use the site key for those objects; every grant names its resource.
    """

    arn: pulumi.Output[str]
    """ARN of the role (``acs:ram::<account>:role/<name>``)."""
    role_name: pulumi.Output[str]
    """Name of the role: the service account's ``pod-identity.alibabacloud.com/role-name`` annotation."""

    def __init__(
        self, name: str, args: AlicloudWorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:WorkloadRole", name, None, opts)
        subject = service_account_subject(args.namespace, args.service_account)
        trust = ram_policy(
            RamStatement(
                actions=["sts:AssumeRole"],
                principals={"Federated": [args.oidc_provider_arn]},
                conditions={
                    "StringEquals": {
                        "oidc:aud": RRSA_AUDIENCE,
                        "oidc:iss": args.oidc_issuer_url,
                        "oidc:sub": subject,
                    }
                },
            )
        )
        role = alicloud.ram.Role(
            f"{name}-role",
            alicloud.ram.RoleArgs(
                role_name=args.role_name,
                assume_role_policy_document=trust,
                description=f"RRSA role of {args.namespace}/{args.service_account}",
                max_session_duration=3600,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        statements = _permissions(args)
        if statements:
            policy = alicloud.ram.Policy(
                f"{name}-access",
                alicloud.ram.PolicyArgs(
                    policy_name=f"{args.role_name}-access",
                    policy_document=ram_policy(*statements),
                    description=f"what {args.namespace}/{args.service_account} may do",
                    # RAM keeps at most five versions of a policy: drop the oldest, do not fail the update.
                    rotate_strategy="DeleteOldestNonDefaultVersionWhenLimitExceeded",
                    tags=dict(args.tags),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            alicloud.ram.RolePolicyAttachment(
                f"{name}-access",
                alicloud.ram.RolePolicyAttachmentArgs(
                    role_name=role.role_name, policy_name=policy.policy_name, policy_type="Custom"
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = role.arn
        self.role_name = role.role_name
        self.register_outputs({"arn": self.arn, "role_name": self.role_name})


def _permissions(args: AlicloudWorkloadRoleArgs) -> list[RamStatement]:
    statements: list[RamStatement] = []
    if args.bucket_name is not None:
        bucket = pulumi.Output.concat("acs:oss:*:", args.account_id, ":", args.bucket_name)
        statements += [
            RamStatement(actions=["oss:ListObjects", "oss:GetBucketInfo"], resources=[bucket]),
            RamStatement(actions=_OBJECT_ACTIONS, resources=[pulumi.Output.concat(bucket, "/*")]),
        ]
    if args.registry_instance_id is not None and args.repositories:
        statements += [
            # ACR's RAM reference lists GetAuthorizationToken with "*" as its only resource.
            RamStatement(actions=["cr:GetAuthorizationToken"], resources=["*"]),
            RamStatement(
                actions=["cr:PullRepository"],
                resources=[
                    pulumi.Output.concat("acs:cr:", args.region, ":", args.account_id, ":repository/",
                                         args.registry_instance_id, "/", path)
                    for path in args.repositories
                ],
            ),
        ]  # fmt: skip
    if args.kms_key_arn is not None:
        # OSS encrypts and decrypts with the caller's own KMS rights under SSE-KMS with a named key.
        statements.append(
            RamStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[args.kms_key_arn])
        )
    return statements
