"""Values the cloud would refuse minutes into `pulumi up` are refused at validate time (issue 15 item 12):
regions that do not exist for the cloud, system-pool types the catalog does not list (unless the pool says
`instance_type_unlisted: true`), tags beyond each cloud's limits, a repository named twice."""

from __future__ import annotations

import copy
from typing import Any

import pulumi_aws
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import problems, stack_config

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.catalog import Cloud
from lepton_infra.catalog.regions import REGIONS
from lepton_infra.catalog.system_types import SYSTEM_TYPES
from lepton_infra.catalog.tags import PLATFORM_TAGS, TAG_LIMITS

EXAMPLES = {Cloud.AWS: "aws-dev", Cloud.AZURE: "azure-prod", Cloud.ALICLOUD: "alicloud-prod"}
CLOUDS = list(EXAMPLES)


def platform(cloud: Cloud) -> dict[str, Any]:
    return copy.deepcopy(stack_config(EXAMPLES[cloud]))


def issues(config: dict[str, Any]) -> dict[str, str]:
    return {path.removeprefix("lepton-infra:platform."): m for path, m in problems(config).items()}


def valid(config: dict[str, Any]) -> bool:
    try:
        PlatformSpec.model_validate(config)
    except ValueError:
        return False
    return True


# --- regions ------------------------------------------------------------------------------------------------


def test_every_aws_region_of_the_table_is_one_the_sdk_knows() -> None:
    assert REGIONS[Cloud.AWS] <= {r.value for r in pulumi_aws.Region}


@pytest.mark.parametrize("cloud", CLOUDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_region_of_the_cloud_passes_the_region_check(cloud: Cloud, data: st.DataObject) -> None:
    config = platform(cloud)
    config["sites"][0]["region"] = data.draw(st.sampled_from(sorted(REGIONS[cloud])))
    if not valid(config):  # another rule (a GPU type not sold in that partition) may refuse it
        assert "sites[0].region" not in issues(config)


def _typos(region: str) -> list[str]:
    dropped = [region[:i] + region[i + 1 :] for i in range(len(region))]
    doubled = [region[:i] + region[i] + region[i:] for i in range(len(region))]
    return [t for t in dropped + doubled + [region + "-1", region.upper()] if t != region]


@pytest.mark.parametrize("cloud", CLOUDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_misspelt_or_foreign_region_is_refused_naming_the_field(cloud: Cloud, data: st.DataObject) -> None:
    known = sorted(REGIONS[cloud])
    foreign = sorted(set().union(*(REGIONS[c] for c in CLOUDS if c != cloud)) - REGIONS[cloud])
    region = data.draw(
        st.one_of(
            st.sampled_from(known).flatmap(lambda r: st.sampled_from(_typos(r))),
            st.sampled_from(foreign),
            st.sampled_from(["us-west-9", "mars-north-1", "westeurope2", "cn-atlantis"]),
        )
    )
    if region in REGIONS[cloud]:
        return
    config = platform(cloud)
    config["sites"][0]["region"] = region
    found = issues(config)
    assert "sites[0].region" in found, found
    message = found["sites[0].region"]
    assert f"is not a {cloud.value} region" in message or "should match pattern" in message


def test_the_refusal_suggests_the_closest_region() -> None:
    config = platform(Cloud.AWS)
    config["sites"][0]["region"] = "us-west-3"
    assert "did you mean us-west-2" in issues(config)["sites[0].region"]


# --- system pool types --------------------------------------------------------------------------------------


def test_every_aws_system_type_exists_in_the_sdks_enum() -> None:
    assert SYSTEM_TYPES[Cloud.AWS] <= {t.value for t in pulumi_aws.ec2.InstanceType}


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.upper(),
        lambda t: t + "x",
        lambda t: t.replace(".", "-"),
        lambda t: t.replace("_", ""),
        lambda t: t[:-1],
        lambda t: "p5.48xlarge",  # a GPU type is not a system type
        lambda t: "m7i.huge",
        lambda t: " " + t,
    ],
)
def test_a_system_type_the_catalog_does_not_list_is_refused_unless_unlisted(
    cloud: Cloud, mutate: Any
) -> None:
    config = platform(cloud)
    pool = config["sites"][0]["system_pool"]
    changed = mutate(pool["instance_type"])
    if changed == pool["instance_type"]:
        pytest.skip("this mutation does not change this cloud's type names")
    pool["instance_type"] = changed
    assert "not in the catalog" in issues(config)["sites[0].system_pool.instance_type"]
    pool["instance_type_unlisted"] = True
    assert "sites[0].system_pool.instance_type" not in (issues(config) if not valid(config) else {})


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_listed_system_type_passes(cloud: Cloud) -> None:
    config = platform(cloud)
    for instance_type in sorted(SYSTEM_TYPES[cloud]):
        config["sites"][0]["system_pool"]["instance_type"] = instance_type
        assert valid(config), instance_type


# --- tags ---------------------------------------------------------------------------------------------------

TAG_CASES: list[tuple[Cloud, dict[str, str], str]] = []
for _cloud, _limits in TAG_LIMITS.items():
    _room = _limits.max_tags - PLATFORM_TAGS
    TAG_CASES += [
        (_cloud, {f"k{i}": "v" for i in range(_room + 1)}, f"so at most {_room}"),
        (_cloud, {"k" * (_limits.max_key_length + 1): "v"}, f"takes {_limits.max_key_length}"),
        (_cloud, {"team": "v" * (_limits.max_value_length + 1)}, f"takes {_limits.max_value_length}"),
        (_cloud, {"": "v"}, "cannot be empty"),
    ]
    for _prefix in _limits.reserved_key_prefixes:
        for _spelling in (_prefix, _prefix.upper(), _prefix.capitalize()):
            TAG_CASES.append((_cloud, {f"{_spelling}team": "v"}, "are reserved"))
    for _prefix in _limits.reserved_value_prefixes:
        TAG_CASES.append((_cloud, {"team": f"{_prefix.upper()}x"}, "are reserved"))
TAG_CASES += [
    *[(Cloud.AZURE, {f"a{c}b": "v"}, f"cannot contain {c!r}") for c in "<>%&\\?/"],
    (Cloud.AZURE, {"Team": "a", "team": "b"}, "ignore case"),
    (Cloud.ALICLOUD, {"link": "https://example.com"}, "cannot contain 'https://'"),
    (Cloud.ALICLOUD, {"http://x": "v"}, "cannot contain 'http://'"),
    (Cloud.AWS, {"team": "a|b"}, "letters, digits, spaces"),
    (Cloud.AWS, {"te#am": "x"}, "letters, digits, spaces"),
]


@pytest.mark.parametrize(("cloud", "tags", "fragment"), TAG_CASES, ids=lambda v: str(v)[:40])
def test_tags_beyond_the_clouds_limits_are_refused(cloud: Cloud, tags: dict[str, str], fragment: str) -> None:
    config = platform(cloud)
    config["tags"] = tags
    found = issues(config)
    assert fragment in found.get("tags", ""), found


@pytest.mark.parametrize("cloud", CLOUDS)
def test_tags_at_the_limits_pass(cloud: Cloud) -> None:
    limits = TAG_LIMITS[cloud]
    config = platform(cloud)
    room = limits.max_tags - PLATFORM_TAGS
    config["tags"] = {f"k{i}": "v" for i in range(room - 1)}
    config["tags"]["k" * limits.max_key_length] = "v" * limits.max_value_length
    assert "tags" not in (issues(config) if not valid(config) else {})


def test_a_multicloud_platform_takes_the_strictest_cloud() -> None:
    config = copy.deepcopy(stack_config("multicloud"))
    config["tags"] = {f"k{i}": "v" for i in range(20)}  # fine on AWS and Azure, too many on Alibaba Cloud
    assert "alicloud takes 20" in issues(config)["tags"]


# --- repositories -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize(
    ("repositories", "index"),
    [(["train", "train"], 1), (["train", "serve", "train"], 2), (["a", "b", "c", "b"], 3)],
)
def test_a_repository_named_twice_is_refused(cloud: Cloud, repositories: list[str], index: int) -> None:
    config = platform(cloud)
    config["sites"][0]["repositories"] = repositories
    assert "listed twice" in issues(config)[f"sites[0].repositories[{index}]"]
