"""Joining resources in view rules: which resource an input refers to, even when its id is unknown.

Every join is answered from an index built once, so a rule that joins parts to owners (a bucket and its
encryption, a cluster and its diagnostic setting) stays linear in the number of resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from lepton_infra.policies.rule import Outcome, Undecided
from lepton_infra.policies.values import UnknownRead, is_unknown, read, strict
from lepton_infra.policies.view import Finding, Resource, Stack

# Inputs that hold a resource's own name or id, for matching a reference by value.
KEYS = ("bucket", "name", "arn", "id")


class Owners:
    """Resources of some types, indexed by URN and by the values a reference to them may hold."""

    def __init__(self, owners: Sequence[Resource], keys: Iterable[str] = KEYS) -> None:
        self.owners = list(owners)
        self._by_urn = {o.urn: o for o in self.owners}
        self._by_value: dict[str, Resource] = {}
        for owner in self.owners:
            for value in (owner.name, owner.urn, *(read(owner.props, k) for k in keys)):
                if isinstance(value, str) and value and not is_unknown(value):
                    self._by_value.setdefault(value, owner)

    def referenced(
        self, part: Resource, prop: str, path: Sequence[str] = (), *, among_dependencies: bool = True
    ) -> Resource | None:
        """The owner ``part.prop`` points at: by recorded property dependency, by value, or by the one
        owner among its dependencies (a preview knows no ids of resources not yet created). Without
        ``among_dependencies`` only the first two: for a part that names two owners (a logging
        configuration's source and target bucket), where the one owner it depends on may be the other."""
        by_prop = [self._by_urn[u] for u in part.property_dependencies.get(prop, ()) if u in self._by_urn]
        if len(by_prop) == 1:
            return by_prop[0]
        value = read(part.props, prop, *path)
        if isinstance(value, str) and not is_unknown(value) and value in self._by_value:
            return self._by_value[value]
        if not among_dependencies:
            return None
        among = [self._by_urn[d] for d in part.dependencies if d in self._by_urn]
        return among[0] if len(among) == 1 else None


def owners_with_parts(
    stack: Stack,
    owner_types: Iterable[str],
    part_types: Iterable[str],
    prop: str,
    keys: Iterable[str] = KEYS,
) -> list[tuple[Resource, list[Resource]]]:
    """Each resource of ``owner_types`` with the ``part_types`` resources that point at it via ``prop``."""
    owners = Owners([o for o in stack.of_type(*owner_types) if o.custom], keys)
    found: dict[str, list[Resource]] = {o.urn: [] for o in owners.owners}
    for part in stack.of_type(*part_types):
        owner = owners.referenced(part, prop)
        if owner is not None:
            found[owner.urn].append(part)
    return [(o, found[o.urn]) for o in owners.owners]


def per_owner(
    stack: Stack,
    owner_types: Iterable[str],
    part_types: Iterable[str],
    prop: str,
    rule: Callable[[Resource, list[Resource]], Iterable[Outcome]],
) -> Iterator[Finding]:
    """Run ``rule`` on each owner with its parts; its messages are reported on the owner.

    The rule reads inputs through ``values.strict``, as a resource rule does: reading a value unknown
    until deployment, or a secret a saved plan does not show, leaves that owner undecided instead of
    reading as "off" (a secret `blockPublicAcls` was a false "leaves blockPublicAcls off").
    """
    for owner, parts in owners_with_parts(stack, owner_types, part_types, prop):
        try:
            outcomes = list(rule(_strict(owner), [_strict(p) for p in parts]))
        except UnknownRead as unknown:
            outcomes = [Undecided(unknown.message)]
        for outcome in outcomes:
            if isinstance(outcome, Undecided):
                yield Finding(f"{owner.name}: {outcome.reason}", owner.urn, undecided=True)
            else:
                yield Finding(outcome, owner.urn)


def _strict(resource: Resource) -> Resource:
    return replace(resource, props=strict(resource.props))
