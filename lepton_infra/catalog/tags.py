"""What each cloud accepts as tags on a resource: how many, how long, which prefixes it keeps for itself.

The platform puts its tags (``lepton:platform``, ``lepton:site``) and the user's on every resource, and a
few components add one or two of their own (``karpenter.sh/discovery``, ``lepton:vswitch-role``), so the
user's tags get the cloud's limit less ``PLATFORM_TAGS``. Sources (looked up 2026-12):
- AWS "Tag restrictions" (e.g. docs.aws.amazon.com/batch/latest/userguide/tag-restrictions.html, the same on
  every service): 50 tags per resource; key 128 and value 256 Unicode characters; letters, digits, spaces
  and `+ - = . _ : / @` across services; `aws:` in any case is reserved for AWS, in keys and values.
- Azure "Use tags to organize your Azure resources" (learn.microsoft.com/azure/azure-resource-manager/
  management/tag-resources#limitations): 50 tag name/value pairs; names 512 characters, 128 on storage
  accounts (every site has one), values 256; names cannot contain `< > % & \\ ? /`; names starting with
  `microsoft`, `azure` or `windows` are reserved; names are case-insensitive, so `Team` and `team` clash.
- Alibaba Cloud TagResources / the "Tag" structure (e.g. alibabacloud.com/help/en/emr/.../struct-tag, VPC
  TagResources): 20 tags per resource; key 128 characters, not starting with `aliyun` or `acs:`; value 128
  characters, not starting with `acs:`; neither may contain `http://` or `https://`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lepton_infra.catalog.types import Cloud

# Tags the platform and its components add to a resource besides the user's: lepton:platform, lepton:site,
# and at most two a component adds (karpenter.sh/discovery on AWS, lepton:vswitch-role on Alibaba Cloud).
PLATFORM_TAGS = 4


@dataclass(frozen=True)
class TagLimits:
    max_tags: int
    max_key_length: int
    max_value_length: int
    reserved_key_prefixes: tuple[str, ...]  # compared case-insensitively
    reserved_value_prefixes: tuple[str, ...] = ()
    forbidden_in_keys: tuple[str, ...] = ()
    forbidden_in_both: tuple[str, ...] = ()
    allowed_characters: re.Pattern[str] | None = None
    keys_case_insensitive: bool = False


TAG_LIMITS: dict[Cloud, TagLimits] = {
    Cloud.AWS: TagLimits(
        max_tags=50,
        max_key_length=128,
        max_value_length=256,
        reserved_key_prefixes=("aws:",),
        reserved_value_prefixes=("aws:",),
        allowed_characters=re.compile(r"^[\w\s+\-=.:/@]*$"),
    ),
    Cloud.AZURE: TagLimits(
        max_tags=50,
        max_key_length=128,
        max_value_length=256,
        reserved_key_prefixes=("microsoft", "azure", "windows"),
        forbidden_in_keys=("<", ">", "%", "&", "\\", "?", "/"),
        keys_case_insensitive=True,
    ),
    Cloud.ALICLOUD: TagLimits(
        max_tags=20,
        max_key_length=128,
        max_value_length=128,
        reserved_key_prefixes=("aliyun", "acs:"),
        reserved_value_prefixes=("acs:",),
        forbidden_in_both=("http://", "https://"),
    ),
}


def tag_problems(cloud: Cloud, tags: dict[str, str]) -> list[tuple[str, str]]:
    """(tag key, problem) for each of the user's tags ``cloud`` would refuse; ("", problem) for the count."""
    limits = TAG_LIMITS[cloud]
    found: list[tuple[str, str]] = []
    room = limits.max_tags - PLATFORM_TAGS
    if len(tags) > room:
        message = (
            f"{len(tags)} tags; {cloud.value} takes {limits.max_tags} per resource and the platform adds "
            f"up to {PLATFORM_TAGS}, so at most {room}"
        )
        found.append(("", message))
    seen: dict[str, str] = {}
    for key, value in tags.items():
        found += [(key, p) for p in _one_tag(cloud, limits, key, value)]
        folded = key.lower()
        if limits.keys_case_insensitive and folded in seen:
            found.append(
                (key, f"{cloud.value} tag names ignore case: {key!r} and {seen[folded]!r} are one tag")
            )
        seen.setdefault(folded, key)
    return found


def _one_tag(cloud: Cloud, limits: TagLimits, key: str, value: str) -> list[str]:
    problems = []
    if not key:
        problems.append("a tag key cannot be empty")
    if len(key) > limits.max_key_length:
        problems.append(f"the key is {len(key)} characters; {cloud.value} takes {limits.max_key_length}")
    if len(value) > limits.max_value_length:
        problems.append(
            f"the value is {len(value)} characters; {cloud.value} takes {limits.max_value_length}"
        )
    for prefix in limits.reserved_key_prefixes:
        if key.lower().startswith(prefix):
            problems.append(f"keys starting with {prefix!r} are reserved by {cloud.value}")
    for prefix in limits.reserved_value_prefixes:
        if value.lower().startswith(prefix):
            problems.append(f"values starting with {prefix!r} are reserved by {cloud.value}")
    for text in limits.forbidden_in_keys:
        if text in key:
            problems.append(f"{cloud.value} tag keys cannot contain {text!r}")
    for text in limits.forbidden_in_both:
        if text in key or text in value:
            problems.append(f"{cloud.value} tags cannot contain {text!r}")
    if limits.allowed_characters is not None and not (
        limits.allowed_characters.match(key) and limits.allowed_characters.match(value)
    ):
        problems.append(f"{cloud.value} tags take letters, digits, spaces and + - = . _ : / @ only")
    return problems
