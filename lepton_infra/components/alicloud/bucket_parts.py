"""The settings every OSS bucket of a site shares: private ACL, public access blocked, versions kept, TLS
only.

The artifact bucket and the access-log bucket both take them from here, so a hardening added to one reaches
the other.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.policy_documents import RamStatement, ram_policy


def zone_redundant_bucket(
    name: str,
    parent: pulumi.Resource,
    *,
    bucket_name: pulumi.Input[str],
    lifecycle: alicloud.oss.BucketLifecycleRuleArgs,
    protect: bool,
    tags: Mapping[str, str],
) -> alicloud.oss.Bucket:
    """A Standard, zone-redundant OSS bucket with one lifecycle rule, which Pulumi never deletes with its
    objects (``force_destroy`` off) and, with ``protect``, not at all."""
    return alicloud.oss.Bucket(
        f"{name}-bucket",
        alicloud.oss.BucketArgs(
            bucket=bucket_name,
            storage_class="Standard",
            redundancy_type="ZRS",
            force_destroy=False,
            lifecycle_rules=[lifecycle],
            tags=dict(tags),
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )


def private_versioned_tls_only(
    name: str, bucket: alicloud.oss.Bucket, account_id: pulumi.Input[str], parent: pulumi.Resource
) -> None:
    """A private ACL, the public-access block, versioning, and a bucket policy that refuses every request
    to the bucket or its objects made without TLS, on ``bucket``."""
    child = pulumi.ResourceOptions(parent=parent)
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
    resource = pulumi.Output.concat("acs:oss:*:", account_id, ":", bucket.id)
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
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]),
    )
