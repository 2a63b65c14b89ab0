"""Every policy that judges a CIDR judges the union of its ranges by address arithmetic (issue 15 item 2).

Before, the rules compared strings against `0.0.0.0/0` and `::/0`: `[0.0.0.0/1, 128.0.0.0/1]`,
`0.0.0.0/00` or `::ffff:0:0/96` passed every one of them. Each rule is tried on its fixture's compliant
resource with the same list of ways to write "everyone", with ranges wider than the pack's public-address
limit, and with named networks that must still pass; the limit itself comes from the pack config.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from policy_fixtures import FIXTURES, config_of, load, plan

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()

# Lists of ranges that add up to every address, however they are written.
EVERYONE: list[list[str]] = [
    ["0.0.0.0/0"],
    ["0.0.0.0/00"],
    ["0.0.0.0/000"],
    ["0.0.0.1/0"],
    [" 0.0.0.0/0"],
    ["::ffff:0.0.0.0/96"],
    ["::ffff:0:0/96"],
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["128.0.0.0/1", "0.0.0.0/1"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"],
    ["::ffff:0.0.0.0/97", "128.0.0.0/1"],
    ["::/0"],
    ["::/1", "8000::/1"],
    ["0.0.0.0/1", "::ffff:128.0.0.0/97"],
]
# More public addresses than the default limit (2^24), without being everyone.
TOO_MANY: list[list[str]] = [
    ["8.0.0.0/7"],
    ["11.0.0.0/8", "12.0.0.0/8"],
    ["1.0.0.0/8", "2.0.0.0/16"],
    ["2600::/31"],
    ["2600::/32", "2a00::/32"],
]
# Named networks: private ranges and one small public block each.
NAMED: list[list[str]] = [
    ["203.0.113.0/24"],
    ["198.51.100.7/32", "203.0.113.0/24"],
    ["1.0.0.0/8"],
    ["2001:db8::/48"],
]


@dataclass(frozen=True)
class Target:
    """Where a policy reads its ranges on its fixture's compliant resource."""

    policy: str
    file: str
    resource: str
    write: Callable[[dict[str, Any], list[str]], None]
    ipv6: bool = True  # whether the field takes IPv6 ranges at all

    def __str__(self) -> str:
        return self.policy


def _eks(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=cidrs)


def _aks(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["apiServerAccessProfile"] = {"enablePrivateCluster": False, "authorizedIPRanges": cidrs}


def _sg_inline(inputs: dict[str, Any], cidrs: list[str]) -> None:
    # One rule per range: the union across the group's SSH rules is what is open.
    inputs["ingress"] = [
        {
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks" if ":" not in c else "ipv6CidrBlocks": [c],
        }
        for c in cidrs
    ]


def _ali_ssh(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["cidrIp"] = cidrs[0]


def _aws_ssh_rule(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["cidrIpv4" if ":" not in cidrs[0] else "cidrIpv6"] = cidrs[0]
    if ":" in cidrs[0]:
        del inputs["cidrIpv4"]


def _load_balancer(inputs: dict[str, Any], cidrs: list[str]) -> None:
    del inputs["metadata"]["annotations"]
    inputs["spec"]["loadBalancerSourceRanges"] = cidrs


def _acr(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs.update(
        publicNetworkAccess="Enabled",
        networkRuleSet={"defaultAction": "Deny", "ipRules": [{"iPAddressOrRange": c} for c in cidrs]},
    )


def _storage(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["networkRuleSet"]["ipRules"] = [{"iPAddressOrRange": c, "action": "Allow"} for c in cidrs]


def _vault(inputs: dict[str, Any], cidrs: list[str]) -> None:
    inputs["properties"]["publicNetworkAccess"] = "Enabled"
    inputs["properties"]["networkAcls"]["ipRules"] = [{"value": c} for c in cidrs]


TARGETS = [
    Target("aws-eks-cluster-disallow-public-endpoint", "aws/site.yaml", "gpu-eks", _eks),
    Target("azure-aks-cluster-disallow-public-endpoint", "azure/site.yaml", "aks", _aks),
    Target("aws-ec2-security-group-disallow-open-ssh", "aws/site.yaml", "nodes-sg", _sg_inline),
    Target(
        "kubernetes-service-disallow-public-load-balancer",
        "kubernetes/deployment.yaml",
        "serve-svc",
        _load_balancer,
    ),
    Target("azure-acr-disallow-public-network", "azure/site.yaml", "acr", _acr),
    Target("azure-storage-account-disallow-public-access", "azure/site.yaml", "data", _storage),
    Target("azure-keyvault-disallow-public-network", "azure/site.yaml", "kv", _vault),
]
# Rules that read one range per resource: only the single-range variants apply.
SINGLE = [
    Target("aws-ec2-security-group-disallow-open-ssh", "aws/site.yaml", "admin-ssh", _aws_ssh_rule),
    Target("alicloud-ecs-security-group-disallow-open-ssh", "alicloud/site.yaml", "admin-ssh", _ali_ssh),
]


def _violations(target: Target, cidrs: list[str], config: PackConfig | None = None) -> list[str]:
    data = copy.deepcopy(load(FIXTURES / target.file))
    entry = next(e for e in data["resources"] if e["name"] == target.resource)
    target.write(entry["inputs"], cidrs)
    found = evaluate_plan(plan(data), SPECS, config or config_of(data))
    return [v.message for v in found if v.policy == target.policy]


def _cases(lists: list[list[str]], targets: list[Target]) -> list[Any]:
    return [
        pytest.param(t, cidrs, id=f"{t}-{'+'.join(cidrs)}")
        for t in targets
        for cidrs in lists
        if (len(cidrs) == 1 or t not in SINGLE) and (t.ipv6 or not any(":" in c for c in cidrs))
    ]


@pytest.mark.parametrize(("target", "cidrs"), _cases(EVERYONE, TARGETS + SINGLE))
def test_ranges_that_add_up_to_everyone_are_a_finding_however_written(
    target: Target, cidrs: list[str]
) -> None:
    messages = _violations(target, cidrs)
    assert any("covers every IPv" in m for m in messages), messages


@pytest.mark.parametrize(("target", "cidrs"), _cases(TOO_MANY, TARGETS + SINGLE))
def test_more_public_addresses_than_the_limit_are_a_finding(target: Target, cidrs: list[str]) -> None:
    messages = _violations(target, cidrs)
    assert any("public IPv" in m and "more than" in m for m in messages), messages


@pytest.mark.parametrize(("target", "cidrs"), _cases(NAMED, TARGETS + SINGLE))
def test_named_networks_pass(target: Target, cidrs: list[str]) -> None:
    assert _violations(target, cidrs) == []


@pytest.mark.parametrize("target", TARGETS + SINGLE, ids=str)
def test_the_public_address_limit_is_the_packs_setting(target: Target) -> None:
    strict = PackConfig.model_validate({"max_public_ipv4_addresses": 2**8})
    assert _violations(target, ["100.128.0.0/24"], strict) == []  # 256 public addresses: at the limit
    messages = _violations(target, ["100.128.0.0/23"], strict)
    assert any("512 public IPv4 addresses, more than 256" in m for m in messages), messages


def _rule(protocol: str, port: int, cidr: str) -> dict[str, Any]:
    return {"protocol": protocol, "fromPort": port, "toPort": port, "cidrBlocks": [cidr]}


def _group_violations(rules: list[dict[str, Any]]) -> list[str]:
    # Half the internet is under this limit, so only what the rules add up to can be a finding.
    lenient = PackConfig.model_validate({"max_public_ipv4_addresses": 2**31})
    target = TARGETS[2]
    data = copy.deepcopy(load(FIXTURES / target.file))
    entry = next(e for e in data["resources"] if e["name"] == target.resource)
    entry["inputs"]["ingress"] = rules
    return [v.message for v in evaluate_plan(plan(data), SPECS, lenient) if v.policy == target.policy]


@pytest.mark.parametrize(
    ("rules", "opened"),
    [
        # Each half of the internet in its own rule, for each port the rule judges and for all traffic.
        ([_rule("tcp", 3389, "0.0.0.0/1"), _rule("tcp", 3389, "128.0.0.0/1")], "RDP (port 3389)"),
        ([_rule("6", 22, "0.0.0.0/1"), _rule("tcp", 22, "128.0.0.0/1")], "SSH (port 22)"),
        ([_rule("-1", 0, "0.0.0.0/1"), _rule("-1", 0, "128.0.0.0/1")], "all traffic"),
        # An all-traffic rule opens port 22 too: its half and an SSH rule's half are the whole internet.
        ([_rule("-1", 0, "0.0.0.0/1"), _rule("tcp", 22, "128.0.0.0/1")], "SSH (port 22)"),
        ([_rule("all", 0, "0.0.0.0/00")], "all traffic"),
    ],
)
def test_a_security_groups_rules_are_judged_as_one_union_per_port(
    rules: list[dict[str, Any]], opened: str
) -> None:
    found = _group_violations(rules)
    assert any(f"admits {opened}" in m and "covers every IPv4" in m for m in found), found


def test_halves_on_different_ports_open_neither() -> None:
    assert _group_violations([_rule("tcp", 22, "0.0.0.0/1"), _rule("tcp", 3389, "128.0.0.0/1")]) == []
