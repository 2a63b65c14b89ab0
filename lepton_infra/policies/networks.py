"""Address ranges: is a list of source ranges open to the internet, and does it stay inside an allowlist.

"Open" is decided by ``lepton_infra.validation.too_wide``, the one judgement the spec makes too: address
arithmetic over the union of the ranges (``0.0.0.0/1`` with ``128.0.0.0/1`` is ``0.0.0.0/0``), never a
comparison of strings, with the public-address limits of the pack's settings.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from lepton_infra.policies.settings import PolicySettings
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
