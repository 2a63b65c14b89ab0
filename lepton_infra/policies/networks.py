"""Address ranges: is a list of source ranges open to the internet, and does it stay inside an allowlist.

"Open" is decided by ``lepton_infra.validation.too_wide``, the one judgement the spec makes too: address
arithmetic over the union of the ranges (``0.0.0.0/1`` with ``128.0.0.0/1`` is ``0.0.0.0/0``), never a
comparison of strings, with the public-address limits of the pack's settings.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from lepton_infra.policies.rule import Outcome, Subject
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import get
from lepton_infra.validation import parse_range, too_wide

# The settings that bound how many public addresses a list of ranges may admit: every rule that judges a
# CIDR declares these.
CIDR_SETTINGS = ("maxPublicIpv4Addresses", "maxPublicIpv6Addresses")


def open_ranges(cidrs: Iterable[object], settings: PolicySettings) -> list[str]:
    """Why the union of ``cidrs`` admits too much of the internet (empty: it does not)."""
    return too_wide(
        [str(c) for c in cidrs],
        settings.max_public_ipv4_addresses,
        settings.max_public_ipv6_addresses,
        malformed=False,
    )


def ip_rule_ranges(rules: Iterable[object], field: str) -> list[object]:
    """The address ranges of Azure network rules (``{iPAddressOrRange: ...}``, ``{value: ...}``)."""
    return [r for r in (get(rule, field) for rule in rules) if r is not None]


def exposed_ports(
    opened: Iterable[tuple[str | None, Iterable[object]]], ports: Iterable[str], settings: PolicySettings
) -> Iterator[str]:
    """Which admin ports a security group's ingress opens to the internet, judged over the union of sources.

    ``opened`` pairs each rule's sources with the port it opens (None: all traffic). Two rules of a /1 each
    open a port as one /0 would, and an all-traffic rule's sources count toward every port.
    """
    sources: dict[str | None, list[str]] = {}
    for port, cidrs in opened:
        sources.setdefault(port, []).extend(str(c) for c in cidrs)
    everything = sources.get(None, [])
    if everything and (wide := open_ranges(everything, settings)):
        yield f"ingress admits all traffic from the internet, SSH (port 22) included: {'; '.join(wide)}"
        return
    for port in ports:
        if port in sources and (wide := open_ranges([*everything, *sources[port]], settings)):
            yield f"ingress admits {port} from the internet: {'; '.join(wide)}"


def outside_allowlist(cidrs: Iterable[str], allowlist: Iterable[str]) -> list[str]:
    """The CIDRs not contained in any allowlisted network (an empty allowlist allows every non-world CIDR)."""
    allowed = [ipaddress.ip_network(a, strict=False) for a in allowlist]
    if not allowed:
        return []
    outside = []
    for cidr in cidrs:
        network = parse_range(cidr).network
        if network is None or not any(
            network.version == a.version and network.subnet_of(a)  # type: ignore[arg-type]
            for a in allowed
        ):
            outside.append(cidr)
    return outside


def api_allowlist_problems(
    cidrs: Iterable[object], allowlist: Iterable[str], settings: PolicySettings
) -> list[str]:
    """What is wrong with a public API endpoint's source allowlist (empty: nothing)."""
    written = [str(c) for c in cidrs]
    if not written:
        return ["the public endpoint has no source allowlist (open to the internet)"]
    too_much = open_ranges(written, settings)
    if too_much:
        return [f"the public endpoint's allowlist: {problem}" for problem in too_much]
    outside = outside_allowlist(written, allowlist)
    return (
        [f"the public endpoint allows {', '.join(outside)}, outside the configured allowed_api_cidrs"]
        if outside
        else []
    )


def minor_version(version: object) -> tuple[int, int] | None:
    """``(1, 33)`` from a cluster version as each cloud writes it (``1.33``, ``1.33.1-aliyun.1``)."""
    parts = str(version).split(".")
    try:
        return int(parts[0]), int(parts[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def unsupported_version(version: object, minimum: str) -> str | None:
    """Why a cluster version is out of support (older than ``minimum``, or unreadable), or None."""
    if version is None:
        return None  # the cloud's default for a new cluster is a supported version
    found, oldest = minor_version(version), minor_version(minimum)
    if found is None:
        return f"cannot read the Kubernetes version {version!r}"
    if oldest is not None and found < oldest:
        return f"Kubernetes {found[0]}.{found[1]} is older than {minimum}, the oldest version allowed"
    return None


def version_check(field: str) -> Callable[[Subject, PolicySettings], Iterator[Outcome]]:
    """A cluster rule: the version in ``field`` is one the cloud still supports (``minKubernetesVersion``)."""

    def check(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
        problem = unsupported_version(get(r.props, field), settings.min_kubernetes_version)
        if problem:
            yield problem

    return check
