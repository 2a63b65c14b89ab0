"""Joining resources in stack policies: which resource an input refers to, even when its id is unknown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from pulumi_policy import PolicyResource

from lepton_infra.policies.props import UnknownValueError, get

# Inputs that hold a resource's own name or id, for matching a reference by value.
_KEYS = ("bucket", "name", "arn", "id")


def _value(resource: PolicyResource, *path: str) -> object:
    try:
        return get(resource.props, *path)
    except UnknownValueError:
        return None


def referenced(
    resource: PolicyResource,
    prop: str,
    candidates: Sequence[PolicyResource],
    keys: Iterable[str] = _KEYS,
    path: Sequence[str] = (),
) -> PolicyResource | None:
    """The candidate ``resource.prop`` points at: by recorded property dependency, by value, or by the one
    candidate among its dependencies (a preview knows no ids of resources not yet created)."""
    by_prop = [c for c in resource.property_dependencies.get(prop, []) if c in candidates]
    if len(by_prop) == 1:
        return by_prop[0]
    value = _value(resource, prop, *path)
    if value is not None:
        for candidate in candidates:
            if value in (candidate.name, candidate.urn, *(_value(candidate, k) for k in keys)):
                return candidate
    among_dependencies = [c for c in resource.dependencies if c in candidates]
    return among_dependencies[0] if len(among_dependencies) == 1 else None


def attached(
    owners: Sequence[PolicyResource], parts: Iterable[PolicyResource], prop: str, keys: Iterable[str] = _KEYS
) -> dict[str, list[PolicyResource]]:
    """For each owner urn, the parts whose ``prop`` refers to it."""
    found: dict[str, list[PolicyResource]] = {o.urn: [] for o in owners}
    for part in parts:
        owner = referenced(part, prop, owners, keys=tuple(keys))
        if owner is not None:
            found[owner.urn].append(part)
    return found


def owners_with_parts(
    resources: Sequence[PolicyResource],
    owner_types: Iterable[str],
    part_types: Iterable[str],
    prop: str,
    keys: Iterable[str] = _KEYS,
) -> list[tuple[PolicyResource, list[PolicyResource]]]:
    """Each resource of ``owner_types`` with the ``part_types`` resources that point at it via ``prop``."""
    owner_types, part_types = frozenset(owner_types), frozenset(part_types)
    owners = [r for r in resources if r.resource_type in owner_types]
    found = attached(owners, (r for r in resources if r.resource_type in part_types), prop, keys)
    return [(o, found[o.urn]) for o in owners]


def per_owner(
    resources: Sequence[PolicyResource],
    owner_types: Iterable[str],
    part_types: Iterable[str],
    prop: str,
    rule: Callable[[PolicyResource, list[PolicyResource]], Iterable[str]],
) -> Iterator[tuple[str, str | None]]:
    """Run ``rule`` on each owner with its parts; its messages are reported on the owner."""
    for owner, parts in owners_with_parts(resources, owner_types, part_types, prop):
        for message in rule(owner, parts):
            yield message, owner.urn
