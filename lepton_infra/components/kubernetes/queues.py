"""Kueue's objects for one site: a ResourceFlavor per GPU pool, a ClusterQueue and WorkloadPriorityClasses
per team, and a LocalQueue in each team namespace.

A flavor carries its pool's node labels and taints exactly as the site built the pool (the handle's
placement), so Kueue charges a job to the pool its pods select and admits it only if they tolerate the
pool's taints. A ClusterQueue covers GPUs only; teams of one cohort lend idle quota, take back what they
lent (``reclaimWithinCohort: Any``), and a borrowing team may preempt a lower-priority team's borrowed
training (never inference); within a team, inference preempts training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

from lepton_infra.blueprint.queueing import (
    DISPATCH_FLAVOR_PREFIX,
    DISPATCH_SUFFIX,
    MULTIKUEUE_CHECK,
    PoolQuota,
    SiteQueues,
    TeamQueue,
    priority_class_name,
)
from lepton_infra.blueprint.teams import INFERENCE_PRIORITY_BOOST
from lepton_infra.components.gpu_nodes import ACCELERATOR_LABEL, GPU_RESOURCE
from lepton_infra.components.handle import NodePlacement, Toleration
from lepton_infra.components.kubernetes.cluster_services import custom_object
from lepton_infra.components.kubernetes.kueue import KUEUE_API
from lepton_infra.components.kubernetes.tenancy import NAMESPACE_NAME_LABEL
from lepton_infra.components.services import CustomObject

SITE_LABEL = "lepton.ai/site"
TEAM_LABEL = "lepton.ai/team"
# On a flavor: GPUs its pool makes at max_nodes, for `lepton-infra plan` and `kubectl get -L`.
MAX_GPUS_LABEL = "lepton.ai/max-gpus"


def _taint(toleration: Toleration) -> dict[str, str]:
    """The node taint a pool's toleration answers (an `Exists` toleration: the taint's key and effect)."""
    taint = {"key": toleration.key, "effect": toleration.effect}
    return taint if toleration.value is None else {**taint, "value": toleration.value}


def resource_flavor(
    placement: NodePlacement, site: str, max_gpus: int | None, name: str | None = None
) -> CustomObject:
    labels = {SITE_LABEL: site, ACCELERATOR_LABEL: placement.accelerator}
    if max_gpus is not None:
        labels[MAX_GPUS_LABEL] = str(max_gpus)
    return CustomObject(
        api_version=KUEUE_API,
        kind="ResourceFlavor",
        name=name or placement.pool,
        labels=labels,
        spec={
            "nodeLabels": dict(placement.node_selector),
            "nodeTaints": [_taint(t) for t in placement.tolerations],
        },
    )


def _flavor_quota(quota: PoolQuota, flavor: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"name": GPU_RESOURCE, "nominalQuota": quota.nominal_gpus}
    if quota.borrowing_limit_gpus is not None:
        resource["borrowingLimit"] = quota.borrowing_limit_gpus
    if quota.lending_limit_gpus is not None:
        resource["lendingLimit"] = quota.lending_limit_gpus
    return {"name": flavor, "resources": [resource]}


def cluster_queue(
    team: TeamQueue,
    site: str,
    *,
    name: str | None = None,
    flavor_names: Mapping[str, str] | None = None,
    admission_check: str | None = None,
) -> CustomObject:
    """The team's ClusterQueue: its namespaces, its GPU quota per pool flavor, its cohort and preemption."""
    flavors = [_flavor_quota(q, (flavor_names or {}).get(q.pool, q.pool)) for q in team.quotas]
    preemption: dict[str, Any] = {"withinClusterQueue": "LowerPriority"}
    spec: dict[str, Any] = {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(team.namespaces)}
            ]
        },
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [{"coveredResources": [GPU_RESOURCE], "flavors": flavors}],
        "preemption": preemption,
    }
    if team.cohort is not None:
        spec["cohortName"] = team.cohort
        preemption["reclaimWithinCohort"] = "Any"
        preemption["borrowWithinCohort"] = {
            "policy": "LowerPriority",
            "maxPriorityThreshold": INFERENCE_PRIORITY_BOOST - 1,
        }
    if admission_check is not None:
        spec["admissionChecksStrategy"] = {"admissionChecks": [{"name": admission_check}]}
    return CustomObject(
        api_version=KUEUE_API,
        kind="ClusterQueue",
        name=name or team.team,
        labels={SITE_LABEL: site, TEAM_LABEL: team.team},
        spec=spec,
    )


def priority_classes(team: TeamQueue) -> list[CustomObject]:
    """The team's two WorkloadPriorityClasses: its training, and its inference above every training."""
    return [
        CustomObject(
            api_version=KUEUE_API,
            kind="WorkloadPriorityClass",
            name=priority_class_name(team.team, kind),
            labels={TEAM_LABEL: team.team},
            spec=None,
            fields={"value": value, "description": f"{kind} of team {team.team}"},
        )
        for kind, value in (("training", team.training_priority), ("inference", team.inference_priority))
    ]


def dispatch_flavor_name(pool: str) -> str:
    return DISPATCH_FLAVOR_PREFIX + pool


def site_objects(queues: SiteQueues, pools: Sequence[NodePlacement]) -> tuple[CustomObject, ...]:
    """The site's cluster-scoped Kueue objects: flavors first, then priorities and queues. A MultiKueue
    manager's dispatch queues count on flavors named after the workers' pools, which the MultiKueue
    component makes from the workers' own placements (``multikueue.py``)."""
    flavors = [resource_flavor(p, queues.site, queues.pool_max_gpus.get(p.pool)) for p in pools]
    priorities = [c for team in queues.priorities for c in priority_classes(team)]
    own = [cluster_queue(team, queues.site) for team in queues.teams]
    dispatch = [
        cluster_queue(
            team,
            queues.site,
            name=team.team + DISPATCH_SUFFIX,
            flavor_names={q.pool: dispatch_flavor_name(q.pool) for q in team.quotas},
            admission_check=MULTIKUEUE_CHECK,
        )
        for team in queues.dispatch
    ]
    return (*flavors, *priorities, *own, *dispatch)


def local_queue_objects(queues: SiteQueues, namespaces: Iterable[str]) -> list[CustomObject]:
    """A LocalQueue per team namespace present on the site. A MultiKueue worker also gets the dispatch
    queue's name, pointing at the team's own ClusterQueue (the copied Job names it); the manager gets it
    pointing at the dispatch ClusterQueue."""
    wanted: list[tuple[str, str, tuple[str, ...]]] = []
    for team in queues.teams:
        wanted.append((team.team, team.team, team.namespaces))
        if team.team in queues.dispatched_teams:
            wanted.append((team.team + DISPATCH_SUFFIX, team.team, team.namespaces))
    for team in queues.dispatch:
        wanted.append((team.team + DISPATCH_SUFFIX, team.team + DISPATCH_SUFFIX, team.namespaces))
    present = set(namespaces)
    return [
        local_queue(name, namespace, target, queues.site)
        for name, target, team_namespaces in wanted
        for namespace in team_namespaces
        if namespace in present
    ]


def local_queue(name: str, namespace: str, cluster_queue_name: str, site: str) -> CustomObject:
    return CustomObject(
        api_version=KUEUE_API,
        kind="LocalQueue",
        name=name,
        namespace=namespace,
        labels={SITE_LABEL: site},
        spec={"clusterQueue": cluster_queue_name},
    )


def create_local_queues(
    resource_prefix: str,
    objects: Iterable[CustomObject],
    opts: pulumi.ResourceOptions,
    namespaces: Mapping[str, pulumi.Resource],
) -> dict[str, pulumi.CustomResource]:
    """Each LocalQueue once its namespace exists (and whatever ``opts`` waits on: Kueue's release)."""
    created = {}
    for obj in objects:
        assert obj.namespace is not None
        after = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[namespaces[obj.namespace]])
        )
        created[f"{obj.namespace}/{obj.name}"] = custom_object(
            f"{resource_prefix}-{obj.namespace}-{obj.name}-lq", obj, after
        )
    return created
