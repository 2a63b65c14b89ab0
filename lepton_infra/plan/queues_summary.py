"""The plan's GPU sharing at a glance: each pool's size at its maximum, and each team's quota per
accelerator and site, read back from the Kueue objects the plan would apply (so it shows what Kueue gets)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from lepton_infra.blueprint.queueing import DISPATCH_FLAVOR_PREFIX
from lepton_infra.components.gpu_nodes import ACCELERATOR_LABEL
from lepton_infra.components.kubernetes.queues import MAX_GPUS_LABEL, SITE_LABEL, TEAM_LABEL
from lepton_infra.plan.model import Plan, PlanResource

FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
SiteModel = tuple[str, str]  # (site, accelerator)


@dataclass
class _Pools:
    """Per site: flavor name → accelerator; per (site, accelerator): GPUs at max, or unbounded."""

    accelerator: dict[SiteModel, str] = field(default_factory=dict)
    capacity: dict[SiteModel, int] = field(default_factory=lambda: defaultdict(int))
    unbounded: set[SiteModel] = field(default_factory=set)


@dataclass
class _Quota:
    nominal: int = 0
    # None: no limit on some flavor of the accelerator.
    borrow: int | None = 0
    lend: int | None = 0

    def add(self, entry: dict[str, Any]) -> None:
        self.nominal += int(entry.get("nominalQuota", 0))
        self.borrow = _plus(self.borrow, entry.get("borrowingLimit"))
        self.lend = _plus(self.lend, entry.get("lendingLimit"))


def _plus(total: int | None, value: Any) -> int | None:
    return None if total is None or value is None else total + int(value)


def _labels(resource: PlanResource) -> dict[str, Any]:
    return dict((resource.inputs.get("metadata") or {}).get("labels") or {})


def _name(resource: PlanResource) -> str:
    return str((resource.inputs.get("metadata") or {}).get("name", resource.name))


def _pool_lines(plan: Plan, pools: _Pools) -> list[str]:
    lines = ["", "GPU pools at their maximum:"]
    for flavor in sorted(plan.of_type(FLAVOR), key=lambda f: (_labels(f).get(SITE_LABEL, ""), _name(f))):
        labels, name = _labels(flavor), _name(flavor)
        site, model = str(labels.get(SITE_LABEL, "?")), str(labels.get(ACCELERATOR_LABEL, "?"))
        pools.accelerator[(site, name)] = model
        if name.startswith(DISPATCH_FLAVOR_PREFIX):
            continue  # a MultiKueue manager's count of the workers' pools, not a pool of its own
        most = labels.get(MAX_GPUS_LABEL)
        if most is None:
            pools.unbounded.add((site, model))
        else:
            pools.capacity[(site, model)] += int(most)
        lines.append(f"  {site:<14} {name:<16} {model:<10} {f'{most} GPUs' if most else 'no stated maximum'}")
    return lines


def _team_lines(plan: Plan, pools: _Pools, nominal: dict[SiteModel, int]) -> list[str]:
    lines = ["", "Team GPU quotas (Kueue ClusterQueues: nominal GPUs per site and accelerator):"]
    for queue in sorted(
        plan.of_type(CLUSTER_QUEUE), key=lambda q: (_labels(q).get(TEAM_LABEL, ""), _name(q))
    ):
        labels, spec = _labels(queue), queue.inputs.get("spec") or {}
        site, team, cohort = (
            str(labels.get(SITE_LABEL, "?")),
            str(labels.get(TEAM_LABEL, "?")),
            spec.get("cohortName"),
        )
        dispatch = "admissionChecksStrategy" in spec
        title = (
            f"{team} (MultiKueue dispatch)" if dispatch else f"{team} (cohort {cohort})" if cohort else team
        )
        quotas: dict[str, _Quota] = defaultdict(_Quota)
        for group in spec.get("resourceGroups") or []:
            for flavor in group.get("flavors", []):
                for entry in flavor.get("resources", []):
                    quotas[pools.accelerator.get((site, flavor["name"]), "?")].add(entry)
        for model, quota in sorted(quotas.items()):
            if not dispatch:
                nominal[(site, model)] += quota.nominal
            limits = ""
            if cohort:
                borrow = (
                    f"borrows up to {quota.borrow}" if quota.borrow is not None else "borrows what is lent"
                )
                lend = f"lends up to {quota.lend}" if quota.lend is not None else "lends what is idle"
                limits = f"  ({borrow}, {lend})"
            lines.append(f"  {title:<34} {site:<14} {model:<10} {quota.nominal:>5}{limits}")
    return lines


def render_queues(plan: Plan) -> list[str]:
    """Lines for `lepton-infra plan`'s summary; none when the plan has no Kueue objects."""
    if not plan.of_type(FLAVOR):
        return []
    pools = _Pools()
    nominal: dict[SiteModel, int] = defaultdict(int)
    lines = [*_pool_lines(plan, pools), *_team_lines(plan, pools, nominal)]
    for (site, model), total in sorted(nominal.items()):
        capacity = pools.capacity.get((site, model))
        if (site, model) not in pools.unbounded and capacity and total > capacity:
            lines.append(
                f"  note: {model} quotas on {site} add up to {total}, over the pools' {capacity} "
                f"(over-committed by {(total - capacity) * 100 / capacity:.0f}%)"
            )
    return lines
