"""Human-readable views of a plan: the resource tree and counts per type."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.plan.queues_summary import render_queues

if TYPE_CHECKING:
    from lepton_infra.blueprint import PlatformSpec


def render_tree(plan: Plan) -> str:
    children: dict[str | None, list[PlanResource]] = defaultdict(list)
    known = {r.urn for r in plan.resources}
    for resource in plan.resources:
        parent = resource.parent if resource.parent in known else None
        children[parent].append(resource)
    lines: list[str] = []

    def walk(resource: PlanResource, depth: int) -> None:
        marks = " [protected]" if resource.protect else ""
        lines.append(f"{'  ' * depth}{resource.name}  ({resource.type}){marks}")
        for child in children.get(resource.urn, []):
            walk(child, depth + 1)

    for root in children[None]:
        walk(root, 0)
    return "\n".join(lines)


def render_summary(plan: Plan, spec: PlatformSpec | None = None) -> str:
    """Resources per type, most frequent first, then the totals by kind; then the GPU capacity per site and
    pool where the plan comes from a platform ``spec``; then the GPU pools' sizes and the teams' quotas,
    where the plan queues work with Kueue."""
    counts = Counter(r.type for r in plan.resources if r.type != "pulumi:pulumi:Stack")
    lines = [f"{n:>5}  {type_}" for type_, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    providers = sum(n for type_, n in counts.items() if type_.startswith("pulumi:providers:"))
    custom = sum(1 for r in plan.resources if r.custom) - providers
    components = sum(1 for r in plan.resources if not r.custom and r.type != "pulumi:pulumi:Stack")
    lines.append(f"{custom:>5}  resources in all, with {providers} provider(s) and {components} components")
    if spec is not None:
        from lepton_infra.plan.capacity import render_capacity

        lines += render_capacity(spec)
    lines += render_queues(plan)
    return "\n".join(lines)
