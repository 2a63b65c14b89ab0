"""The checks both the blueprint (pydantic) and the components make: one owner for each rule.

Standard library only, so a component imported alone into another program pays for nothing else. Every check
returns the problems it finds as sentences a user can act on (empty: nothing wrong) and raises nothing, so
each caller reports them its own way: the blueprint's validators as validation errors (with field paths,
every problem at once), a component's ``Args`` through :func:`refuse`. Checks about several named values
(overlapping ranges) return :class:`Problem` pairs that name the value they blame.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Problem(NamedTuple):
    """A problem and the property path it belongs to ("" for the checked object as a whole).

    A plain ``(path, message)`` pair: the blueprint's ``rule_error`` takes a list of them as they are, and
    a component can turn each into Pulumi's ``InputPropertiesError`` details (``property_path``, ``reason``).
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInput(ValueError):
    """A component's inputs break a rule; ``problems`` holds every one found, not only the first."""

    def __init__(self, problems: Iterable[str | Problem]) -> None:
        self.problems = tuple(p if isinstance(p, Problem) else Problem("", p) for p in problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def at(path: str, problems: Iterable[str]) -> list[Problem]:
    """``problems`` of the value at ``path``."""
    return [Problem(path, message) for message in problems]


def refuse(problems: Iterable[str | Problem]) -> None:
    """Raise :class:`InvalidInput` (a ValueError) with every problem, if there is any."""
    found = list(problems)
    if found:
        raise InvalidInput(found)


# --- node pools -------------------------------------------------------------------------------------------


def node_range(min_nodes: int, max_nodes: int) -> list[str]:
    """The autoscaler's range must not be empty."""
    if min_nodes > max_nodes:
        return [f"min_nodes ({min_nodes}) must not exceed max_nodes ({max_nodes})"]
    return []


def check_node_range(min_nodes: int, max_nodes: int) -> None:
    """:func:`node_range`, raised: what every node-pool component's ``Args`` runs on construction."""
    refuse(node_range(min_nodes, max_nodes))


# --- address ranges ---------------------------------------------------------------------------------------

# RFC 1918 and the shared address space of RFC 6598 (carrier-grade NAT, used for large private networks).
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
# A site's network holds node and pod subnets in two or more zones: no smaller than /20; no larger than
# /16, which is what a VPC or VNet takes at most on some clouds.
NETWORK_PREFIXES = range(16, 21)


def _parse(cidr: str | IPNetwork) -> IPNetwork | None:
    if isinstance(cidr, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return cidr
    try:
        return ipaddress.ip_network(cidr)
    except ValueError:
        return None


def not_a_cidr(cidr: object) -> str:
    return f"{cidr!r} is not a network in CIDR notation (address/prefix, no host bits set)"


def network_cidr(cidr: str | IPNetwork) -> list[str]:
    """A site network's range: private (RFC 1918 or 100.64/10) and /16 to /20."""
    network = _parse(cidr)
    if network is None:
        return [not_a_cidr(cidr)]
    problems = []
    if not (isinstance(network, ipaddress.IPv4Network) and any(network.subnet_of(r) for r in PRIVATE_RANGES)):
        problems.append(f"{network} is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    if network.prefixlen not in NETWORK_PREFIXES:
        problems.append(
            f"{network} must be between /{NETWORK_PREFIXES[0]} and /{NETWORK_PREFIXES[-1]} "
            "to hold node and pod subnets in two zones"
        )
    return problems


def api_allowlist(cidrs: Iterable[str | IPNetwork]) -> list[str]:
    """Who may reach a cluster's public API endpoint: named networks, never everyone."""
    problems = []
    for cidr in cidrs:
        network = _parse(cidr)
        if network is None:
            problems.append(not_a_cidr(cidr))
        elif network.prefixlen == 0:
            problems.append(
                f"{network} would make the API public to everyone; list the CIDRs that need access"
            )
    return problems


def overlapping_ranges(ranges: Mapping[str, IPNetwork]) -> list[Problem]:
    """Ranges that must stay apart (network, pods, services): each overlap, blamed on the later name."""
    names = list(ranges)
    return [
        Problem(second, f"{ranges[second]} overlaps {first} ({ranges[first]})")
        for i, first in enumerate(names)
        for second in names[i + 1 :]
        if ranges[first].overlaps(ranges[second])
    ]


# --- names ------------------------------------------------------------------------------------------------

# A DNS-1123 label: usable as a Kubernetes name and inside cloud resource names. The platform's names are
# prefixes of longer cloud names (`<platform>-<site>-<pool>-...`), hence a length far below DNS's 63.
DNS_LABEL_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL_MAX_LENGTH = 24
# AKS's rule for Linux agent pool names.
AKS_POOL_NAME_PATTERN = r"^[a-z][a-z0-9]{0,11}$"


def dns_label(name: str, max_length: int = DNS_LABEL_MAX_LENGTH) -> list[str]:
    """A DNS-1123 label of at most ``max_length`` characters."""
    problems = name_length(name, 1, max_length)
    if not re.match(DNS_LABEL_PATTERN, name):
        problems.append(
            f"{name!r} is not a DNS label: lowercase letters, digits and hyphens, starting with a letter "
            "and ending with a letter or digit"
        )
    return problems


def aks_pool_name(name: str) -> list[str]:
    if not re.match(AKS_POOL_NAME_PATTERN, name):
        return [f"{name!r}: AKS pool names are 1-12 lowercase letters and digits"]
    return []


def name_length(name: str, min_length: int, max_length: int) -> list[str]:
    if not min_length <= len(name) <= max_length:
        return [f"{name!r} must be {min_length} to {max_length} characters"]
    return []


# --- subscriptions ----------------------------------------------------------------------------------------

# The terms Container Registry Enterprise Edition is sold for, in months: below a year, or whole years
# (pulumi-alicloud's `period`: "please enter an integer multiple of 12 for annual paid products"; the
# provider's validation, terraform-provider-alicloud resource_alicloud_cr_ee_instance.go, accepts exactly
# these). Any other term is refused by the API only when the instance is bought.
CR_EE_SUBSCRIPTION_MONTHS = (1, 2, 3, 6, 12, 24, 36, 48, 60)


def cr_subscription_months(months: int) -> list[str]:
    if months not in CR_EE_SUBSCRIPTION_MONTHS:
        sold = ", ".join(map(str, CR_EE_SUBSCRIPTION_MONTHS))
        return [f"Container Registry is sold for {sold} months, not {months}"]
    return []
