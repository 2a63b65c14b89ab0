"""AlicloudAccessLogBucket: the OSS bucket a site's artifact bucket delivers its access logs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.bucket_parts import private_versioned_tls_only, zone_redundant_bucket
from lepton_infra.components.args import refuse_args
from lepton_infra.validation import at, at_least


@dataclass(frozen=True)
class AlicloudAccessLogBucketArgs:
    """The inputs of an AlicloudAccessLogBucket."""

    bucket_name: pulumi.Input[str]
    """The log bucket's name, global across all accounts: 3 to 63 lowercase letters, digits and hyphens."""
    account_id: pulumi.Input[str]
    """The Alibaba Cloud account ID that owns the bucket: the TLS-only bucket policy names its resources.
    OSS delivers logs only to a bucket of the source's own account and region."""
    prefix: str = "artifacts/"
    """Key prefix the source's logs are delivered under."""
    retention_days: int = 365
    """Days a log object is kept before OSS expires it (a year covers most audit requirements)."""
    protect: bool = True
    """Protect the bucket from deletion by Pulumi, as the artifact bucket is: its logs are the audit trail."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the bucket."""

    def __post_init__(self) -> None:
        refuse_args(self, at("retention_days", at_least(self.retention_days, 1, "day")))


class AlicloudAccessLogBucket(pulumi.ComponentResource):
    """A zone-redundant OSS bucket for access logs: private ACL, public access blocked, versioning,
    OSS-managed encryption (AES256), logs expired after ``retention_days``, and a bucket policy that refuses
    every request made without TLS.

    Defaults set by what log delivery needs:

    - OSS-managed keys, not the site's KMS key: OSS writes logs itself, and a KMS-encrypted target needs a
      logging role (``LoggingRole`` of PutBucketLogging, ``AliyunOSSLoggingDefaultRole``) allowed to use
      the key; without it delivery fails with no error at `pulumi up`. AES256 needs no grant.
    - No access logging of its own: logging a bucket into itself "causes a logging loop" (OSS user guide,
      Log storage, https://www.alibabacloud.com/help/doc-detail/31900.htm).
    - A lifecycle expiry, which that page recommends: "OSS generates log files every hour until you
      disable the log storage feature".
    """

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    prefix: str
    """Where the source's logs go: ``BucketLogging.target_prefix``."""

    def __init__(
        self, name: str, args: AlicloudAccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:AccessLogBucket", name, None, opts)
        bucket = zone_redundant_bucket(
            name,
            self,
            bucket_name=args.bucket_name,
            lifecycle=alicloud.oss.BucketLifecycleRuleArgs(
                id="expire-logs",
                enabled=True,
                prefix="",
                expirations=[alicloud.oss.BucketLifecycleRuleExpirationArgs(days=args.retention_days)],
                # Versioning keeps a deleted log for 30 days (tamper evidence), not for ever.
                noncurrent_version_expirations=[
                    alicloud.oss.BucketLifecycleRuleNoncurrentVersionExpirationArgs(days=30)
                ],
            ),
            protect=args.protect,
            tags=args.tags,
        )
        private_versioned_tls_only(name, bucket, args.account_id, self)
        alicloud.oss.BucketServerSideEncryption(
            f"{name}-encryption",
            alicloud.oss.BucketServerSideEncryptionArgs(bucket=bucket.id, sse_algorithm="AES256"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name = bucket.id
        self.prefix = args.prefix
        self.register_outputs({"bucket_name": self.bucket_name})
