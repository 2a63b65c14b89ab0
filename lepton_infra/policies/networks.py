"""Address ranges: is a CIDR list open to the world, and does it stay inside a configured allowlist."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from lepton_infra.policies.rule import Outcome, Subject
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import get

WORLD = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any"})


def is_world(cidr: str) -> bool:
    return cidr.strip().lower() in WORLD


def outside_allowlist(cidrs: Iterable[str], allowlist: Iterable[str]) -> list[str]:
    """The CIDRs not contained in any allowlisted network (an empty allowlist allows every non-world CIDR)."""
    allowed = [ipaddress.ip_network(a, strict=False) for a in allowlist]
    if not allowed:
        return []
    outside = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            outside.append(cidr)
            continue
        if not any(network.version == a.version and network.subnet_of(a) for a in allowed):  # type: ignore[arg-type]
            outside.append(cidr)
    return outside


def api_allowlist_problems(cidrs: Iterable[str], allowlist: Iterable[str]) -> list[str]:
    """What is wrong with a public API endpoint's source allowlist (empty: nothing)."""
    cidrs = [str(c) for c in cidrs]
    if not cidrs:
        return ["the public endpoint has no source allowlist (open to the internet)"]
    open_ones = [c for c in cidrs if is_world(c)]
    if open_ones:
        return [f"the public endpoint allows {', '.join(open_ones)}"]
    outside = outside_allowlist(cidrs, allowlist)
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
