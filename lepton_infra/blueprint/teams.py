"""Teams and queueing: who shares the GPUs, what each team is guaranteed, and who may borrow idle ones.

Each team gets, on every site it names, a nominal GPU quota per accelerator (Kueue's ``nominalQuota``);
teams that share a ``cohort`` borrow each other's idle quota within their borrowing and lending limits.
The platform turns this into Kueue objects per site (``components/kubernetes/kueue.py``); the rules that
join teams to sites and workloads live in ``team_rules.py``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import DnsLabel, SpecModel, rule_error
from lepton_infra.catalog import Accelerator

# Kueue's WorkloadPriorityClass value is an int32; inference classes sit above every training class.
MAX_TEAM_PRIORITY = 100_000
INFERENCE_PRIORITY_BOOST = 1_000_000
# Namespaces Kueue must not manage: its config refuses a selector matching kube-system or its own namespace
# (kueue pkg/config/validation.go validateManagedJobsNamespaceSelector, v0.19.2).
RESERVED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "kueue-system"})

_HTTPS_URL = re.compile(
    r"https://([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*|\d{1,3}(\.\d{1,3}){3})(:\d{1,5})?(/.*)?"
)


def _https_api_url(url: str) -> str:
    # Kueue refuses a kubeconfig without TLS verification, or whose server host is neither an IP nor a
    # DNS-1123 subdomain (kueue multikueuecluster.go validateKubeconfig, v0.19.2).
    if not _HTTPS_URL.fullmatch(url):
        raise ValueError("give an https:// address whose host is a DNS name or an IP (Kueue requires TLS)")
    return url


HttpsUrl = Annotated[str, StringConstraints(max_length=253), AfterValidator(_https_api_url)]


class TeamQuotaSpec(SpecModel):
    """One accelerator's quota of a team on one site."""

    site: DnsLabel = Field(description="Site the quota applies to.")
    accelerator: Accelerator = Field(description="GPU model; the site needs a pool of it.")
    gpus: int = Field(
        ge=0, le=100_000, description="Nominal quota: GPUs of this accelerator the team is guaranteed there."
    )
    borrowing_limit_gpus: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Most GPUs beyond `gpus` the team may borrow from its cohort; unset: all it lends.",
    )
    lending_limit_gpus: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Most of its idle `gpus` the cohort may borrow; unset: all of them.",
    )

    @model_validator(mode="after")
    def _lends_what_it_has(self) -> TeamQuotaSpec:
        # Kueue's ClusterQueue webhook: "lendingLimit must be less than or equal to the nominalQuota".
        if self.lending_limit_gpus is not None and self.lending_limit_gpus > self.gpus:
            message = f"a team lends at most its own quota ({self.gpus} GPUs)"
            raise rule_error([("lending_limit_gpus", message)])
        return self


class TeamSpec(SpecModel):
    """A team: its namespaces, its GPU quotas per site and accelerator, its cohort and its priority."""

    name: DnsLabel = Field(description="Team name; names its Kueue ClusterQueue and LocalQueues.")
    namespaces: tuple[DnsLabel, ...] = Field(
        min_length=1, description="Kubernetes namespaces of the team's workloads (each in one team only)."
    )
    cohort: DnsLabel | None = Field(
        default=None,
        description="Teams of one cohort borrow each other's idle quota; unset: the team never borrows.",
    )
    priority: int = Field(
        default=100,
        ge=0,
        le=MAX_TEAM_PRIORITY,
        description=(
            "Priority of the team's training jobs: a higher one preempts a lower one's borrowed GPUs. "
            "Its inference services always rank above every training job."
        ),
    )
    quotas: tuple[TeamQuotaSpec, ...] = Field(
        default=(), description="Nominal GPU quotas per site and accelerator."
    )

    @property
    def training_priority(self) -> int:
        return self.priority

    @property
    def inference_priority(self) -> int:
        return self.priority + INFERENCE_PRIORITY_BOOST

    def quota(self, site: str, accelerator: Accelerator) -> TeamQuotaSpec | None:
        return next((q for q in self.quotas if q.site == site and q.accelerator == accelerator), None)

    @model_validator(mode="after")
    def _consistent(self) -> TeamSpec:
        issues: list[tuple[str, str]] = []
        seen: set[tuple[str, Accelerator]] = set()
        for i, quota in enumerate(self.quotas):
            key = (quota.site, quota.accelerator)
            if key in seen:
                issues.append(
                    (f"quotas[{i}]", f"{quota.accelerator.value} on {quota.site} is given more than once")
                )
            seen.add(key)
            if self.cohort is None:
                # ClusterQueue CRD rule: "borrowingLimit must be nil when cohort is empty" (lending alike).
                for limit in ("borrowing_limit_gpus", "lending_limit_gpus"):
                    if getattr(quota, limit) is not None:
                        issues.append((f"quotas[{i}].{limit}", "limits apply within a cohort: set `cohort`"))
        for i, namespace in enumerate(self.namespaces):
            if namespace in RESERVED_NAMESPACES:
                issues.append((f"namespaces[{i}]", f"{namespace} belongs to the cluster, not to a team"))
        for twice in sorted({n for n in self.namespaces if self.namespaces.count(n) > 1}):
            issues.append(("namespaces", f"{twice} is listed more than once"))
        if issues:
            raise rule_error(issues)
        return self


class MultiKueueWorkerSpec(SpecModel):
    """A site the MultiKueue manager dispatches jobs to."""

    site: DnsLabel = Field(description="The worker site.")
    api_server_url: HttpsUrl = Field(
        description=(
            "https address of the worker's Kubernetes API as the manager's cluster reaches it (its network "
            "must route there); the manager authenticates with a ServiceAccount token the platform creates."
        )
    )


class MultiKueueSpec(SpecModel):
    """MultiKueue: a manager site holds `placement: any` jobs and dispatches each to a worker admitting it."""

    manager: DnsLabel = Field(
        description="Site whose Kueue holds the jobs and dispatches them; it runs none of them itself."
    )
    workers: tuple[MultiKueueWorkerSpec, ...] = Field(
        min_length=1, description="Sites the jobs may run on; every `placement: any` job lists all of them."
    )

    @property
    def worker_sites(self) -> tuple[str, ...]:
        return tuple(w.site for w in self.workers)


class QueueingSpec(SpecModel):
    """How Kueue admits work on every site: over-commit allowed, all-or-nothing start, multi-site dispatch."""

    max_overcommit_percent: int = Field(
        default=0,
        ge=0,
        le=1000,
        description=(
            "How far the teams' quotas of an accelerator on a site may exceed what its pools make at their "
            "maximum (0: not at all). Over-committed quota is admitted but may wait for nodes."
        ),
    )
    pods_ready_timeout_minutes: int = Field(
        default=20,
        ge=1,
        le=24 * 60,
        description=(
            "An admitted job whose pods are not all running within this time (nodes scaling from zero, image "
            "pulls) is evicted and requeued, so no half-started job holds GPUs (Kueue waitForPodsReady)."
        ),
    )
    multikueue: MultiKueueSpec | None = Field(
        default=None, description="Dispatch `placement: any` training jobs across sites of one cloud."
    )
