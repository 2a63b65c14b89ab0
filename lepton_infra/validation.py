"""The checks both the blueprint (pydantic) and the components make: one owner for each rule.

Standard library only, so a component imported alone into another program pays for nothing else. Every check
returns the problems it finds as sentences a user can act on (empty: nothing wrong) and raises nothing, so
each caller reports them its own way: the blueprint's validators as validation errors (with field paths,
every problem at once), a component's ``Args`` through :func:`refuse` with Pulumi's error type
(``components/args.py``). Checks about several named values (overlapping ranges) return :class:`Problem`
pairs that name the value they blame; :func:`at`, :func:`each` and :func:`under` put the others at their
property paths (``kubernetes_version``, ``taints[1].effect``).

A check is given whatever the caller holds: a value of the wrong type (which ``components/args.py`` reports
on its own) or one only known once resources exist (a Pulumi ``Output``) is no problem of the check's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

T = TypeVar("T")

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


def each(path: str, values: Iterable[T], check: Callable[[T], Iterable[str]]) -> list[Problem]:
    """``check`` on every item of the list at ``path``, each problem at its index (``zones[2]``)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return []
    return [Problem(f"{path}[{i}]", message) for i, value in enumerate(values) for message in check(value)]


def whole(
    path: str,
    values: object,
    check: Callable[[Sequence[T]], Iterable[str]],
    item_type: type | tuple[type, ...],
) -> list[Problem]:
    """``check`` on the list at ``path`` as one value, where its items only mean something together (the union
    of an allowlist's ranges); a list with an item not of ``item_type`` is the type check's to report."""
    if not isinstance(values, list | tuple) or not all(isinstance(v, item_type) for v in values):
        return []
    return at(path, check(values))


def under(prefix: str, problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` of a nested object, their paths below ``prefix`` (``taints[1]`` + ``effect``)."""
    return [Problem(f"{prefix}.{p.path}" if p.path else prefix, p.message) for p in problems]


def refuse(
    problems: Iterable[str | Problem],
    raising: Callable[[Sequence[str | Problem]], Exception] = InvalidInput,
) -> None:
    """Raise ``raising(problems)`` with every problem, if there is any: :class:`InvalidInput` (a ValueError)
    by default, what the blueprint's validators need; components pass Pulumi's error type."""
    found = list(problems)
    if found:
        raise raising(found)


# --- values -----------------------------------------------------------------------------------------------


def is_int(value: object) -> bool:
    """An integer, and not a bool (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def within(value: object, low: int, high: int, unit: str = "") -> list[str]:
    """An integer from ``low`` to ``high``, both included."""
    if is_int(value) and not low <= value <= high:  # type: ignore[operator]
        return [f"must be {low} to {high}{f' {unit}' if unit else ''}, not {value}"]
    return []


def at_least(value: object, low: int, unit: str = "") -> list[str]:
    if is_int(value) and value < low:  # type: ignore[operator]
        return [f"must be at least {low}{f' {unit}' if unit else ''}, not {value}"]
    return []


def one_of(value: object, allowed: Iterable[object]) -> list[str]:
    choices = list(allowed)
    if isinstance(value, str | int) and value not in choices:
        return [f"{value!r} is not one of {', '.join(str(c) for c in choices)}"]
    return []


def matches(value: object, pattern: str, what: str) -> list[str]:
    """A string that matches ``pattern`` whole: ``what`` says, in words, what it must be."""
    if isinstance(value, str) and not re.fullmatch(pattern, value):
        return [f"{value!r} is not {what}"]
    return []


def not_empty(value: object, what: str) -> list[str]:
    if isinstance(value, Sequence | Mapping) and not isinstance(value, str) and len(value) == 0:
        return [f"name at least one {what}"]
    return []


# --- Kubernetes -------------------------------------------------------------------------------------------

# Kubernetes minor versions every site type accepts (and the manifests are validated against).
SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.31", "1.32", "1.33", "1.34", "1.35")


def kubernetes_version(version: object) -> list[str]:
    """A pinned minor version the platform supports, e.g. "1.33"."""
    if isinstance(version, str) and version not in SUPPORTED_KUBERNETES_VERSIONS:
        return [f"{version!r} is not supported; use one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}"]
    return []


# The effects a taint may have, as Kubernetes spells them (core/v1 Taint.effect).
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Kubernetes object names ("Object Names and IDs", kubernetes.io): a namespace is an RFC 1123 label (at most
# 63 characters), most other objects, a ServiceAccount among them, an RFC 1123 subdomain (at most 253).
RFC1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
RFC1123_SUBDOMAIN = rf"{RFC1123_LABEL}(\.{RFC1123_LABEL})*"


def kubernetes_namespace(name: object) -> list[str]:
    return name_length(name, 1, 63) + matches(
        name,
        RFC1123_LABEL,
        "a namespace name (lowercase letters, digits and '-'; a letter or digit at each end)",
    )


def kubernetes_name(name: object) -> list[str]:
    """The name of a ServiceAccount and most other Kubernetes objects."""
    return name_length(name, 1, 253) + matches(
        name,
        RFC1123_SUBDOMAIN,
        "a Kubernetes name (lowercase letters, digits, '-' and '.'; a letter or digit at each end)",
    )


# --- node pools -------------------------------------------------------------------------------------------


def node_range(min_nodes: int, max_nodes: int) -> list[str]:
    """The autoscaler's range must not be empty."""
    if is_int(min_nodes) and is_int(max_nodes) and min_nodes > max_nodes:
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


def _parse(cidr: object) -> IPNetwork | None:
    if isinstance(cidr, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return cidr
    if not isinstance(cidr, str):  # ipaddress would take an integer as an address
        return None
    try:
        return ipaddress.ip_network(cidr)
    except ValueError:
        return None


def not_a_cidr(cidr: object) -> str:
    return f"{cidr!r} is not a network in CIDR notation (address/prefix, no host bits set)"


def cidr(value: object) -> list[str]:
    """Any network in CIDR notation (address/prefix, no host bits set)."""
    return [not_a_cidr(value)] if isinstance(value, str) and _parse(value) is None else []


def network_cidr(cidr: str | IPNetwork) -> list[str]:
    """A site network's range: private (RFC 1918 or 100.64/10) and /16 to /20."""
    if not isinstance(cidr, str | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return []
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


def admitted(cidr: str | IPNetwork, allowlist: Iterable[str | IPNetwork]) -> bool:
    """Whether every address of ``cidr`` lies inside one range of ``allowlist`` (same IP version only)."""
    network = _parse(cidr)
    ranges = [r for r in map(_parse, allowlist) if r is not None and network is not None]
    return network is not None and any(
        r.version == network.version and network.subnet_of(r)  # type: ignore[arg-type]
        for r in ranges
    )


def api_allowlist(
    cidrs: Iterable[str | IPNetwork],
    max_public_ipv4: int | None = None,
    max_public_ipv6: int | None = None,
) -> list[str]:
    """Who may reach a cluster's public API endpoint: named networks, never everyone.

    Judged by :func:`too_wide` over the union of the ranges, so `0.0.0.0/1` with `128.0.0.0/1` is refused
    as `0.0.0.0/0` is.
    """
    return too_wide(cidrs, max_public_ipv4, max_public_ipv6)


# --- how many addresses a set of ranges admits --------------------------------------------------------------

# Ranges no host on the internet holds: the IANA special-purpose registries (RFC 6890 and its updates) less
# the few entries marked globally reachable. Addresses in these do not count as public.
NON_PUBLIC_IPV4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network" (RFC 791)
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space (RFC 6598)
        "127.0.0.0/8",  # loopback (RFC 1122)
        "169.254.0.0/16",  # link local (RFC 3927)
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.0.2.0/24",  # documentation TEST-NET-1 (RFC 5737)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2 (RFC 5737)
        "203.0.113.0/24",  # documentation TEST-NET-3 (RFC 5737)
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved, and the limited broadcast address (RFC 1112, RFC 919)
    )
)
# IPv6 hosts on the internet hold global unicast addresses (2000::/3, RFC 4291), less documentation space.
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
NON_PUBLIC_IPV6_IN_GLOBAL = (ipaddress.IPv6Network("2001:db8::/32"),)  # documentation (RFC 3849)
# IPv4-mapped IPv6 addresses (RFC 4291 2.5.5.2) are IPv4 addresses: ::ffff:0:0/96 is all of IPv4.
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

# "Too many public addresses" unless a caller says otherwise: a /8 of IPv4 and a /32 of IPv6 (what one
# regional internet registry hands a large network). More than that is not an allowlist of named networks.
DEFAULT_MAX_PUBLIC_IPV4 = 2**24
DEFAULT_MAX_PUBLIC_IPV6 = 2**96
# Words some APIs take for every address (Azure's `*`, `Internet` and `Any` service tags).
EVERY_ADDRESS_WORDS = frozenset({"*", "any", "internet", "all"})


class AddressRange(NamedTuple):
    """A range as written and what it means: ``network`` None when it is not a range at all."""

    text: str
    network: IPNetwork | None
    problem: str | None = None  # why it is malformed (the network may still be known: host bits set)


def parse_range(cidr: str | IPNetwork) -> AddressRange:
    """One written range, read the way an API would read it, and what is malformed about it.

    Malformed forms are named explicitly: a prefix length with leading zeros (`0.0.0.0/00` is `/0`), host
    bits set (`10.0.0.1/8` covers `10.0.0.0/8`), an IPv4-mapped IPv6 range (`::ffff:0.0.0.0/96` is all of
    IPv4), surrounding whitespace, and text that is no range. Each still yields the widest network it can
    mean, so a caller judging exposure judges the worst reading.
    """
    if isinstance(cidr, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return AddressRange(str(cidr), _unmapped(cidr))
    text = str(cidr)
    stripped = text.strip()
    if stripped.lower() in EVERY_ADDRESS_WORDS:
        return AddressRange(text, ipaddress.IPv4Network("0.0.0.0/0"), f"{text!r} means every address")
    problems = []
    if stripped != text:
        problems.append("surrounding whitespace")
    address, slash, prefix = stripped.partition("/")
    if slash and prefix.isascii() and prefix.isdigit() and len(prefix) > 1 and prefix.startswith("0"):
        problems.append(f"prefix length /{prefix} has leading zeros (it reads as /{int(prefix)})")
        prefix = str(int(prefix))
    try:
        network = ipaddress.ip_network(f"{address}/{prefix}" if slash else address, strict=False)
    except ValueError:
        return AddressRange(text, None, not_a_cidr(text))
    if network.network_address != ipaddress.ip_address(address):
        problems.append(f"host bits are set (it covers {network})")
    unmapped = _unmapped(network)
    if unmapped != network:
        problems.append(f"it is an IPv4-mapped IPv6 range (it covers {unmapped})")
    problem = f"{text!r} is malformed: {'; '.join(problems)}" if problems else None
    return AddressRange(text, unmapped, problem)


def _unmapped(network: IPNetwork) -> IPNetwork:
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.subnet_of(IPV4_MAPPED)
    ):
        return ipaddress.IPv4Network((int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96))
    return network


@dataclass(frozen=True)
class Coverage:
    """The union of some ranges: its disjoint networks and how many public addresses it admits."""

    ranges: tuple[AddressRange, ...]
    ipv4: tuple[ipaddress.IPv4Network, ...]
    ipv6: tuple[ipaddress.IPv6Network, ...]

    @property
    def every_ipv4(self) -> bool:
        return any(n.prefixlen == 0 for n in self.ipv4)

    @property
    def every_ipv6(self) -> bool:
        return any(n.prefixlen == 0 for n in self.ipv6)

    @property
    def public_ipv4(self) -> int:
        return _count_outside(self.ipv4, NON_PUBLIC_IPV4)

    @property
    def public_ipv6(self) -> int:
        inside = [n for n in self.ipv6 if n.overlaps(IPV6_GLOBAL_UNICAST)]
        global_part = [n if n.subnet_of(IPV6_GLOBAL_UNICAST) else IPV6_GLOBAL_UNICAST for n in inside]
        return _count_outside(tuple(global_part), NON_PUBLIC_IPV6_IN_GLOBAL)

    @property
    def malformed(self) -> tuple[AddressRange, ...]:
        return tuple(r for r in self.ranges if r.problem is not None)


def _count_outside(networks: Sequence[IPNetwork], excluded: Sequence[IPNetwork]) -> int:
    """Addresses of disjoint ``networks`` outside disjoint ``excluded`` ranges.

    Two CIDR ranges either nest or are apart, so each overlap is the smaller range whole.
    """
    total = sum(n.num_addresses for n in networks)
    for n in networks:
        for x in excluded:
            if n.version == x.version and n.overlaps(x):
                total -= min(n.num_addresses, x.num_addresses)
    return total


def coverage(cidrs: Iterable[str | IPNetwork]) -> Coverage:
    """The union of ``cidrs`` by address arithmetic (never by comparing strings)."""
    ranges = tuple(parse_range(c) for c in cidrs)
    networks = [r.network for r in ranges if r.network is not None]
    v4 = tuple(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv4Network)))
    v6 = tuple(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv6Network)))
    return Coverage(ranges, v4, v6)


def _how_many(count: int) -> str:
    """A count of addresses as a person reads it: digits up to IPv4's size, powers of two beyond."""
    if count <= 2**32:
        return f"{count:,}"
    power = count.bit_length() - 1
    return f"2^{power}" if count == 2**power else f"more than 2^{power}"


def _listed(texts: Sequence[str], most: int = 6) -> str:
    shown = ", ".join(texts[:most])
    return f"{shown} and {len(texts) - most} more" if len(texts) > most else shown


def too_wide(
    cidrs: Iterable[str | IPNetwork],
    max_public_ipv4: int | None = None,
    max_public_ipv6: int | None = None,
    *,
    malformed: bool = True,
) -> list[str]:
    """Why a set of ranges that should name particular networks admits too much (empty: it does not).

    The one judgement of "open to the internet" for the spec and every policy: over the union of the
    ranges, by address arithmetic. A union covering every IPv4 or every IPv6 address is always refused,
    however it is written (`0.0.0.0/0`, `0.0.0.0/00`, `0.0.0.0/1` with `128.0.0.0/1`, `::ffff:0:0/96`);
    one covering more than ``max_public_ipv4`` public IPv4 addresses (default 2^24, a /8) or
    ``max_public_ipv6`` public IPv6 addresses (default 2^96, a /32) is too wide. Malformed ranges are named,
    and judged by the widest network they can mean; with ``malformed`` False only the ones that mean no
    network at all are (a policy judging what an API will accept reports exposure, not spelling).
    """
    max_v4 = DEFAULT_MAX_PUBLIC_IPV4 if max_public_ipv4 is None else max_public_ipv4
    max_v6 = DEFAULT_MAX_PUBLIC_IPV6 if max_public_ipv6 is None else max_public_ipv6
    union = coverage(cidrs)
    problems = [
        r.problem for r in union.malformed if r.problem is not None and (malformed or r.network is None)
    ]
    written = _listed([r.text for r in union.ranges])
    if union.every_ipv4 or union.every_ipv6:
        family = "IPv4" if union.every_ipv4 else "IPv6"
        problems.append(
            f"{written} covers every {family} address (open to the whole internet); "
            "list the networks that need access"
        )
    else:
        for count, limit, family in (
            (union.public_ipv4, max_v4, "IPv4"),
            (union.public_ipv6, max_v6, "IPv6"),
        ):
            if count > limit:
                problems.append(
                    f"{written} covers {_how_many(count)} public {family} addresses, more than "
                    f"{_how_many(limit)}; list the networks that need access"
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
    if not isinstance(name, str):
        return []
    problems = name_length(name, 1, max_length)
    if not re.match(DNS_LABEL_PATTERN, name):
        problems.append(
            f"{name!r} is not a DNS label: lowercase letters, digits and hyphens, starting with a letter "
            "and ending with a letter or digit"
        )
    return problems


def aks_pool_name(name: str) -> list[str]:
    if isinstance(name, str) and not re.match(AKS_POOL_NAME_PATTERN, name):
        return [f"{name!r}: AKS pool names are 1-12 lowercase letters and digits"]
    return []


def name_length(name: object, min_length: int, max_length: int) -> list[str]:
    if isinstance(name, str) and not min_length <= len(name) <= max_length:
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


# --- Azure ------------------------------------------------------------------------------------------------

# An Azure region's availability zones, as its APIs name them.
AZURE_ZONES = ("1", "2", "3")


def azure_zones(zones: object) -> list[Problem]:
    """Zones of a region, each named once: problems at their index (``zones[2]``)."""
    if not isinstance(zones, list | tuple):
        return []
    problems = each("zones", zones, lambda zone: one_of(zone, AZURE_ZONES))
    seen: set[object] = set()
    for i, zone in enumerate(zones):
        if zone in seen:
            problems.append(Problem(f"zones[{i}]", f"zone {zone!r} is named twice"))
        seen.add(zone)
    return problems


# A Log Analytics workspace keeps data 30 to 730 days (its interactive retention).
LOG_ANALYTICS_RETENTION_DAYS = (30, 730)


def uuid(value: object, what: str) -> list[str]:
    """An Entra ID object, tenant or subscription ID."""
    return matches(value, r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", f"{what} (a GUID)")


# --- Alibaba Cloud ----------------------------------------------------------------------------------------

# "An alias name excluding the prefix must be 1 to 255 characters in length and can contain letters, digits,
# underscores (_), hyphens (-), and forward slashes (/)" (Alibaba Cloud KMS, "Create an alias").
ALICLOUD_KMS_ALIAS_PATTERN = r"[A-Za-z0-9_/-]{1,255}"
# OSS bucket names: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or
# digit (OSS, "Bucket naming conventions").
OSS_BUCKET_PATTERN = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"


# "The name must be 1 to 64 characters in length, and can contain letters, digits, periods (.), and hyphens
# (-)" (RAM API reference, CreateRole).
RAM_ROLE_NAME_PATTERN = r"[A-Za-z0-9.-]{1,64}"
# The Container Registry Enterprise Edition instance types (pulumi-alicloud cr.RegistryEnterpriseInstance's
# instance_type).
CR_EE_EDITIONS = ("Basic", "Standard", "Advanced")


# An ACK release, e.g. 1.33.1-aliyun.1: Kubernetes' version and ACK's build of it.
ACK_VERSION_PATTERN = r"^\d+\.\d+\.\d+-aliyun\.\d+$"
# Days SLS may keep a logstore's data (its TTL).
SLS_RETENTION_DAYS = (1, 3650)
# SLS project names: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or a
# digit (Simple Log Service API reference, CreateProject).
SLS_PROJECT_PATTERN = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"


def ack_version(version: object) -> list[str]:
    """An ACK release of a Kubernetes minor version the platform supports."""
    if not isinstance(version, str):
        return []
    if not re.fullmatch(ACK_VERSION_PATTERN, version):
        return [f"{version!r} is not an ACK release such as 1.33.1-aliyun.1"]
    return kubernetes_version(".".join(version.split(".")[:2]))


def ram_role_name(name: object) -> list[str]:
    return matches(name, RAM_ROLE_NAME_PATTERN, "a RAM role name: 1 to 64 letters, digits, '.' and '-'")


def alicloud_kms_alias(alias: object) -> list[str]:
    """An alias name without its ``alias/`` prefix, which the component adds."""
    if isinstance(alias, str) and alias.startswith("alias/"):
        return [f"{alias!r}: give the name without 'alias/'"]
    return matches(
        alias, ALICLOUD_KMS_ALIAS_PATTERN, "a KMS alias name: 1 to 255 letters, digits, '_', '-', '/'"
    )


def oss_bucket_name(name: object) -> list[str]:
    return matches(
        name,
        OSS_BUCKET_PATTERN,
        "an OSS bucket name: 3 to 63 lowercase letters, digits and '-', not at the ends",
    )


# --- AWS --------------------------------------------------------------------------------------------------

# CloudWatch Logs keeps a log group for one of these numbers of days, and no other ("Possible values are: 1,
# 3, 5, ... 3653", CloudWatch Logs API reference, PutRetentionPolicy).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# "The name can contain only alphanumeric characters (case-sensitive), hyphens, and underscores. It must start
# with an alphanumeric character and can't be longer than 100 characters" (EKS API reference, CreateCluster).
EKS_CLUSTER_NAME_PATTERN = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
# ECR repository names: 2 to 256 characters, "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
# (ECR API reference, CreateRepository).
ECR_REPOSITORY_PATTERN = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
# A KMS alias (after "alias/"): letters, digits, "/", "_" and "-", 1 to 256 characters with the prefix, and
# never "aws/...", which AWS keeps for its managed keys (KMS developer guide, "Create aliases").
KMS_ALIAS_PATTERN = r"[A-Za-z0-9/_-]{1,250}"
# An IAM role's ARN, in any partition (aws, aws-cn, aws-us-gov).
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"


def cloudwatch_retention_days(days: object) -> list[str]:
    if is_int(days) and days not in CLOUDWATCH_RETENTION_DAYS:
        kept = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
        return [f"CloudWatch Logs keeps logs for {kept} days, not {days}"]
    return []


def eks_cluster_name(name: object) -> list[str]:
    return matches(
        name,
        EKS_CLUSTER_NAME_PATTERN,
        "an EKS cluster name: 1 to 100 letters, digits, hyphens and underscores, starting with a letter "
        "or digit",
    )


def ecr_repository_name(name: object) -> list[str]:
    problems = name_length(name, 2, 256) if isinstance(name, str) else []
    return problems + matches(
        name,
        ECR_REPOSITORY_PATTERN,
        "an ECR repository name: lowercase letters and digits, separated by one of '.', '_', '-' or '/'",
    )


def kms_alias(alias: object) -> list[str]:
    """An alias name without its ``alias/`` prefix, which the component adds."""
    if isinstance(alias, str) and alias.startswith(("alias/", "aws/")):
        return [f"{alias!r}: give the name without 'alias/'; 'aws/' is reserved for AWS managed keys"]
    return matches(alias, KMS_ALIAS_PATTERN, "a KMS alias name: 1 to 250 letters, digits, '/', '_' and '-'")


def role_arn(arn: object) -> list[str]:
    return matches(arn, ROLE_ARN_PATTERN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
