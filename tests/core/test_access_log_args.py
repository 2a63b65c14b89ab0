"""A log retention S3 or OSS would refuse is refused when the Args are built, naming the field.

S3 lifecycle rules: "Days ... must be a positive integer" (Amazon S3 API reference, LifecycleExpiration);
OSS lifecycle rules likewise take a whole number of days from 1.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from lepton_infra.components.alicloud.access_logs import AlicloudAccessLogBucketArgs
from lepton_infra.components.alicloud.storage import AlicloudArtifactBucketArgs
from lepton_infra.components.aws.access_logs import AwsAccessLogBucketArgs
from lepton_infra.components.aws.storage import AwsArtifactBucketArgs

CASES = [
    (AwsArtifactBucketArgs, {"kms_key_arn": "k"}, "access_log_retention_days"),
    (AwsAccessLogBucketArgs, {"source_bucket_arn": "arn:aws:s3:::b"}, "retention_days"),
    (
        AlicloudArtifactBucketArgs,
        {"bucket_name": "lepton-artifacts", "account_id": "5123456789012345", "kms_key_id": "k"},
        "access_log_retention_days",
    ),
    (
        AlicloudAccessLogBucketArgs,
        {"bucket_name": "lepton-logs", "account_id": "5123456789012345"},
        "retention_days",
    ),
]


@pytest.mark.parametrize(("args", "required", "field"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_a_retention_of_no_days_is_refused_by_name(args: Any, required: dict[str, Any], field: str) -> None:
    args(**required, **{field: 1})
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        args(**required, **{field: 0})
    assert [(e["property_path"], e["reason"]) for e in raised.value.errors or []] == [
        (field, "must be at least 1 day, not 0")
    ]
