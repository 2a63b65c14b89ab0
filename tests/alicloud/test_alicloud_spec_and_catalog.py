"""The Alibaba Cloud catalog against ECS's GPU instance-family page, and the spec rules of an ACK site."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plan_helpers import spec_issues, stack_config

from lepton_infra.catalog import Accelerator, Cloud, default_offering, find_offering, offerings
from lepton_infra.catalog.alicloud import ALICLOUD_OFFERINGS

FAMILY_PAGE = (
    "https://www.alibabacloud.com/help/en/ecs/user-guide/"
    "gpu-accelerated-compute-optimized-and-vgpu-accelerated-instance-families-1#"
)
ALICLOUD_TYPES = [o for group in ALICLOUD_OFFERINGS.values() for o in group]


@pytest.mark.parametrize("offering", ALICLOUD_TYPES, ids=lambda o: o.instance_type)
def test_every_type_names_its_family_section_of_alibabas_documentation(offering: Any) -> None:
    assert offering.source.startswith(FAMILY_PAGE)
    assert offering.instance_type.startswith("ecs.gn")


def test_each_family_cites_one_section_and_serves_one_accelerator() -> None:
    families: dict[str, set[tuple[str, str]]] = {}
    for offering in ALICLOUD_TYPES:
        family = offering.instance_type.split("-")[0].split(".")[1]
        families.setdefault(family, set()).add((offering.source, offering.accelerator.value))
    assert set(families) == {"gn7e", "gn7", "gn7i", "gn6i"}
    assert all(len(sections) == 1 for sections in families.values())
    assert len({next(iter(s))[0] for s in families.values()}) == 4


@pytest.mark.parametrize(
    ("instance_type", "documented"),
    [
        ("ecs.gn7e-c16g1.32xlarge", ("A100-80GB", 8, 80, 128, 1000)),
        ("ecs.gn7e-c16g1.4xlarge", ("A100-80GB", 1, 80, 16, 125)),
        ("ecs.gn7-c13g1.26xlarge", ("A100-40GB", 8, 40, 104, 756)),
        ("ecs.gn7i-c8g1.2xlarge", ("A10", 1, 24, 8, 30)),
        ("ecs.gn7i-c32g1.32xlarge", ("A10", 4, 24, 128, 752)),
        ("ecs.gn7i-8x.32xlarge", ("A10", 8, 24, 128, 512)),
        ("ecs.gn6i-c4g1.xlarge", ("T4", 1, 16, 4, 15)),
        ("ecs.gn6i-c24g1.24xlarge", ("T4", 4, 16, 96, 372)),
    ],
)
def test_known_types_have_their_documented_gpus_and_size(
    instance_type: str, documented: tuple[str, int, int, int, int]
) -> None:
    """documented: (accelerator, GPUs, GPU memory GiB, vCPUs, memory GiB) as the family's table lists them."""
    offering = find_offering(Cloud.ALICLOUD, instance_type)
    assert offering is not None
    found = (
        offering.accelerator.value,
        offering.gpus,
        offering.gpu_memory_gib,
        offering.vcpus,
        offering.memory_gib,
    )
    assert found == documented


def test_alibaba_offers_a100s_a10_and_t4_and_defaults_to_the_documented_sizes() -> None:
    offered = {a for a in Accelerator if offerings(Cloud.ALICLOUD, a)}
    assert offered == {Accelerator.A100_80GB, Accelerator.A100_40GB, Accelerator.A10, Accelerator.T4}
    training = default_offering(Cloud.ALICLOUD, Accelerator.A100_80GB, "cn-hangzhou")
    inference = default_offering(Cloud.ALICLOUD, Accelerator.A10, "ap-southeast-1")
    assert training is not None and training.gpus == 8
    assert inference is not None and inference.instance_type == "ecs.gn7i-c8g1.2xlarge"


def base() -> dict[str, Any]:
    return copy.deepcopy(stack_config("alicloud-prod"))


def test_an_accelerator_alibaba_does_not_sell_is_refused_with_what_it_does() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][1]["accelerator"] = "H100"
    config["workloads"][1]["accelerator"] = "H100"
    assert dict(spec_issues(config))["sites[0].gpu_pools[1].accelerator"] == (
        "H100 is not offered on alicloud (cn-hangzhou); offered: A10, A100-40GB, A100-80GB, T4"
    )


def test_an_instance_type_of_another_accelerator_is_refused() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][0]["instance_type"] = "ecs.gn7i-c8g1.2xlarge"
    message = dict(spec_issues(config))["sites[0].gpu_pools[0].instance_type"]
    assert message.startswith(
        "'ecs.gn7i-c8g1.2xlarge' does not carry A100-80GB on alicloud; use one of ecs.gn7e-"
    )


def test_an_api_allowlist_is_refused_because_ack_cannot_apply_it_here() -> None:
    config = base()
    config["sites"][0]["network"]["api_allowlist"] = ["203.0.113.0/24"]
    # The site reports its own rule: the path is relative to the site (the CLI prefixes sites[0]).
    assert "leave api_allowlist empty" in dict(spec_issues(config))["network.api_allowlist"]


def test_the_ack_release_must_match_the_kubernetes_version_and_zones_the_region() -> None:
    config = base()
    config["sites"][0]["ack_version"] = "1.32.1-aliyun.1"
    config["sites"][0]["zone_ids"] = ["cn-shanghai-a", "cn-hangzhou-h"]
    issues = dict(spec_issues(config))
    assert issues["ack_version"] == "1.32.1-aliyun.1 is Kubernetes 1.32, not 1.33"
    assert issues["zone_ids[0]"] == "cn-shanghai-a is not a zone of cn-hangzhou"


def test_an_aws_style_region_is_refused() -> None:
    config = base()
    config["sites"][0]["region"] = "us-west-2a"
    assert any(path.endswith("region") for path, _ in spec_issues(config))
