"""The neutral resource view: what a rule sees of a resource and of the whole stack, whatever the source.

A rule written on this view is a plain function ``(Stack, PolicySettings) -> Iterable[Finding]``. It runs
the same way under ``pulumi preview`` (``pack.py`` converts the analyzer's ``PolicyResource`` objects) and
offline (``plan/view.py`` converts a ``PlanResource`` from our plan JSON, a preview or a stack export),
and nothing here imports pulumi_policy, so an offline check of such rules starts without it.

Design choices, so the security pack can move onto the same view (issue 16):

- A resource refers to others by URN (``parent``, ``provider``, ``dependencies``), never by object: the
  view is plain data that pickles, compares and prints, and ``Stack`` answers the joins from one index.
- ``props`` are plain values in the engine's camelCase names. A value the cloud computes later stays the
  engine's unknown sentinel (``values.is_unknown``): a rule decides per field whether "unknown" means
  "cannot tell" (skip) or is itself a problem, instead of an exception deciding for it.
- ``options`` carries the engine options by the engine's names (``protect``, ``ignoreChanges``,
  ``customTimeouts``, ``deleteBeforeReplace``, ``aliases``...), so rules that judge how Pulumi will
  treat a resource (waiting, replacing) read them where the engine does.
- ``Stack.memo`` lets the rules of one pack share derived facts (a cluster's pools, say) that they would
  otherwise each rebuild: every join is built once per stack, keeping a pack linear in the resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from lepton_infra.policies import values

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of the stack: its type, names, inputs, and its links to others by URN."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    parent: str | None = None
    # The URN of the provider resource that manages this one (no "::id" suffix), None for the default.
    provider: str | None = None
    dependencies: tuple[str, ...] = ()
    # Which resources each input came from, by input name: joins that survive unknown ids in a preview.
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    custom: bool = True

    def get(self, *path: str | int, default: Any = None) -> Any:
        """The input at ``path`` (camelCase steps, list indexes), or ``default``."""
        return values.get(self.props, *path, default=default)

    def known(self, *path: str | int, default: Any = None) -> Any:
        """The input at ``path``, raising ``values.UnknownRead`` where it is unknown during preview: for an
        input a verdict turns on (``values.known``)."""
        return values.known(self.props, *path, default=default)

    def option(self, name: str) -> Any:
        return self.options.get(name)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a stack rule found: what will happen and what to do, on the resource to look at."""

    message: str
    urn: str | None
    # True when the rule could not decide: a value it needs is unknown until deployment. Reported as an
    # advisory "can't run policy ... during preview", as Pulumi reports a policy that reads an unknown.
    undecided: bool = False


class Stack:
    """Every resource of one stack, indexed once: by URN, by type, by parent and by provider."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources: tuple[Resource, ...] = tuple(resources)
        self._by_urn = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Resource]] = defaultdict(list)
        self._children: dict[str, list[Resource]] = defaultdict(list)
        for r in self.resources:
            self._by_type[r.type].append(r)
            if r.parent:
                self._children[r.parent].append(r)
        self._memo: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.resources)

    def get(self, urn: str | None) -> Resource | None:
        return self._by_urn.get(urn) if urn else None

    def of_type(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self._by_type.get(t, ())]

    def matching(self, predicate: Callable[[str], bool]) -> list[Resource]:
        """Resources whose type token satisfies ``predicate`` (e.g. every ``kubernetes:`` object)."""
        return [r for t, group in self._by_type.items() if predicate(t) for r in group]

    def children(self, urn: str) -> list[Resource]:
        return list(self._children.get(urn, ()))

    def provider_of(self, resource: Resource) -> Resource | None:
        return self.get(resource.provider)

    def ancestors(self, resource: Resource) -> Iterator[Resource]:
        """The resource's parent, its parent's parent, ... up to the stack."""
        seen = {resource.urn}
        current = self.get(resource.parent)
        while current is not None and current.urn not in seen:
            seen.add(current.urn)
            yield current
            current = self.get(current.parent)

    def references(self, resource: Resource, prop: str | None = None) -> list[Resource]:
        """What ``resource`` depends on: through input ``prop`` where the engine recorded it, else all."""
        urns: Iterable[str] = ()
        if prop is not None:
            urns = resource.property_dependencies.get(prop, ())
        if not urns:
            urns = resource.dependencies
        return [r for u in urns if (r := self._by_urn.get(u)) is not None]

    def secrets_strict(self) -> Stack:
        """This stack with inputs read through ``values.secrets_strict`` (reading a secret raises
        ``UnknownRead``), built once and shared by every rule that reads it; it keeps its own memo."""
        return self.memo(
            "secrets-strict",
            lambda s: Stack(replace(r, props=values.secrets_strict(r.props)) for r in s.resources),
        )

    def memo(self, key: str, build: Callable[[Stack], T]) -> T:
        """A fact derived from the whole stack, built on first use and shared by every rule after."""
        if key not in self._memo:
            self._memo[key] = build(self)
        found: T = self._memo[key]
        return found
