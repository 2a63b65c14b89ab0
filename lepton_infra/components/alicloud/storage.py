"""The OSS bucket for checkpoints and models, private and encrypted with the site's key.

The AlicloudArtifactBucket component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.policy_documents import RamStatement, ram_policy
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
            ],
        )


class AlicloudArtifactBucket(pulumi.ComponentResource):
    """A zone-redundant OSS bucket with a private ACL, public access blocked, versioning, SSE-KMS with the
    site's key, and a bucket policy that refuses every request made without TLS."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
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
        bucket = alicloud.oss.Bucket(
            f"{name}-bucket",
            alicloud.oss.BucketArgs(
                bucket=args.bucket_name,
                storage_class="Standard",
                redundancy_type="ZRS",
                force_destroy=False,
                lifecycle_rules=[
                    alicloud.oss.BucketLifecycleRuleArgs(
                        id="expire-noncurrent-versions",
                        enabled=True,
                        prefix="",
                        noncurrent_version_expirations=[
                            alicloud.oss.BucketLifecycleRuleNoncurrentVersionExpirationArgs(
                                days=args.noncurrent_version_expiry_days
                            )
                        ],
                        abort_multipart_uploads=[
                            alicloud.oss.BucketLifecycleRuleAbortMultipartUploadArgs(days=7)
                        ],
                    )
                ],
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        alicloud.oss.BucketAcl(
            f"{name}-acl", alicloud.oss.BucketAclArgs(bucket=bucket.id, acl="private"), opts=child
        )
        public_access = alicloud.oss.BucketPublicAccessBlock(
            f"{name}-public-access",
            alicloud.oss.BucketPublicAccessBlockArgs(bucket=bucket.id, block_public_access=True),
            opts=child,
        )
        alicloud.oss.BucketVersioning(
            f"{name}-versioning",
            alicloud.oss.BucketVersioningInitArgs(bucket=bucket.id, status="Enabled"),
            opts=child,
        )
        alicloud.oss.BucketServerSideEncryption(
            f"{name}-encryption",
            alicloud.oss.BucketServerSideEncryptionArgs(
                bucket=bucket.id, sse_algorithm="KMS", kms_master_key_id=args.kms_key_id
            ),
            opts=child,
        )
        resource = pulumi.Output.concat("acs:oss:*:", args.account_id, ":", bucket.id)
        alicloud.oss.BucketPolicy(
            f"{name}-tls-only",
            alicloud.oss.BucketPolicyArgs(
                bucket=bucket.id,
                policy=ram_policy(
                    RamStatement(
                        effect="Deny",
                        actions=["oss:*"],
                        resources=[resource, pulumi.Output.concat(resource, "/*")],
                        principals=["*"],
                        conditions={"Bool": {"acs:SecureTransport": ["false"]}},
                    )
                ),
            ),
            # A policy naming "*" must not race the public-access block that vets it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.bucket_name = bucket.id
        self.uri = pulumi.Output.concat("oss://", bucket.id)
        # ossfs reads its endpoint from OSS_ENDPOINT; https, as the bucket policy refuses plain HTTP.
        self.endpoint = pulumi.Output.concat("https://", bucket.intranet_endpoint)
        self.register_outputs({"bucket_name": self.bucket_name, "uri": self.uri})
