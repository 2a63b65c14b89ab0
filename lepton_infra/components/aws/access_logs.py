"""AwsAccessLogBucket: the S3 bucket a site's artifact bucket delivers its server access logs to.

S3 only delivers to a target that it can write to, so this bucket differs from the artifact bucket in
exactly the ways the service demands (each with its source below); everything else is as hardened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.bucket_parts import (
    deny_insecure_transport,
    encrypted_by_default,
    expiring,
    private,
    versioned,
)
from lepton_infra.components.aws.policy_documents import Statement, policy_document
from lepton_infra.validation import at, at_least

# The service principal that writes server access logs; permissions go through the bucket policy, since an
# owner-enforced bucket has no ACLs to grant the old Log Delivery group
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html, "Permissions
# for log delivery").
LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com"


@dataclass(frozen=True)
class AwsAccessLogBucketArgs:
    """The inputs of an AwsAccessLogBucket."""

    source_bucket_arn: pulumi.Input[str]
    """ARN of the one bucket whose logs this bucket receives: the bucket policy lets S3 log delivery write
    here only on that bucket's behalf (``aws:SourceArn``) and for this account (``aws:SourceAccount``)."""
    prefix: str = "artifacts/"
    """Key prefix the source's logs are delivered under; log delivery may write nowhere else."""
    retention_days: int = 365
    """Days a log object is kept before S3 expires it (a year covers most audit requirements)."""
    protect: bool = True
    """Protect the bucket from deletion by Pulumi, as the artifact bucket is: its logs are the audit trail."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the bucket, besides the provider's default tags."""

    def __post_init__(self) -> None:
        # S3 lifecycle rules: "Days ... must be a positive integer" (Amazon S3 API reference,
        # LifecycleExpiration).
        refuse_args(self, at("retention_days", at_least(self.retention_days, 1, "day")))


class AwsAccessLogBucket(pulumi.ComponentResource):
    """An S3 bucket for server access logs: owner-enforced ownership (no ACLs), all four public-access
    blocks, versioning, SSE-S3 default encryption, logs expired after ``retention_days``, and a policy that
    refuses requests without TLS and lets S3 log delivery write only the source bucket's logs.

    Defaults set by what log delivery accepts:

    - SSE-S3 (AES256), not the site's KMS key: "You can use default bucket encryption on the destination
      bucket only if you use server-side encryption with Amazon S3 managed keys (SSE-S3) ... Default
      server-side encryption with AWS KMS keys (SSE-KMS) is not supported" (Amazon S3 user guide, Enabling
      server access logging; awsdocs/amazon-s3-developer-guide#38: KMS for log delivery "is not officially
      supported"; airbnb/binaryalert#122: delivery stopped under SSE-KMS).
    - No Object Lock: the target "must not have a default retention period configuration" (same page).
    - No access logging of its own: "Your target bucket should not have server access logging enabled"
      (same page); the site's log bucket logging into itself would log every delivery in a loop.
    """

    arn: pulumi.Output[str]
    """ARN of the log bucket."""
    bucket_name: pulumi.Output[str]
    """The bucket's name, generated from the component's name (S3 names are global)."""
    prefix: str
    """Where the source's logs go: ``BucketLogging.target_prefix``."""

    def __init__(
        self, name: str, args: AwsAccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:AccessLogBucket", name, None, opts)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            aws.s3.BucketArgs(bucket_prefix=f"{name}-"[:37], force_destroy=False, tags=dict(args.tags)),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        blocks = private(name, bucket, self)
        versioned(name, bucket, self)
        encrypted_by_default(name, bucket, self, kms_key_arn=None)
        # Versioning keeps a deleted log for 30 days (tamper evidence), not for ever.
        expiring(
            name, bucket, self, rule_id="expire-logs", noncurrent_days=30, current_days=args.retention_days
        )
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=bucket.id,
                policy=policy_document(
                    deny_insecure_transport(bucket),
                    # The statement of the S3 user guide ("Grant permissions to the logging service
                    # principal by using a bucket policy"), narrowed to one source bucket and prefix.
                    Statement(
                        sid="S3ServerAccessLogsPolicy",
                        actions=["s3:PutObject"],
                        resources=[pulumi.Output.concat(bucket.arn, "/", args.prefix, "*")],
                        principals={"Service": LOG_DELIVERY_PRINCIPAL},
                        conditions={
                            "ArnLike": {"aws:SourceArn": args.source_bucket_arn},
                            "StringEquals": {"aws:SourceAccount": account},
                        },
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=blocks),
        )
        self.arn = bucket.arn
        self.bucket_name = bucket.bucket
        self.prefix = args.prefix
        self.register_outputs({"arn": self.arn, "bucket_name": self.bucket_name})
