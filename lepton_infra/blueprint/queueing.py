"""What the teams' spec means on each site: pool sizes, each team's quota per pool, what it can reach.

Pure functions of the spec, shared by the validation rules (``team_rules.py``) and the Kubernetes layer
that writes them as Kueue objects, so both read one arithmetic. A team's quota is per accelerator; Kueue's
is per ResourceFlavor, one per GPU pool: a site's pools of one accelerator are filled in order, each up to
what it makes at its maximum, the last taking any over-commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lepton_infra.blueprint.demand import peak_gpus
from lepton_infra.blueprint.site_base import GpuPoolSpec, ManagedSiteSpec
from lepton_infra.blueprint.site_existing import ExistingGpuPoolSpec
from lepton_infra.blueprint.teams import TeamSpec
from lepton_infra.blueprint.workloads import WorkloadSpec
from lepton_infra.catalog import Accelerator, Cloud, pool_offering

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec
    from lepton_infra.blueprint.sites import SiteSpec

Pool = GpuPoolSpec | ExistingGpuPoolSpec
# The LocalQueue of `placement: any` jobs: the same name on the manager and on every worker.
DISPATCH_SUFFIX = "-any"
# On the MultiKueue manager: the flavors its dispatch queues count GPUs on, and the admission check.
DISPATCH_FLAVOR_PREFIX = "multikueue-"
MULTIKUEUE_CHECK = "multikueue"


def pool_gpus_per_node(site: SiteSpec, pool: Pool) -> int | None:
    """GPUs on one node of ``pool``; None when its type is not in the catalog (the spec reports that)."""
    if isinstance(pool, ExistingGpuPoolSpec):
        return pool.gpus_per_node
    assert isinstance(site, ManagedSiteSpec)
    try:
        return pool_offering(Cloud(site.cloud), site.region, pool.accelerator, pool.instance_type).gpus
    except LookupError:
        return None


def pool_max_gpus(site: SiteSpec, pool: Pool) -> int | None:
    """GPUs the pool makes at its maximum; None when unbounded as far as the spec knows."""
    per_node = pool_gpus_per_node(site, pool)
    if per_node is None or pool.max_nodes is None:
        return None
    return per_node * pool.max_nodes


def pools_of(site: SiteSpec, accelerator: Accelerator) -> list[Pool]:
    pools: tuple[Pool, ...] = site.gpu_pools
    return [p for p in pools if p.accelerator == accelerator]


def landing_pool(site: SiteSpec, accelerator: Accelerator, gpus_per_pod: int) -> Pool | None:
    """The pool a pod lands on: the first of its accelerator with enough GPUs per node, as the handle
    picks it (``ClusterHandle.placement``)."""
    for pool in pools_of(site, accelerator):
        per_node = pool_gpus_per_node(site, pool)
        if per_node is not None and per_node >= gpus_per_pod:
            return pool
    return None


@dataclass(frozen=True)
class PoolQuota:
    """A team's quota on one pool: Kueue's nominal quota, borrowing and lending limits for its flavor."""

    pool: str
    nominal_gpus: int
    borrowing_limit_gpus: int | None
    lending_limit_gpus: int | None

    @property
    def lendable_gpus(self) -> int:
        return self.nominal_gpus if self.lending_limit_gpus is None else self.lending_limit_gpus


@dataclass(frozen=True)
class TeamQueue:
    """One team's ClusterQueue on one site."""

    team: str
    namespaces: tuple[str, ...]
    cohort: str | None
    training_priority: int
    inference_priority: int
    quotas: tuple[PoolQuota, ...]

    def on(self, pool: str) -> PoolQuota | None:
        return next((q for q in self.quotas if q.pool == pool), None)


@dataclass(frozen=True)
class SiteQueues:
    """Everything Kueue needs on one site, computed from the spec."""

    site: str
    teams: tuple[TeamQueue, ...]
    # GPUs each pool makes at its maximum (None: unbounded as far as the spec knows).
    pool_max_gpus: Mapping[str, int | None]
    pods_ready_timeout_minutes: int
    # Teams whose `placement: any` jobs this worker runs: each gets its dispatch LocalQueue here.
    dispatched_teams: tuple[str, ...] = ()
    # On the MultiKueue manager: each team's dispatch queue, its quota per pool what the workers can give.
    dispatch: tuple[TeamQueue, ...] = ()

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace Kueue manages here: those of the teams queueing on the site."""
        return tuple(sorted({n for t in (*self.teams, *self.dispatch) for n in t.namespaces}))

    @property
    def priorities(self) -> tuple[TeamQueue, ...]:
        """One entry per team whose jobs are queued here (its WorkloadPriorityClasses are needed)."""
        found: dict[str, TeamQueue] = {}
        for team in (*self.teams, *self.dispatch):
            found.setdefault(team.team, team)
        return tuple(found.values())


def local_queue_name(team: str, placement: str) -> str:
    """The LocalQueue a workload names: its team's, or the team's dispatch queue for `placement: any`."""
    return team + DISPATCH_SUFFIX if placement == "any" else team


def priority_class_name(team: str, kind: str) -> str:
    """The team's WorkloadPriorityClass for ``kind`` (training or inference)."""
    return f"{team}-{kind}"


def _split(total: int | None, capacities: list[int | None]) -> list[int | None]:
    """``total`` filled into pools in order, each up to its capacity; the last takes what remains."""
    if total is None:
        return [None] * len(capacities)
    shares: list[int | None] = []
    remaining = total
    for i, capacity in enumerate(capacities):
        last = i == len(capacities) - 1
        share = remaining if last or capacity is None else min(remaining, capacity)
        shares.append(share)
        remaining -= share
    return shares


def team_pool_quotas(site: SiteSpec, team: TeamSpec, accelerators: set[Accelerator]) -> list[PoolQuota]:
    """The team's quota on each pool of ``accelerators`` on ``site`` (nominal 0 where it states none)."""
    quotas: list[PoolQuota] = []
    for accelerator in sorted(accelerators, key=lambda a: a.value):
        pools = pools_of(site, accelerator)
        if not pools:
            continue
        entry = team.quota(site.name, accelerator)
        capacities = [pool_max_gpus(site, p) for p in pools]
        nominal = _split(entry.gpus if entry else 0, capacities)
        lending = _split(entry.lending_limit_gpus if entry else None, [n or 0 for n in nominal])
        # Without a cohort Kueue allows no limits; without an entry, borrowing is bounded by the cohort only.
        borrowing = entry.borrowing_limit_gpus if entry and team.cohort else None
        quotas += [
            PoolQuota(pool.name, nominal[i] or 0, borrowing, lending[i] if team.cohort else None)
            for i, pool in enumerate(pools)
        ]
    return quotas


def workloads_of(spec: PlatformSpec, team: str, site: str) -> Iterator[WorkloadSpec]:
    """The team's workloads whose pods may run on ``site`` (placement `each` or `any`)."""
    return (w for w in spec.workloads if w.team == team and site in w.sites)


def team_queue(spec: PlatformSpec, site: SiteSpec, team: TeamSpec) -> TeamQueue | None:
    """The team's ClusterQueue on ``site``: where it has quota or a workload; None elsewhere."""
    accelerators = {q.accelerator for q in team.quotas if q.site == site.name}
    accelerators |= {w.accelerator for w in workloads_of(spec, team.name, site.name)}
    if not accelerators:
        return None
    return TeamQueue(
        team=team.name,
        namespaces=team.namespaces,
        cohort=team.cohort,
        training_priority=team.training_priority,
        inference_priority=team.inference_priority,
        quotas=tuple(team_pool_quotas(site, team, accelerators)),
    )


def site_queues(spec: PlatformSpec, site_name: str) -> SiteQueues | None:
    """Kueue's configuration for ``site_name``; None when the platform has no teams."""
    if not spec.teams:
        return None
    site = spec.site(site_name)
    queues = tuple(q for t in spec.teams if (q := team_queue(spec, site, t)) is not None)
    dispatched = sorted(
        {w.team for w in spec.workloads if w.placement == "any" and w.team and site_name in w.sites}
    )
    multikueue = spec.queueing.multikueue
    is_manager = multikueue is not None and multikueue.manager == site_name
    return SiteQueues(
        site=site_name,
        teams=queues,
        pool_max_gpus={p.name: pool_max_gpus(site, p) for p in site.gpu_pools},
        pods_ready_timeout_minutes=spec.queueing.pods_ready_timeout_minutes,
        dispatched_teams=tuple(dispatched),
        dispatch=tuple(dispatch_queue(spec, t) for t in spec.teams if is_manager and dispatches(spec, t)),
    )


def dispatch_namespaces(spec: PlatformSpec, site_name: str) -> tuple[str, ...]:
    """Namespaces the MultiKueue manager holds `placement: any` jobs in; none on any other site."""
    multikueue = spec.queueing.multikueue
    if multikueue is None or multikueue.manager != site_name:
        return ()
    return tuple(sorted({w.namespace for w in spec.workloads if w.placement == "any"}))


def dispatches(spec: PlatformSpec, team: TeamSpec) -> bool:
    return any(w.team == team.name and w.placement == "any" for w in spec.workloads)


def dispatch_queue(spec: PlatformSpec, team: TeamSpec) -> TeamQueue:
    """The manager's queue for the team's `placement: any` jobs (no cohort: it lends to nobody)."""
    return TeamQueue(
        team=team.name,
        namespaces=team.namespaces,
        cohort=None,
        training_priority=team.training_priority,
        inference_priority=team.inference_priority,
        quotas=dispatch_quotas(spec, team),
    )


@dataclass(frozen=True)
class Reach:
    """The most GPUs of one pool a team's single job can ever be admitted with: its nominal quota plus what
    its cohort may lend it. (Whether the pool has the nodes is the over-commit rule's question.)"""

    nominal: int
    borrowable: int

    @property
    def most(self) -> int:
        return self.nominal + self.borrowable


def reach(spec: PlatformSpec, site: SiteSpec, team: TeamSpec, pool: Pool) -> Reach:
    """Nominal quota plus what the cohort may lend (within the team's borrowing limit)."""
    own = team_queue(spec, site, team)
    quota = own.on(pool.name) if own else None
    nominal = quota.nominal_gpus if quota else 0
    lent = 0
    if team.cohort is not None:
        for peer in spec.teams:
            if peer.name == team.name or peer.cohort != team.cohort:
                continue
            peer_queue = team_queue(spec, site, peer)
            peer_quota = peer_queue.on(pool.name) if peer_queue else None
            lent += peer_quota.lendable_gpus if peer_quota else 0
    limit = quota.borrowing_limit_gpus if quota else None
    borrowable = lent if limit is None else min(limit, lent)
    return Reach(nominal, borrowable)


def dispatch_quotas(spec: PlatformSpec, team: TeamSpec) -> tuple[PoolQuota, ...]:
    """The manager's quota for a team's `placement: any` jobs: on each pool they land on, what the team
    can reach on every worker together, so the manager never holds back a job a worker would admit
    (Kueue's MultiKueue concepts: the manager's quota should equal the workers' total)."""
    per_pool: dict[str, dict[str, int]] = {}
    for workload in spec.workloads:
        if workload.team != team.name or workload.placement != "any":
            continue
        for site_name in workload.sites:
            site = spec.site(site_name)
            pool = landing_pool(site, workload.accelerator, workload.gpus_needed_per_node)
            if pool is not None:
                per_pool.setdefault(pool.name, {})[site_name] = reach(spec, site, team, pool).most
    return tuple(PoolQuota(name, sum(sites.values()), None, None) for name, sites in sorted(per_pool.items()))


def job_fits(spec: PlatformSpec, site: SiteSpec, team: TeamSpec, workload: WorkloadSpec) -> Reach | None:
    """None when the workload's peak fits what its team can reach on its pool, else that reach."""
    pool = landing_pool(site, workload.accelerator, workload.gpus_needed_per_node)
    if pool is None:
        return None  # no pool for it at all: the placement rules say so
    found = reach(spec, site, team, pool)
    return None if peak_gpus(workload) <= found.most else found
