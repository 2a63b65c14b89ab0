"""The rules that join teams to sites and workloads, each issue naming the field to change.

A quota must name a site and an accelerator that site has a pool of; the teams' quotas of an accelerator
on a site may exceed what its pools make at their maximum only as far as ``queueing.max_overcommit_percent``
allows; once teams exist, every workload names one, runs in one of its namespaces, and fits at its peak in
what its team can ever get on its pool (nominal quota plus what it may borrow): a larger job would wait
in its queue forever.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from lepton_infra.blueprint.demand import ROLLOUT_SURGE_REPLICAS, peak_gpus
from lepton_infra.blueprint.queueing import job_fits, pool_max_gpus, pools_of
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec, WorkloadSpec
from lepton_infra.catalog import Accelerator

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec

Issue = tuple[str, str]


def team_rules(spec: PlatformSpec) -> list[Issue]:
    return [
        *_unique(spec),
        *_quota_targets(spec),
        *_overcommit(spec),
        *_workload_teams(spec),
        *_jobs_fit(spec),
    ]


def _site_names(spec: PlatformSpec) -> set[str]:
    return {s.name for s in spec.sites}


def _unique(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    for name, count in Counter(t.name for t in spec.teams).items():
        if count > 1:
            issues.append(("teams", f"team name {name!r} is used more than once"))
    owner: dict[str, str] = {}
    for i, team in enumerate(spec.teams):
        for namespace in team.namespaces:
            if namespace in owner and owner[namespace] != team.name:
                issues.append(
                    (f"teams[{i}].namespaces", f"{namespace} already belongs to team {owner[namespace]!r}")
                )
            owner.setdefault(namespace, team.name)
    return issues


def _quota_targets(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    sites = _site_names(spec)
    for i, team in enumerate(spec.teams):
        for j, quota in enumerate(team.quotas):
            path = f"teams[{i}].quotas[{j}]"
            if quota.site not in sites:
                issues.append(
                    (f"{path}.site", f"no site named {quota.site!r}; sites: {', '.join(sorted(sites))}")
                )
            elif not pools_of(spec.site(quota.site), quota.accelerator):
                pools = ", ".join(
                    f"{p.name} ({p.accelerator.value})" for p in spec.site(quota.site).gpu_pools
                )
                issues.append(
                    (
                        f"{path}.accelerator",
                        f"site {quota.site!r} has no {quota.accelerator.value} pool; "
                        f"its pools: {pools or 'none'}",
                    )
                )
    return issues


def _overcommit(spec: PlatformSpec) -> list[Issue]:
    """Quotas beyond what the pools make at their maximum are admitted but wait for nodes that never come."""
    issues: list[Issue] = []
    allowed = spec.queueing.max_overcommit_percent
    totals: Counter[tuple[str, Accelerator]] = Counter()
    for team in spec.teams:
        for quota in team.quotas:
            if quota.site in _site_names(spec):
                totals[(quota.site, quota.accelerator)] += quota.gpus
    for (site_name, accelerator), total in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        site = spec.site(site_name)
        pools = pools_of(site, accelerator)
        sizes = [pool_max_gpus(site, p) for p in pools]
        if not pools or None in sizes:
            continue  # no pool (reported above), or a pool the spec gives no maximum
        capacity = sum(s for s in sizes if s is not None)
        over = math.inf if capacity == 0 else (total - capacity) * 100 / capacity
        if over > allowed:
            shown = "without limit" if math.isinf(over) else f"by {over:.0f}%"
            issues.append(
                (
                    "teams",
                    f"the teams' {accelerator.value} quotas on site {site_name!r} add up to {total} GPUs, "
                    "but "
                    f"its {accelerator.value} pools make at most {capacity} at max_nodes: over-committed "
                    f"{shown} (allowed: {allowed}%); lower the quotas, raise the pools' max_nodes, or allow "
                    "it with queueing.max_overcommit_percent",
                )
            )
    return issues


def _workload_teams(spec: PlatformSpec) -> list[Issue]:
    issues: list[Issue] = []
    teams = {t.name: t for t in spec.teams}
    listed = ", ".join(sorted(teams)) or "none defined"
    for i, workload in enumerate(spec.workloads):
        if workload.team is None:
            if teams:
                message = f"name the team whose GPU quota this workload runs under; teams: {listed}"
                issues.append((f"workloads[{i}].team", message))
            continue
        team = teams.get(workload.team)
        if team is None:
            issues.append((f"workloads[{i}].team", f"no team named {workload.team!r}; teams: {listed}"))
        elif workload.namespace not in team.namespaces:
            issues.append(
                (
                    f"workloads[{i}].namespace",
                    f"{workload.namespace} is not a namespace of team {team.name!r} "
                    f"({', '.join(team.namespaces)}); its queue admits work from those only",
                )
            )
    return issues


def _jobs_fit(spec: PlatformSpec) -> list[Issue]:
    """A job larger than its team can ever get would sit in its queue forever: refuse it now."""
    issues: list[Issue] = []
    teams = {t.name: t for t in spec.teams}
    sites = _site_names(spec)
    for i, workload in enumerate(spec.workloads):
        team = teams.get(workload.team or "")
        if team is None:
            continue
        for site_name in workload.sites:
            if site_name not in sites:
                continue
            short = job_fits(spec, spec.site(site_name), team, workload)
            if short is None:
                continue
            borrowed = (
                f" + {short.borrowable} it may borrow in cohort {team.cohort!r}"
                if team.cohort
                else ", no cohort to borrow from"
            )
            issues.append(
                (
                    f"workloads[{i}]",
                    f"{workload.name} needs {_peak(workload)} at once on site {site_name!r}, but team "
                    f"{team.name!r} can get at most {short.most} there ({short.nominal} nominal{borrowed}): "
                    "it would wait in its queue forever; raise the team's quota or borrowing "
                    "limit, or make it smaller",
                )
            )
    return issues


def _peak(workload: WorkloadSpec) -> str:
    gpus = f"{peak_gpus(workload)} {workload.accelerator.value} GPUs"
    if isinstance(workload, TrainingWorkloadSpec):
        return f"{gpus} ({workload.nodes} nodes x {workload.gpus_per_node})"
    replicas = workload.max_replicas + ROLLOUT_SURGE_REPLICAS
    return f"{gpus} ({replicas} replicas during a rollout at max_replicas x {workload.gpus_per_replica})"
