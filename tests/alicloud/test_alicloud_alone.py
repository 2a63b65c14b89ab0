"""Alibaba Cloud components used one at a time, and a single-cloud stack that loads no other cloud's SDK."""

from __future__ import annotations

import pulumi
from plan_helpers import only

from lepton_infra.plan.engine import record


def test_key_and_bucket_work_without_the_platform_under_the_programs_provider() -> None:
    def program() -> None:
        import pulumi_alicloud as alicloud

        from lepton_infra.components.alicloud import (
            AlicloudArtifactBucket,
            AlicloudArtifactBucketArgs,
            AlicloudKmsKey,
            AlicloudKmsKeyArgs,
        )

        provider = alicloud.Provider("regional", region="ap-southeast-1")
        opts = pulumi.ResourceOptions(provider=provider)
        key = AlicloudKmsKey("team-a", AlicloudKmsKeyArgs(description="team a", alias="team-a"), opts=opts)
        AlicloudArtifactBucket(
            "team-a",
            AlicloudArtifactBucketArgs(
                bucket_name="team-a-artifacts", account_id="5123456789012345", kms_key_id=key.key_id
            ),
            opts=opts,
        )

    plan = record(program, project="alone", stack="dev")
    assert not plan.of_type("lepton:index:Platform")
    encryption = only(
        plan, "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "a-encryption"
    )
    assert encryption.inputs["kmsMasterKeyId"] == only(plan, "alicloud:kms/key:Key").outputs["id"]
    assert encryption.urn.endswith(
        "lepton:alicloud:ArtifactBucket$alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption::team-a-encryption"
    )
    assert all(
        "::regional::" in (r.provider or "")
        for r in plan.custom_resources()
        if r.type.startswith("alicloud:")
    )
