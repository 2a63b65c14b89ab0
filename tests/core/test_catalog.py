"""The accelerator catalog against authorities (the AWS SDK's own instance-type enum)."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from lepton_infra.catalog import (
    Accelerator,
    Cloud,
    default_offering,
    find_offering,
    offerings,
)
from lepton_infra.catalog.aws import AWS_OFFERINGS

SDK_INSTANCE_TYPES = {t.value for t in aws.ec2.InstanceType}
AWS_TYPES = [o for group in AWS_OFFERINGS.values() for o in group]


@pytest.mark.parametrize("offering", AWS_TYPES, ids=lambda o: o.instance_type)
def test_every_aws_type_exists_in_the_sdk_enum(offering) -> None:  # type: ignore[no-untyped-def]
    assert offering.instance_type in SDK_INSTANCE_TYPES


def test_aws_carries_the_families_users_expect() -> None:
    families = {o.instance_type.split(".")[0] for o in AWS_TYPES}
    assert {"p5", "p4de", "p4d", "g6e", "g6", "g5", "g4dn"} <= families


@pytest.mark.parametrize(
    ("instance_type", "accelerator", "gpus", "memory_gib"),
    [
        ("p5.48xlarge", "H100", 8, 80),
        ("p4de.24xlarge", "A100-80GB", 8, 80),
        ("p4d.24xlarge", "A100-40GB", 8, 40),
        ("g6e.xlarge", "L40S", 1, 48),
        ("g6.12xlarge", "L4", 4, 24),
        ("g5.48xlarge", "A10G", 8, 24),
        ("g4dn.metal", "T4", 8, 16),
    ],
)
def test_known_types_have_their_documented_gpus(
    instance_type: str, accelerator: str, gpus: int, memory_gib: int
) -> None:
    offering = find_offering(Cloud.AWS, instance_type)
    assert offering is not None
    assert (offering.accelerator.value, offering.gpus, offering.gpu_memory_gib) == (
        accelerator,
        gpus,
        memory_gib,
    )


def test_every_accelerator_is_offered_on_aws_except_the_a10_name() -> None:
    missing = {a for a in Accelerator if not offerings(Cloud.AWS, a)}
    assert missing == {Accelerator.A10}  # AWS sells the A10G


def test_china_and_govcloud_regions_get_no_offering_we_cannot_vouch_for() -> None:
    assert default_offering(Cloud.AWS, Accelerator.H100, "us-west-2") is not None
    assert default_offering(Cloud.AWS, Accelerator.H100, "cn-north-1") is None
    assert default_offering(Cloud.AWS, Accelerator.H100, "us-gov-west-1") is None
