"""The site's customer-managed key, for EKS secrets, EBS volumes, ECR, S3 and control-plane logs.

The AwsKmsKey component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.policy_documents import Statement, policy_document
from lepton_infra.validation import at, kms_alias, name_length

# What a service needs to encrypt and decrypt with the key (and describe it); grants come separately.
KEY_USE = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


@dataclass(frozen=True)
class AwsKmsKeyArgs:
    """The inputs of an AwsKmsKey."""

    description: str
    """What the key protects, as the KMS console shows it (at most 8,192 characters)."""
    alias: str
    """The key's alias without the ``alias/`` prefix (added here), e.g. ``lepton-aws-usw2``: letters, digits,
    ``/``, ``_`` and ``-``; ``aws/...`` is reserved for AWS managed keys."""
    allow_cloudwatch_logs: bool = True
    """Let CloudWatch Logs in this region encrypt this account's log groups with the key (the EKS
    control-plane and VPC flow-log groups), and nothing else of CloudWatch's."""
    allow_autoscaling: bool = True
    """Let EC2 Auto Scaling launch nodes whose EBS volumes use the key, which managed node groups need. The
    policy then names the account's AutoScaling service-linked role, which must exist when the key is created
    (KMS refuses a policy with an unknown principal): create it first (``service_linked_roles.py``) and name
    it in ``depends_on``."""
    protect: bool = True
    """Protect the key from deletion by Pulumi. A deleted key makes everything encrypted with it unreadable
    (after KMS's 30-day deletion window): cluster secrets, volumes, images, checkpoints and logs."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the key: the service-linked role its policy names, where this stack makes it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the key, besides the provider's default tags."""

    def __post_init__(self) -> None:
        # "Description ... Length Constraints: Minimum length of 0. Maximum length of 8192" (KMS API
        # reference, CreateKey).
        refuse_args(
            self,
            [*at("description", name_length(self.description, 0, 8192)), *at("alias", kms_alias(self.alias))],
        )


class AwsKmsKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation, a 30-day deletion window and an alias.

    The key policy names only this account's root (so IAM policies decide access) and the AWS services
    that must use it; it never grants a ``*`` principal.
    """

    arn: pulumi.Output[str]
    """ARN of the key: what the cluster, node volumes, registry, bucket and log groups are encrypted with."""
    key_id: pulumi.Output[str]
    """The key's ID (a UUID)."""
    alias_name: pulumi.Output[str]
    """The key's alias, ``alias/<alias>``."""

    def __init__(self, name: str, args: AwsKmsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:aws:KmsKey", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        account_root = pulumi.Output.concat("arn:", partition, ":iam::", identity.account_id, ":root")

        statements = [
            Statement(
                sid="AccountAdministersKeyThroughIam",
                actions=["kms:*"],
                resources=["*"],  # in a key policy, "*" means this key
                principals={"AWS": account_root},
            )
        ]
        if args.allow_autoscaling:
            autoscaling_role = pulumi.Output.concat(
                "arn:",
                partition,
                ":iam::",
                identity.account_id,
                ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
            )
            statements += [
                Statement(
                    sid="AutoScalingUsesKeyForNodeVolumes",
                    actions=KEY_USE,
                    resources=["*"],
                    principals={"AWS": autoscaling_role},
                ),
                Statement(
                    sid="AutoScalingGrantsForAttachedVolumes",
                    actions=["kms:CreateGrant"],
                    resources=["*"],
                    principals={"AWS": autoscaling_role},
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
            ]
        if args.allow_cloudwatch_logs:
            logs = pulumi.Output.concat("logs.", region, ".amazonaws.com")
            log_groups = pulumi.Output.concat(
                "arn:", partition, ":logs:", region, ":", identity.account_id, ":log-group:*"
            )
            statements += [
                Statement(
                    sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                    actions=[
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                        "kms:GenerateDataKey",
                    ],
                    resources=["*"],
                    principals={"Service": logs},
                    conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                ),
                # DescribeKey carries no encryption context, so it is scoped by the calling account instead.
                Statement(
                    sid="CloudWatchLogsDescribesKey",
                    actions=["kms:DescribeKey"],
                    resources=["*"],
                    principals={"Service": logs},
                    conditions={"StringEquals": {"aws:SourceAccount": identity.account_id}},
                ),
            ]

        key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=args.description,
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=30,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                policy=policy_document(*statements),
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.depends_on)),
        )
        alias = aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=f"alias/{args.alias}", target_key_id=key.key_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs({"arn": self.arn, "key_id": self.key_id, "alias_name": self.alias_name})
