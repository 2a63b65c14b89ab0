"""The OSS bucket for checkpoints and models, private and encrypted with the site's key.

The AlicloudArtifactBucket component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.access_logs import AlicloudAccessLogBucket, AlicloudAccessLogBucketArgs
from lepton_infra.components.alicloud.bucket_parts import private_versioned_tls_only, zone_redundant_bucket
from lepton_infra.components.args import refuse_args
from lepton_infra.validation import at, at_least, oss_bucket_name


@dataclass(frozen=True)
class AlicloudArtifactBucketArgs:
    """The inputs of an AlicloudArtifactBucket."""

    bucket_name: pulumi.Input[str]
    """The bucket's name, global across all accounts: 3 to 63 lowercase letters, digits and hyphens."""
    account_id: pulumi.Input[str]
    """The Alibaba Cloud account ID that owns the bucket: the TLS-only bucket policy names its resources."""
    kms_key_id: pulumi.Input[str]
    """ID of the KMS key every object is encrypted with (SSE-KMS), e.g. an AlicloudKmsKey's ``key_id``."""
    noncurrent_version_expiry_days: int = 30
    """Days an overwritten or deleted object's old version is kept before OSS expires it. Versioning makes a
    checkpoint overwritten by mistake recoverable; old versions pile up fast, so they do not live forever."""
    access_log_retention_days: int = 365
    """Days the bucket's access logs are kept in the site's log bucket before OSS expires them."""
    protect: bool = True
    """Protect the bucket from deletion by Pulumi (OSS also refuses to delete a bucket that holds objects:
    ``force_destroy`` is off)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the bucket."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("bucket_name", oss_bucket_name(self.bucket_name)),
                *at(
                    "noncurrent_version_expiry_days", at_least(self.noncurrent_version_expiry_days, 1, "day")
                ),
                *at("access_log_retention_days", at_least(self.access_log_retention_days, 1, "day")),
            ],
        )


class AlicloudArtifactBucket(pulumi.ComponentResource):
    """A zone-redundant OSS bucket with a private ACL, public access blocked, versioning, SSE-KMS with the
    site's key, and a bucket policy that refuses every request made without TLS.

    Its access logs go to an :class:`AlicloudAccessLogBucket` it creates beside it (under ``artifacts/``),
    so who read or changed a checkpoint can be traced."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    access_log_bucket_name: pulumi.Output[str]
    """The name of the bucket its access logs are delivered to."""
    uri: pulumi.Output[str]
    """The bucket as fsspec (ossfs) and the trainer address it: ``oss://<bucket_name>``."""
    endpoint: pulumi.Output[str]
    """The region's internal OSS endpoint over HTTPS (``https://oss-<region>-internal.aliyuncs.com``): what
    ossfs reads from ``OSS_ENDPOINT`` in pods, beside ``uri``; the bucket policy refuses plain HTTP."""

    def __init__(
        self, name: str, args: AlicloudArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:ArtifactBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = zone_redundant_bucket(
            name,
            self,
            bucket_name=args.bucket_name,
            lifecycle=alicloud.oss.BucketLifecycleRuleArgs(
                id="expire-noncurrent-versions",
                enabled=True,
                prefix="",
                noncurrent_version_expirations=[
                    alicloud.oss.BucketLifecycleRuleNoncurrentVersionExpirationArgs(
                        days=args.noncurrent_version_expiry_days
                    )
                ],
                abort_multipart_uploads=[alicloud.oss.BucketLifecycleRuleAbortMultipartUploadArgs(days=7)],
            ),
            protect=args.protect,
            tags=args.tags,
        )
        private_versioned_tls_only(name, bucket, args.account_id, self)
        alicloud.oss.BucketServerSideEncryption(
            f"{name}-encryption",
            alicloud.oss.BucketServerSideEncryptionArgs(
                bucket=bucket.id, sse_algorithm="KMS", kms_master_key_id=args.kms_key_id
            ),
            opts=child,
        )
        logs = AlicloudAccessLogBucket(
            f"{name}-access-logs",
            AlicloudAccessLogBucketArgs(
                # OSS names are global and at most 63 characters: the artifact bucket's name, shortened.
                bucket_name=pulumi.Output.from_input(args.bucket_name).apply(
                    lambda n: f"{n[:58].rstrip('-')}-logs"
                ),
                account_id=args.account_id,
                retention_days=args.access_log_retention_days,
                protect=args.protect,
                tags=args.tags,
            ),
            opts=child,
        )
        # No logging role: OSS delivers to a bucket of the same account and region without one
        # (PutBucketLogging, https://help.aliyun.com/en/oss/developer-reference/putbucketlogging); the
        # log bucket's OSS-managed encryption needs no KMS grant for delivery either.
        alicloud.oss.BucketLogging(
            f"{name}-access-logging",
            alicloud.oss.BucketLoggingInitArgs(
                bucket=bucket.id, target_bucket=logs.bucket_name, target_prefix=logs.prefix
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
        self.bucket_name = bucket.id
        self.uri = pulumi.Output.concat("oss://", bucket.id)
        # ossfs reads its endpoint from OSS_ENDPOINT; https, as the bucket policy refuses plain HTTP.
        self.endpoint = pulumi.Output.concat("https://", bucket.intranet_endpoint)
        self.access_log_bucket_name = logs.bucket_name
        self.register_outputs(
            {"bucket_name": self.bucket_name, "uri": self.uri, "access_log_bucket_name": logs.bucket_name}
        )
