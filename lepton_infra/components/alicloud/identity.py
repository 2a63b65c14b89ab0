"""RAM: one role per workload service account, assumable only through the cluster's RRSA OIDC provider."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.policy_documents import RamStatement, ram_policy
from lepton_infra.components.workload_identity import service_account_subject

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
    role_name: str
    # The cluster's ``rrsa_metadata``: the RAM OIDC provider ARN and the token issuer URL.
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    namespace: str
    service_account: str
    account_id: pulumi.Input[str]
    region: str
    bucket_name: pulumi.Input[str] | None = None
    registry_instance_id: pulumi.Input[str] | None = None
    # Repository paths "<namespace>/<repository>" in the registry instance.
    repositories: Sequence[str] = ()
    kms_key_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class AlicloudWorkloadRole(pulumi.ComponentResource):
    """A RAM role for one Kubernetes service account (RRSA).

    The trust policy accepts only tokens from the cluster's OIDC provider whose issuer is the cluster's,
    whose audience is ``sts.aliyuncs.com`` and whose subject is exactly
    ``system:serviceaccount:<namespace>:<name>``. Permissions: read/write objects in the artifact bucket,
    pull the site's repositories, and use the site key for those objects; every grant names its resource.
    """

    arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

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
