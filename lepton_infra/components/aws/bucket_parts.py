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


def encrypted_by_default(
    name: str, bucket: aws.s3.Bucket, parent: pulumi.Resource, kms_key_arn: pulumi.Input[str] | None
) -> aws.s3.BucketServerSideEncryptionConfiguration:
    """Default encryption of ``bucket``: SSE-KMS with ``kms_key_arn`` and a bucket key, or SSE-S3 (AES256)
    where ``kms_key_arn`` is None."""
    by_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm="AES256" if kms_key_arn is None else "aws:kms", kms_master_key_id=kms_key_arn
    )
    return aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=by_default,
                    # A bucket key cuts KMS requests (and cost) by orders of magnitude for checkpoints.
                    bucket_key_enabled=None if kms_key_arn is None else True,
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def expiring(
    name: str,
    bucket: aws.s3.Bucket,
    parent: pulumi.Resource,
    *,
    rule_id: str,
    noncurrent_days: int,
    current_days: int | None = None,
) -> aws.s3.BucketLifecycleConfiguration:
    """One lifecycle rule over all of ``bucket``: old versions expire after ``noncurrent_days``, current
    objects after ``current_days`` (never where None), and unfinished multipart uploads after 7 days."""
    return aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        aws.s3.BucketLifecycleConfigurationArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule_id,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=None
                    if current_days is None
                    else aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=current_days),
                    noncurrent_version_expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=noncurrent_days
                        )
                    ),
                    abort_incomplete_multipart_upload=(
                        aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        )
                    ),
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
