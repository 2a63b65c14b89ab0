"""What one node of a pool has left for a workload's pod: allocatable minus the DaemonSets that land there.

DaemonSets come from three places (``catalog.daemonsets``): the cloud's own agents, the per-node pods of
the charts the plan installs (with the tolerations their values give them), and DaemonSet objects in
the plan. Each counts only on the pools whose taints it tolerates and whose labels it selects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lepton_infra.catalog import offerings
from lepton_infra.catalog.allocatable import node_allocatable
from lepton_infra.catalog.daemonsets import CHART_DAEMONS, CLOUD_DAEMONS, NodeDaemon, chart_name
from lepton_infra.catalog.fit import fits
from lepton_infra.catalog.types import Cloud, InstanceOffering, Resources
from lepton_infra.policies.kubernetes.workloads import DAEMON_SET, pod_spec
from lepton_infra.policies.operability.pods import pod_request, selects, untolerated
from lepton_infra.policies.operability.topology import HELM_RELEASE, Cluster, Pool
from lepton_infra.policies.values import as_list, get, known


def chart_tolerations(release_values: Mapping[str, Any], daemon: NodeDaemon) -> list[Any]:
    """The tolerations a chart's per-node pod gets: the release's values where set (Helm replaces lists,
    it does not merge them), else the chart's default."""
    if daemon.tolerations_path is None:
        return [{"operator": "Exists"}]
    given = known(release_values, *daemon.tolerations_path)  # unknown: which pools it reaches is too
    return as_list(given) if given is not None else list(daemon.default_tolerations)


def daemons_on(cluster: Cluster, pool: Pool) -> Iterator[tuple[str, Resources]]:
    """(name, requests) of every DaemonSet pod that lands on a node of ``pool``."""
    if pool.cloud is not None:
        for daemon in CLOUD_DAEMONS.get(pool.cloud, ()):
            yield daemon.name, daemon.requests
    for release in cluster.of_type(HELM_RELEASE):
        values = release.known("values", default={})
        for daemon in CHART_DAEMONS.get(chart_name(str(release.known("chart", default=""))), ()):
            if not untolerated(chart_tolerations(values, daemon), pool.taints):
                yield daemon.name, daemon.requests
    for daemon_set in cluster.of_type(DAEMON_SET):
        spec = pod_spec(DAEMON_SET, daemon_set.props)
        if selects(spec, pool.labels) and not untolerated(as_list(get(spec, "tolerations")), pool.taints):
            yield str(daemon_set.get("metadata", "name", default=daemon_set.name)), pod_request(spec)


def room(cluster: Cluster, pool: Pool, offering: InstanceOffering | None = None) -> Resources | None:
    """What a node of ``pool`` leaves for workload pods; None where the catalog does not know the type."""
    offering = offering or pool.offering
    if offering is None or pool.cloud is None:
        return None
    cloud = pool.cloud

    def build() -> Resources:
        free = node_allocatable(cloud, offering, max_pods=pool.max_pods)
        for _, requests in daemons_on(cluster, pool):
            free = free - requests
        return free

    return cluster.memo(("room", pool.resource.urn, offering.instance_type), build)


def roomier_type(cluster: Cluster, pool: Pool, request: Resources) -> InstanceOffering | None:
    """The smallest type of the pool's accelerator (same cloud) on which the pod would fit, if any."""
    offering = pool.offering
    if offering is None or pool.cloud is None:
        return None
    candidates: Sequence[InstanceOffering] = sorted(
        offerings(Cloud(pool.cloud), offering.accelerator), key=lambda o: (o.gpus, o.vcpus, o.memory_gib)
    )
    for candidate in candidates:
        free = room(cluster, pool, candidate)
        if free is not None and not fits(request, free):
            return candidate
    return None
