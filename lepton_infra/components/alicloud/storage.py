"""The OSS bucket for checkpoints and models, private and encrypted with the site's key.

The AlicloudArtifactBucket component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.policy_documents import RamStatement, ram_policy


@dataclass(frozen=True)
class AlicloudArtifactBucketArgs:
    # OSS names are global: 3 to 63 lowercase letters, digits and hyphens.
    bucket_name: pulumi.Input[str]
    account_id: pulumi.Input[str]
    kms_key_id: pulumi.Input[str]
    # Old checkpoint versions pile up fast; noncurrent versions expire after this many days.
    noncurrent_version_expiry_days: int = 30
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class AlicloudArtifactBucket(pulumi.ComponentResource):
    """A zone-redundant OSS bucket with a private ACL, public access blocked, versioning, SSE-KMS with the
    site's key, and a bucket policy that refuses every request made without TLS."""

    bucket_name: pulumi.Output[str]
    uri: pulumi.Output[str]
    endpoint: pulumi.Output[str]

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
