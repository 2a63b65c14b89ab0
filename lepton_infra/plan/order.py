"""The plan's resources in the order the program constructed them, the same on every run.

The SDK registers a resource from a task that first awaits its inputs, so the order registrations reach
the monitor varies from run to run of one program: plan JSON, manifests, the printed tree and the lists
in findings changed between two runs of one commit, and a review diff showed moves that were not changes.
Construction order is the program's own: a stack transformation (``register_stack_transformation``, which
the SDK applies synchronously in each resource's constructor) numbers each resource as it is constructed,
by the chain of (type, name) from the stack down, which is what a URN is made of. The plan is then laid out
as its parent tree, each resource before its children, siblings in construction order; a resource the
transformation did not see comes after its numbered siblings, by URN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import pulumi

from lepton_infra.plan.model import PlanResource

_STACK_TYPE = "pulumi:pulumi:Stack"
# A resource's place in the parent tree: each (type, name) from below the stack down to it.
Chain = tuple[tuple[str, str], ...]


class ConstructionOrder:
    """Numbers resources as their constructors run; ``sort`` lays a plan out by those numbers."""

    def __init__(self) -> None:
        self._chains: dict[int, Chain] = {}  # id() of a constructed resource -> its chain
        self._numbers: dict[Chain, int] = {}

    def start(self) -> None:
        """Number every resource constructed from now on in this stack (call once the root stack exists)."""
        root = pulumi.runtime.get_root_resource()
        if root is not None:
            self._chains[id(root)] = ()
        pulumi.runtime.register_stack_transformation(self._number)

    def _number(self, args: pulumi.ResourceTransformationArgs) -> None:
        parent = args.opts.parent if args.opts and args.opts.parent else pulumi.runtime.get_root_resource()
        chain = (*self._chains.get(id(parent), ()), (args.type_, args.name))
        self._chains[id(args.resource)] = chain
        self._numbers.setdefault(chain, len(self._numbers))

    def sort(self, resources: Sequence[PlanResource]) -> list[PlanResource]:
        """``resources`` as their parent tree, depth first, siblings in construction order."""
        by_urn = {r.urn: r for r in resources}
        chains: dict[str, Chain] = {}

        def chain_of(resource: PlanResource) -> Chain:
            found = chains.get(resource.urn)
            if found is None:
                parent = by_urn.get(resource.parent or "")
                above = chain_of(parent) if parent is not None else ()
                found = () if resource.type == _STACK_TYPE else (*above, (resource.type, resource.name))
                chains[resource.urn] = found
            return found

        def rank(resource: PlanResource) -> tuple[int, int, str]:
            number = self._numbers.get(chain_of(resource))
            return (0, number, resource.urn) if number is not None else (1, 0, resource.urn)

        children: dict[str | None, list[PlanResource]] = defaultdict(list)
        for resource in resources:
            children[resource.parent if resource.parent in by_urn else None].append(resource)
        ordered: list[PlanResource] = []
        pending = sorted(children[None], key=rank, reverse=True)
        while pending:
            resource = pending.pop()
            ordered.append(resource)
            pending.extend(sorted(children.get(resource.urn, []), key=rank, reverse=True))
        return ordered
