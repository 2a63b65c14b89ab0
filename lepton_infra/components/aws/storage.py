"""AwsArtifactBucket: the S3 bucket for checkpoints and models, private and encrypted with the site's key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.access_logs import AwsAccessLogBucket, AwsAccessLogBucketArgs
from lepton_infra.components.aws.bucket_parts import (
    deny_insecure_transport,
    encrypted_by_default,
    expiring,
    private,
    versioned,
)
from lepton_infra.components.aws.policy_documents import policy_document
from lepton_infra.validation import at, at_least


@dataclass(frozen=True)
class AwsArtifactBucketArgs:
    """The inputs of an AwsArtifactBucket."""

    kms_key_arn: pulumi.Input[str]
    """ARN of the KMS key every object is encrypted with (SSE-KMS, with a bucket key to cut KMS requests),
    e.g. an AwsKmsKey's ``arn``."""
    noncurrent_version_expiry_days: int = 30
    """Days an overwritten or deleted object's old version is kept before S3 expires it. Versioning makes a
    checkpoint overwritten by mistake recoverable; old versions pile up fast, so they do not live forever."""
    access_log_retention_days: int = 365
    """Days the bucket's server access logs are kept in the site's log bucket before S3 expires them."""
    protect: bool = True
    """Protect the bucket from deletion by Pulumi, so a `pulumi destroy` or a removed component cannot delete
    checkpoints and models (S3 also refuses to delete a bucket that holds objects: ``force_destroy`` is
    off)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the bucket, besides the provider's default tags."""

    def __post_init__(self) -> None:
        # S3 lifecycle rules: "NoncurrentDays ... must be a positive integer" (Amazon S3 API reference,
        # NoncurrentVersionExpiration).
        refuse_args(
            self,
            [
                *at(
                    "noncurrent_version_expiry_days", at_least(self.noncurrent_version_expiry_days, 1, "day")
                ),
                *at("access_log_retention_days", at_least(self.access_log_retention_days, 1, "day")),
            ],
        )


class AwsArtifactBucket(pulumi.ComponentResource):
    """An S3 bucket with versioning, SSE-KMS with a bucket key, all four public-access blocks,
    owner-enforced object ownership (no ACLs) and a policy that refuses any request without TLS.

    Its server access logs go to an :class:`AwsAccessLogBucket` it creates beside it (under
    ``artifacts/``), so who read or changed a checkpoint can be traced."""

    arn: pulumi.Output[str]
    """ARN of the bucket: what an IAM policy grants access to (``<arn>/*`` for its objects)."""
    bucket_name: pulumi.Output[str]
    """The bucket's name, generated from the component's name (S3 names are global)."""
    access_log_bucket_name: pulumi.Output[str]
    """The name of the bucket its server access logs are delivered to."""
    uri: pulumi.Output[str]
    """The bucket as fsspec and the trainer address it: ``s3://<bucket_name>``. A workload's checkpoints go
    under it (``components/kubernetes/checkpoints.py``)."""

    def __init__(
        self, name: str, args: AwsArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:ArtifactBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            aws.s3.BucketArgs(bucket_prefix=f"{name}-"[:37], force_destroy=False, tags=dict(args.tags)),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        blocks = private(name, bucket, self)
        versioned(name, bucket, self)
        encrypted_by_default(name, bucket, self, args.kms_key_arn)
        expiring(
            name,
            bucket,
            self,
            rule_id="expire-noncurrent-versions",
            noncurrent_days=args.noncurrent_version_expiry_days,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            aws.s3.BucketPolicyArgs(
                bucket=bucket.id, policy=policy_document(deny_insecure_transport(bucket))
            ),
            # A bucket policy is refused while the public-access block is being set; order them.
            opts=pulumi.ResourceOptions(parent=self, depends_on=blocks),
        )
        logs = AwsAccessLogBucket(
            f"{name}-access-logs",
            AwsAccessLogBucketArgs(
                source_bucket_arn=bucket.arn,
                retention_days=args.access_log_retention_days,
                protect=args.protect,
                tags=args.tags,
            ),
            opts=child,
        )
        # No target grants: S3 refuses them for an owner-enforced target ("AccessControlListNotSupported:
        # Target grants not allowed for bucket owner enforced buckets",
        # hashicorp/terraform-provider-aws#31771); the log bucket's policy grants delivery instead. After
        # that policy, so the first logs are accepted.
        aws.s3.BucketLogging(
            f"{name}-access-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=bucket.id, target_bucket=logs.bucket_name, target_prefix=logs.prefix
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
        self.arn = bucket.arn
        self.bucket_name = bucket.bucket
        self.access_log_bucket_name = logs.bucket_name
        self.uri = pulumi.Output.concat("s3://", bucket.bucket)
        self.register_outputs(
            {
                "arn": self.arn,
                "bucket_name": self.bucket_name,
                "uri": self.uri,
                "access_log_bucket_name": self.access_log_bucket_name,
            }
        )
