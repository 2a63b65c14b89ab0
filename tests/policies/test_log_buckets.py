"""A dedicated access-log bucket is judged by what log delivery accepts, and only a dedicated one.

Sources: S3 does not deliver server access logs to a target with default SSE-KMS, and "your target bucket
should not have server access logging enabled" (Amazon S3 user guide, Enabling server access logging,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html); OSS logging a
bucket into itself "causes a logging loop" (OSS user guide, Log storage,
https://www.alibabacloud.com/help/doc-detail/31900.htm). The exemptions these allow must not be had by a
bucket that holds data or by a plan that hides which bucket is the target.
"""

from __future__ import annotations

from typing import Any

import pytest
from policy_fixtures import FIXTURES, config_of, load, plan

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.model import Violation
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()
CLOUDS = {
    # fixture, logging resource, its target's bucket name, the target's encryption, the rules
    "aws": (
        "aws/site.yaml",
        "artifacts-logging",
        "lepton-access-logs",
        "aws-s3-bucket-access-logging",
        "aws-s3-bucket-encrypted-with-customer-key",
    ),
    "alicloud": (
        "alicloud/site.yaml",
        "data-logging",
        "lepton-logs",
        "alicloud-oss-bucket-access-logging",
        "alicloud-oss-bucket-encrypted-with-customer-key",
    ),
}
LOGGING_TYPES = {
    "aws": "aws:s3/bucketLogging:BucketLogging",
    "alicloud": "alicloud:oss/bucketLogging:BucketLogging",
}


def _evaluate(data: dict[str, Any]) -> list[Violation]:
    return evaluate_plan(plan(data), SPECS, config_of(data))


def _named(data: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in data["resources"] if r["name"] == name]
    return dict(found)


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_a_log_bucket_that_also_logs_elsewhere_is_a_data_bucket_and_needs_the_customer_key(
    cloud: str,
) -> None:
    path, logging, target, _, encryption = CLOUDS[cloud]
    data = load(FIXTURES / path)
    # The log bucket sends its own logs on: it is no longer only a target, so it may hold anything.
    onward = {**_named(data, logging), "name": "logs-onward"}
    onward["inputs"] = {"bucket": target, "targetBucket": "lepton-audit", "targetPrefix": "logs/"}
    data["resources"].append(onward)
    found = [(v.policy, v.message) for v in _evaluate(data)]
    assert [p for p, _ in found] == [encryption], found
    assert "customer KMS key" in found[0][1]


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_an_unlogged_bucket_is_undecided_while_a_logging_target_is_a_secret(cloud: str) -> None:
    path, logging, _, access_logging, encryption = CLOUDS[cloud]
    data = load(FIXTURES / path)
    source = next(r for r in data["resources"] if r["name"] == logging)
    source["inputs"]["targetBucket"] = "[secret]"  # how `pulumi preview --json` shows a secret
    found = _evaluate(data)
    # Neither "logging is off" for the log bucket nor "no customer key" for its SSE-S3: the plan does not
    # say whether it is the target. Each rule says it could not decide, as on a value unknown in preview.
    assert {v.policy for v in found} == {access_logging, encryption}
    assert all(
        v.enforcement == "advisory" and "whether it is a log target can't be known" in v.message
        for v in found
    )


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_the_log_bucket_and_its_source_pass_every_rule(cloud: str) -> None:
    path, *_ = CLOUDS[cloud]
    assert _evaluate(load(FIXTURES / path)) == []
