""" "Too wide" is decided by address arithmetic over the union of ranges, never by comparing strings.

Issue 15 item 2: `api_allowlist: [0.0.0.0/1, 128.0.0.0/1]` covered the whole internet and passed the spec
and every policy, which compared strings (`0.0.0.0/0` vs `::/0` vs `0.0.0.0/00`). These tests split the
address space at random, write ranges in every malformed way we know, and compare the verdict with a
count made independently of ``ipaddress.collapse_addresses`` (integer intervals).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_helpers import problems, stack_config

from lepton_infra import validation
from lepton_infra.components.aws.cluster import AwsEksClusterArgs

EVERY_V4 = ipaddress.IPv4Network("0.0.0.0/0")
EVERY_V6 = ipaddress.IPv6Network("::/0")


@st.composite
def partitions(draw: st.DrawFn, whole: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """``whole`` split into disjoint subnets at random depths: together they are ``whole`` again."""
    parts: list[Any] = [whole]
    for _ in range(draw(st.integers(1, 12))):
        index = draw(st.integers(0, len(parts) - 1))
        network = parts[index]
        if network.prefixlen >= network.max_prefixlen - 1:
            continue
        parts[index : index + 1] = list(network.subnets(prefixlen_diff=draw(st.integers(1, 3))))
    return [str(p) for p in draw(st.permutations(parts))]


@given(partitions(EVERY_V4))
def test_ipv4_ranges_adding_up_to_every_address_are_refused_however_split(cidrs: list[str]) -> None:
    problems = validation.too_wide(cidrs)
    assert any("covers every IPv4 address" in p for p in problems), (cidrs, problems)


@given(partitions(EVERY_V6))
def test_ipv6_ranges_adding_up_to_every_address_are_refused_however_split(cidrs: list[str]) -> None:
    problems = validation.too_wide(cidrs)
    assert any("covers every IPv6 address" in p for p in problems), (cidrs, problems)


@given(partitions(EVERY_V4), st.integers(0, 200))
def test_one_missing_piece_leaves_a_union_that_is_still_far_too_wide(cidrs: list[str], pick: int) -> None:
    """Dropping one range of a split internet leaves most of it: still refused (by count, not by name)."""
    dropped = cidrs[pick % len(cidrs)]
    rest = [c for c in cidrs if c != dropped]
    if not rest or ipaddress.ip_network(dropped).prefixlen <= 1:
        return
    problems = validation.too_wide(rest)
    assert problems and any("public IPv4 addresses, more than 16,777,216" in p for p in problems)


def _public_v4_by_intervals(cidrs: list[str]) -> int:
    """Public IPv4 addresses of the union, counted on integer intervals: an oracle independent of
    ``collapse_addresses`` and of CIDR nesting."""
    intervals = sorted(
        (int(n.network_address), int(n.broadcast_address)) for n in map(ipaddress.IPv4Network, cidrs)
    )
    merged: list[list[int]] = []
    for low, high in intervals:
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    total = 0
    for low, high in merged:
        total += high - low + 1
        for excluded in validation.NON_PUBLIC_IPV4:
            a, b = int(excluded.network_address), int(excluded.broadcast_address)
            total -= max(0, min(high, b) - max(low, a) + 1)
    return total


ipv4_ranges = st.builds(
    lambda address, prefix: str(ipaddress.IPv4Network((address, prefix), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(1, 32),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ipv4_ranges, min_size=1, max_size=12), st.sampled_from([2**8, 2**16, 2**24, 2**28]))
def test_the_public_count_and_the_verdict_match_an_independent_count(cidrs: list[str], limit: int) -> None:
    expected = _public_v4_by_intervals(cidrs)
    assert validation.coverage(cidrs).public_ipv4 == expected
    flagged = any("public IPv4 addresses" in p for p in validation.too_wide(cidrs, max_public_ipv4=limit))
    every = any("every IPv4" in p for p in validation.too_wide(cidrs, max_public_ipv4=limit))
    assert flagged == (expected > limit and not every)


@pytest.mark.parametrize(
    ("cidr", "fragments"),
    [
        ("0.0.0.0/00", ["leading zeros", "every IPv4 address"]),
        ("0.0.0.0/000", ["leading zeros", "every IPv4 address"]),
        ("::/00", ["leading zeros", "every IPv6 address"]),
        ("0.0.0.1/0", ["host bits are set", "every IPv4 address"]),
        ("128.0.0.1/1", ["host bits are set", "public IPv4 addresses"]),
        ("::ffff:0.0.0.0/96", ["IPv4-mapped", "every IPv4 address"]),
        ("::ffff:0:0/96", ["IPv4-mapped", "every IPv4 address"]),
        ("::ffff:128.0.0.0/97", ["IPv4-mapped", "public IPv4 addresses"]),
        (" 0.0.0.0/0", ["whitespace", "every IPv4 address"]),
        ("0.0.0.0/0 ", ["whitespace", "every IPv4 address"]),
        ("*", ["means every address", "every IPv4 address"]),
        ("Internet", ["means every address", "every IPv4 address"]),
        ("any", ["means every address", "every IPv4 address"]),
        ("10.0.0.0/33", ["not a network in CIDR notation"]),
        ("010.0.0.0/8", ["not a network in CIDR notation"]),
        ("0.0.0.0/-1", ["not a network in CIDR notation"]),
        ("0.0.0.0/ 0", ["not a network in CIDR notation"]),
        ("", ["not a network in CIDR notation"]),
    ],
)
def test_malformed_ranges_are_named_and_judged_by_the_widest_reading(cidr: str, fragments: list[str]) -> None:
    problems = " | ".join(validation.too_wide([cidr]))
    for fragment in fragments:
        assert fragment in problems, problems


@pytest.mark.parametrize(
    "cidrs",
    [
        [],
        ["203.0.113.0/24"],
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],  # private: no public address
        ["1.0.0.0/8"],  # exactly 2^24 public addresses: at the limit, not over it
        ["2001:db8::/32", "fc00::/7", "fe80::/10"],  # documentation, unique local, link local
        ["2600::/32"],  # one /32 of IPv6: at the limit
        ["224.0.0.0/3"],  # multicast and reserved: nothing public
    ],
)
def test_named_networks_pass(cidrs: list[str]) -> None:
    assert validation.too_wide(cidrs) == []


def test_more_than_a_slash_32_of_ipv6_is_too_wide_and_says_how_many() -> None:
    (problem,) = validation.too_wide(["2600::/31"])
    assert "2^97 public IPv6 addresses, more than 2^96" in problem


def _issues(platform: dict[str, Any]) -> dict[str, str]:
    """Field path (below the platform key) -> message, as `lepton-infra validate` reports them."""
    return {path.removeprefix("lepton-infra:platform."): m for path, m in problems(platform).items()}


def _site_with(allowlist: list[str]) -> dict[str, Any]:
    config = copy.deepcopy(stack_config("aws-dev"))
    config["sites"][0]["network"]["api_allowlist"] = allowlist
    return config


@settings(max_examples=40, deadline=None)
@given(partitions(EVERY_V4))
def test_the_spec_refuses_a_split_internet_naming_the_field(cidrs: list[str]) -> None:
    issues = _issues(_site_with(cidrs))
    assert "covers every IPv4 address" in issues["sites[0].network.api_allowlist"]


@pytest.mark.parametrize(
    ("allowlist", "path", "fragment"),
    [
        (["0.0.0.0/1", "128.0.0.0/1"], "sites[0].network.api_allowlist", "every IPv4 address"),
        (["0.0.0.0/00"], "sites[0].network.api_allowlist[0]", "leading zeros"),
        (["203.0.113.0/24", "10.0.0.1/8"], "sites[0].network.api_allowlist[1]", "host bits are set"),
        (["::ffff:0.0.0.0/96"], "sites[0].network.api_allowlist[0]", "IPv4-mapped"),
        (["8.0.0.0/7"], "sites[0].network.api_allowlist", "33,554,432 public IPv4 addresses"),
        (["11.0.0.0/8", "12.0.0.0/8"], "sites[0].network.api_allowlist", "more than 16,777,216"),
    ],
)
def test_the_spec_names_the_field_and_the_number(allowlist: list[str], path: str, fragment: str) -> None:
    issues = _issues(_site_with(allowlist))
    assert fragment in issues[path], issues


def test_a_component_used_alone_refuses_a_split_internet_too() -> None:
    with pytest.raises(ValueError, match="covers every IPv4 address"):
        AwsEksClusterArgs(
            cluster_name="c", kubernetes_version="1.33", subnet_ids=[], kms_key_arn="k",
            api_allowlist=["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"],
        )  # fmt: skip
