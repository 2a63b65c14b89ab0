"""The settings every S3 bucket of a site shares: no ACLs, no public access, versions kept, TLS only.

The artifact bucket and the access-log bucket both take them from here, so a hardening added to one reaches
the other.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from lepton_infra.components.aws.policy_documents import Statement


def private(name: str, bucket: aws.s3.Bucket, parent: pulumi.Resource) -> list[pulumi.Resource]:
    """Owner-enforced object ownership (ACLs off) and all four public-access blocks on ``bucket``.

    Returns both resources: a bucket policy must wait for them (S3 refuses a policy while the
    public-access block is being set)."""
    child = pulumi.ResourceOptions(parent=parent)
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        opts=child,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        opts=child,
    )
    return [public_access, ownership]


def versioned(name: str, bucket: aws.s3.Bucket, parent: pulumi.Resource) -> aws.s3.BucketVersioning:
    """Versioning on ``bucket``: an overwritten or deleted object keeps its old version."""
    return aws.s3.BucketVersioning(
        f"{name}-versioning",
        aws.s3.BucketVersioningInitArgs(
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def deny_insecure_transport(bucket: aws.s3.Bucket) -> Statement:
    """The bucket-policy statement that refuses every request to the bucket or its objects without TLS."""
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=["s3:*"],
        resources=[bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
        principals={"AWS": "*"},
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )
