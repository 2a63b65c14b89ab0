"""The platform as the plan's resources describe it: clusters, the node pools that grow them, what runs there.

Everything is read from resources, never from the spec: under ``pulumi preview`` there is no spec, only
what the program registered. The joins are the engine's own records (a pool's ``clusterName`` came from
the cluster; a Kubernetes object's provider was built from a cluster's kubeconfig), with value matches as
the fallback where a plan format keeps no property dependencies. ``topology(stack)`` builds it once per
stack and every operability rule reads the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from lepton_infra.catalog import cluster_services as svc
from lepton_infra.catalog.allocatable import aks_default_max_pods
from lepton_infra.catalog.daemonsets import chart_name
from lepton_infra.catalog.lookup import find_offering
from lepton_infra.catalog.types import Cloud, InstanceOffering
from lepton_infra.policies.operability.pods import Taint, Workload, quantity, selects, untolerated, workloads
from lepton_infra.policies.values import UnknownRead, as_list, as_mapping, get, is_true, is_unknown, known
from lepton_infra.policies.view import Resource, Stack

T = TypeVar("T")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
PLATFORM = "lepton:index:Platform"
# Labels every node of a pool carries without the plan declaring them: the value where the plan knows
# it, None where only the cloud will (matches any value a selector asks).
_ZONE, _HOSTNAME = "topology.kubernetes.io/zone", "kubernetes.io/hostname"
POOL_LABEL = "lepton.ai/pool"
AKS_SPOT_TAINT = Taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")


@dataclass(frozen=True)
class Pool:
    """One node pool: what its nodes are, carry and tolerate, and how far it can grow."""

    resource: Resource
    name: str
    cloud: Cloud | None
    instance_types: tuple[str, ...]
    labels: Mapping[str, str | None]
    taints: tuple[Taint, ...]
    min_nodes: int | None
    max_nodes: int | None
    spot: bool
    # The cloud grows the pool itself (AKS enableAutoScaling, ACK scalingConfig.enable): True; it only
    # keeps the pool's size (an EKS managed node group's Auto Scaling group): False.
    cloud_autoscaled: bool
    zones: int | None
    max_pods: int | None = None
    placement_group: bool = False
    # "node-group" for a cloud pool, "karpenter" for a Karpenter NodePool.
    kind: str = "node-group"
    # GiB of the disk the nodes' kubelet keeps pods' ephemeral storage on; None where the plan does not say
    # (a cloud or AMI default, a disk the cloud computes): the disk rule is then undecided.
    disk_gib: int | None = None

    @cached_property
    def offering(self) -> InstanceOffering | None:
        """The instance type to judge a pod against: the roomiest the pool may launch."""
        found = [o for t in self.instance_types if self.cloud and (o := find_offering(self.cloud, t))]
        return max(found, key=lambda o: (o.gpus, o.vcpus, o.memory_gib)) if found else None

    @property
    def gpu(self) -> bool:
        offering = self.offering
        return bool(offering and offering.gpus) or "lepton.ai/accelerator" in self.labels

    @property
    def label(self) -> str:
        """The pool as the stack file names it (our pools carry ``lepton.ai/pool``), else the cloud's name."""
        return self.labels.get(POOL_LABEL) or self.name

    def describe(self) -> str:
        types = "/".join(self.instance_types) or "unknown type"
        return f"pool '{self.label}' ({types})"


@dataclass
class Cluster:
    """One Kubernetes cluster of the stack and everything the plan puts into it."""

    resource: Resource | None
    cloud: Cloud | None
    name: str
    providers: list[Resource] = field(default_factory=list)
    built_pools: list[Pool] = field(default_factory=list)
    # Why the pools cannot be read (a secret input of a pool), raised to the rule that reads them: only
    # the rules that judge pools are undecided, the others still decide.
    unreadable_pools: UnknownRead | None = None
    objects: list[Resource] = field(default_factory=list)
    addons: list[Resource] = field(default_factory=list)
    # False where the stack builds the cluster and another stack deploys into it (a cloud layer: its
    # Platform component records `layer: cloud`): what must run in the cluster is that stack's to show.
    deployed_here: bool = True
    # Facts the rules derive per pool or workload (a node's free room, say), computed once: see memo.
    _memo: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def pools(self) -> list[Pool]:
        """The cluster's node pools; raises ``UnknownRead`` where a secret hides what one of them is."""
        if self.unreadable_pools is not None:
            raise self.unreadable_pools
        return self.built_pools

    @property
    def managed(self) -> bool:
        """True when this stack creates the cluster, so the plan shows what it is built with."""
        return self.resource is not None

    @cached_property
    def _by_type(self) -> dict[str, list[Resource]]:
        found: dict[str, list[Resource]] = {}
        for o in self.objects:
            found.setdefault(o.type, []).append(o)
        return found

    def of_type(self, *types: str) -> list[Resource]:
        return [o for t in types for o in self._by_type.get(t, ())]

    def memo(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        """A fact about this cluster built once (the rules of a pack share it, as ``Stack.memo``)."""
        if key not in self._memo:
            self._memo[key] = build()
        found: T = self._memo[key]
        return found

    def releases(self, charts: Iterable[str]) -> list[Resource]:
        """Helm releases in the cluster of any of ``charts`` (by the chart's own name)."""
        wanted = frozenset(charts)
        # A chart unknown during preview may be any of them: the rule that asks is undecided.
        return [
            r for r in self.of_type(HELM_RELEASE) if chart_name(str(r.known("chart", default=""))) in wanted
        ]

    def addon_configs(self) -> dict[str, Mapping[str, Any]]:
        """Managed add-ons by name, each with its configuration: EKS and ACK add-on resources, and the
        add-ons an ACK cluster lists itself."""
        # An add-on's name or configuration unknown during preview leaves the rule that asks undecided.
        found = {
            str(a.known("addonName") or a.known("name")): _json(
                a.known("configurationValues", default=a.known("config"))
            )
            for a in self.addons
        }
        if self.cloud is Cloud.ALICLOUD and self.resource is not None:
            for addon in as_list(self.resource.known("addons")):
                name = known(addon, "name")
                if isinstance(name, str) and not is_true(known(addon, "disabled")):
                    found.setdefault(name, _json(known(addon, "config")))
        return found

    @cached_property
    def workloads(self) -> list[Workload]:
        """The objects of the cluster that make pods (built once: every rule reads them)."""
        return list(workloads(self.objects))

    @cached_property
    def _workloads_by_urn(self) -> dict[str, Workload]:
        return {w.resource.urn: w for w in self.workloads}

    def workload_of(self, resource: Resource) -> Workload | None:
        return self._workloads_by_urn.get(resource.urn)

    def pools_for(self, workload: Workload) -> list[Pool]:
        """The pools whose nodes the workload's selectors accept (taints are the caller's question)."""
        return self.memo(
            ("pools_for", workload.resource.urn),
            lambda: [p for p in self.pools if selects(workload.spec, p.labels)],
        )

    def landing_pools(self, workload: Workload) -> list[Pool]:
        """The pools the workload's pods can be scheduled on: selected, and every taint tolerated."""
        tolerations = as_list(get(workload.spec, "tolerations"))
        return self.memo(
            ("landing_pools", workload.resource.urn),
            lambda: [p for p in self.pools_for(workload) if not untolerated(tolerations, p.taints)],
        )

    def describe(self) -> str:
        return f"cluster '{self.name}'"


@dataclass
class Topology:
    clusters: list[Cluster]
    by_object: dict[str, Cluster]

    def cluster_of(self, resource: Resource) -> Cluster | None:
        return self.by_object.get(resource.urn)


def _json(raw: Any) -> Mapping[str, Any]:
    """An add-on's configuration given as JSON text or as an object; empty where unreadable."""
    if isinstance(raw, str) and not is_unknown(raw):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return as_mapping(raw)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and not is_unknown(value) else None


def _cluster_of(
    stack: Stack, resource: Resource, prop: str, clusters: Mapping[str, Resource]
) -> Resource | None:
    """The cluster ``resource`` refers to through input ``prop``: by property dependency, else by value."""
    for candidate in stack.references(resource, prop):
        if candidate.urn in clusters:
            return candidate
    value = _str(resource.get(prop))
    if value is not None:
        for cluster in clusters.values():
            names = (cluster.get("name"), cluster.get("resourceName"), cluster.name)
            if value in names:
                return cluster
    return None


def _labels(given: Any) -> dict[str, str | None]:
    """Node labels from a mapping; one whose value is unknown during preview raises ``UnknownRead`` (which
    pods select the pool is then not known)."""
    labels: dict[str, str | None] = {}
    for key, value in as_mapping(given).items():
        if is_unknown(value):
            raise UnknownRead(value, ("labels", key))
        labels[str(key)] = str(value)
    return labels


def _ebs_root_gib(mappings: Any, size: Callable[[Any], int | None]) -> int | None:
    """The root volume's size among EC2 block device mappings (``/dev/xvda``, the EKS AMIs' root, or the
    one marked ``rootVolume``, or the only one)."""
    listed = [m for m in as_list(mappings) if isinstance(m, Mapping)]
    root = [m for m in listed if get(m, "deviceName") == "/dev/xvda" or is_true(get(m, "rootVolume"))]
    chosen = root or (listed if len(listed) == 1 else [])
    return size(get(chosen[0], "ebs", "volumeSize")) if chosen else None


def _eks_disk_gib(group: Resource, template: Resource | None) -> int | None:
    """A managed node group's root disk: its ``diskSize``, or its launch template's root volume."""
    if (size := _int(group.get("diskSize"))) is not None:
        return size
    return _ebs_root_gib(template.get("blockDeviceMappings"), _int) if template is not None else None


def _eks_pool(stack: Stack, group: Resource) -> Pool:
    labels = _labels(group.known("labels"))
    types = tuple(str(t) for t in as_list(group.known("instanceTypes")) if _str(t))
    template = next(iter(stack.references(group, "launchTemplate")), None)
    if not types and template is not None and _str(template.get("instanceType")):
        types = (str(template.get("instanceType")),)
    name = _str(group.get("nodeGroupName"))
    labels.update(
        {
            "eks.amazonaws.com/nodegroup": name,
            "eks.amazonaws.com/capacityType": _str(group.get("capacityType")) or "ON_DEMAND",
            "node.kubernetes.io/instance-type": types[0] if len(types) == 1 else None,
            _ZONE: None,
            _HOSTNAME: None,
        }
    )
    return Pool(
        resource=group,
        name=name or group.name,
        cloud=Cloud.AWS,
        instance_types=types,
        labels=labels,
        taints=tuple(t for item in as_list(group.known("taints")) if (t := Taint.of(item))),
        min_nodes=_int(group.get("scalingConfig", "minSize")),
        max_nodes=_int(group.get("scalingConfig", "maxSize")),
        spot=group.known("capacityType") == "SPOT",
        cloud_autoscaled=False,
        zones=len(as_list(group.get("subnetIds"))) or None,
        placement_group=template is not None and bool(_str(template.get("placement", "groupName"))),
        disk_gib=_eks_disk_gib(group, template),
    )


def _aks_pool(resource: Resource, profile: Mapping[str, Any], name: str, max_pods: int | None) -> Pool:
    # The fields a verdict turns on raise where unknown during preview (the pool rules are then undecided).
    spot = known(profile, "scaleSetPriority") == "Spot"
    labels = _labels(known(profile, "nodeLabels"))
    vm_size = _str(known(profile, "vmSize"))
    labels.update(
        {
            "kubernetes.azure.com/agentpool": name,
            "node.kubernetes.io/instance-type": vm_size,
            _ZONE: None,
            _HOSTNAME: None,
        }
    )
    taints = [t for item in as_list(known(profile, "nodeTaints")) if (t := Taint.of(item))]
    if spot:
        # AKS puts this taint and label on every spot node, listed or not
        # (https://learn.microsoft.com/azure/aks/spot-node-pool).
        labels["kubernetes.azure.com/scalesetpriority"] = "spot"
        if not any(t.key == AKS_SPOT_TAINT.key for t in taints):
            taints.append(AKS_SPOT_TAINT)
    autoscaled = is_true(known(profile, "enableAutoScaling"))
    count = _int(get(profile, "count"))
    return Pool(
        resource=resource,
        name=name,
        cloud=Cloud.AZURE,
        instance_types=(vm_size,) if vm_size else (),
        labels=labels,
        taints=tuple(taints),
        min_nodes=_int(get(profile, "minCount")) if autoscaled else count,
        max_nodes=_int(get(profile, "maxCount")) if autoscaled else count,
        spot=spot,
        cloud_autoscaled=autoscaled,
        zones=len(as_list(get(profile, "availabilityZones"))) or None,
        max_pods=_int(get(profile, "maxPods")) or max_pods,
        # With kubeletDiskType Temporary the kubelet lives on the VM's temp disk, sized by the VM type
        # (Azure/AgentBaker#569); without osDiskSizeGB the size is AKS's default for the type.
        disk_gib=None
        if get(profile, "kubeletDiskType") == "Temporary"
        else _int(get(profile, "osDiskSizeGB")),
    )


def _ack_disk_gib(pool: Resource) -> int | None:
    """The larger of an ACK pool's system disk and its first data disk. ACK stores container data on the
    data disk where there is one (the node pool API's "store container data and images on data disks";
    cloudpilot-ai/karpenter-provider-alibabacloud#228 mounts it for containerd and the kubelet), but which
    disk holds the kubelet's directory is not stated plainly: judging on the larger never refuses a pod
    that fits."""
    system = _int(pool.get("systemDiskSize"))
    data = [_int(get(d, "size")) for d in as_list(pool.get("dataDisks"))[:1]]
    sizes = [system, *data]
    return None if None in sizes else max(s for s in sizes if s is not None)


def _ack_pool(pool: Resource) -> Pool:
    labels = _labels(
        {known(item, "key"): known(item, "value", default="") for item in as_list(pool.known("labels"))}
    )
    types = tuple(str(t) for t in as_list(pool.known("instanceTypes")) if _str(t))
    labels.update(
        {
            "alibabacloud.com/nodepool-id": None,
            "node.kubernetes.io/instance-type": types[0] if len(types) == 1 else None,
            _ZONE: None,
            _HOSTNAME: None,
        }
    )
    scaling = as_mapping(pool.known("scalingConfig"))
    autoscaled = is_true(known(scaling, "enable"))
    desired = _int(pool.get("desiredSize"))
    return Pool(
        resource=pool,
        name=_str(pool.get("nodePoolName")) or pool.name,
        cloud=Cloud.ALICLOUD,
        instance_types=types,
        labels=labels,
        taints=tuple(t for item in as_list(pool.known("taints")) if (t := Taint.of(item))),
        min_nodes=_int(get(scaling, "minSize")) if autoscaled else desired,
        max_nodes=_int(get(scaling, "maxSize")) if autoscaled else desired,
        spot=pool.get("spotStrategy") not in (None, "NoSpot"),
        cloud_autoscaled=autoscaled,
        zones=len(as_list(pool.get("vswitchIds"))) or None,
        disk_gib=_ack_disk_gib(pool),
    )


def _quantity_gib(value: Any) -> int | None:
    """A Kubernetes quantity such as ``200Gi`` in whole GiB (rounded down), or None."""
    amount = quantity(value)
    return int(amount / 2**30) if amount is not None else None


def _karpenter_disk_gib(cluster: Cluster, node_pool: Resource) -> int | None:
    """The root volume of the EC2NodeClass a Karpenter NodePool launches into (None elsewhere: AKS's node
    auto-provisioning, a class the plan does not hold)."""
    ref = as_mapping(node_pool.get("spec", "template", "spec", "nodeClassRef"))
    if get(ref, "kind") != "EC2NodeClass":
        return None
    for node_class in cluster.of_type(svc.KARPENTER_EC2_NODE_CLASS):
        if node_class.get("metadata", "name") == get(ref, "name"):
            return _ebs_root_gib(node_class.get("spec", "blockDeviceMappings"), _quantity_gib)
    return None


def _karpenter_pool(cloud: Cloud | None, node_pool: Resource, disk_gib: int | None) -> Pool:
    template = as_mapping(node_pool.known("spec", "template"))
    labels = _labels(known(template, "metadata", "labels"))
    types: tuple[str, ...] = ()
    for requirement in as_list(known(template, "spec", "requirements")):
        key = str(known(requirement, "key"))
        values = [str(known(v)) for v in as_list(known(requirement, "values"))]
        if known(requirement, "operator") != "In":
            continue
        if key == "node.kubernetes.io/instance-type":
            types = tuple(values)
        elif len(values) == 1:
            # Karpenter labels its nodes with a requirement that admits a single value.
            labels.setdefault(key, values[0])
    labels.update(
        {
            "karpenter.sh/nodepool": str(node_pool.get("metadata", "name", default=node_pool.name)),
            "node.kubernetes.io/instance-type": types[0] if len(types) == 1 else None,
            "karpenter.sh/capacity-type": None,
            _ZONE: None,
            _HOSTNAME: None,
        }
    )
    return Pool(
        resource=node_pool,
        name=str(node_pool.get("metadata", "name", default=node_pool.name)),
        cloud=cloud,
        instance_types=types,
        labels=labels,
        taints=tuple(t for item in as_list(known(template, "spec", "taints")) if (t := Taint.of(item))),
        min_nodes=0,
        max_nodes=None,
        spot=False,
        cloud_autoscaled=True,
        zones=None,
        kind="karpenter",
        disk_gib=disk_gib,
    )


def _aks_default_max_pods(cluster: Resource) -> int:
    profile = as_mapping(cluster.get("networkProfile"))
    return aks_default_max_pods(_str(get(profile, "networkPlugin")), _str(get(profile, "networkPluginMode")))


def _cloud_pools(stack: Stack, clusters: Mapping[str, Resource]) -> Iterator[tuple[Resource, Pool]]:
    for group in stack.of_type(svc.EKS_NODE_GROUP):
        if (cluster := _cluster_of(stack, group, "clusterName", clusters)) is not None:
            yield cluster, _eks_pool(stack, group)
    for cluster in stack.of_type("azure-native:containerservice:ManagedCluster"):
        for profile in as_list(cluster.get("agentPoolProfiles")):
            yield (
                cluster,
                _aks_pool(
                    cluster, as_mapping(profile), str(get(profile, "name")), _aks_default_max_pods(cluster)
                ),
            )
    for pool in stack.of_type(svc.AKS_AGENT_POOL):
        if (cluster := _cluster_of(stack, pool, "resourceName", clusters)) is not None:
            name = _str(pool.get("agentPoolName")) or pool.name
            yield cluster, _aks_pool(pool, pool.props, name, _aks_default_max_pods(cluster))
    for pool in stack.of_type(svc.ACK_NODE_POOL):
        if (cluster := _cluster_of(stack, pool, "clusterId", clusters)) is not None:
            yield cluster, _ack_pool(pool)


def _addons(stack: Stack, clusters: Mapping[str, Resource]) -> Iterator[tuple[Resource, Resource]]:
    for addon in stack.of_type(svc.EKS_ADDON):
        if (cluster := _cluster_of(stack, addon, "clusterName", clusters)) is not None:
            yield cluster, addon
    for addon in stack.of_type(svc.ACK_ADDON, svc.ACK_AUTOSCALING_CONFIG):
        if (cluster := _cluster_of(stack, addon, "clusterId", clusters)) is not None:
            yield cluster, addon


def _cloud_layer(stack: Stack) -> bool:
    """Whether the stack is a platform's cloud layer, its Kubernetes layer deployed by another stack."""
    return any(get(p.props, "layer") == "cloud" for p in stack.of_type(PLATFORM))


def _build(stack: Stack) -> Topology:
    cloud_clusters = {r.urn: r for r in stack.of_type(*svc.CLUSTER_TYPES)}
    deployed_here = not _cloud_layer(stack)
    clusters: dict[str, Cluster] = {
        urn: Cluster(
            r,
            svc.CLUSTER_TYPES[r.type],
            _str(r.get("name")) or _str(r.get("resourceName")) or r.name,
            deployed_here=deployed_here,
        )
        for urn, r in cloud_clusters.items()
    }
    # Each Kubernetes provider belongs to the cluster its kubeconfig came from; a provider built from no
    # cluster of this stack stands for a cluster that exists outside it.
    by_provider: dict[str | None, Cluster] = {}
    for provider in stack.of_type("pulumi:providers:kubernetes"):
        source = next((r for r in stack.references(provider, "kubeconfig") if r.urn in clusters), None)
        if source is None:
            source = next((r for r in stack.references(provider) if r.urn in clusters), None)
        if source is not None:
            cluster = clusters[source.urn]
        else:
            cluster = clusters.setdefault(provider.urn, Cluster(None, None, provider.name))
        cluster.providers.append(provider)
        by_provider[provider.urn] = cluster
    by_object: dict[str, Cluster] = {}
    for obj in stack.matching(lambda t: t.startswith("kubernetes:")):
        home = by_provider.get(obj.provider)
        if home is None:
            home = clusters.setdefault("(default provider)", Cluster(None, None, "default"))
            by_provider[obj.provider] = home
        home.objects.append(obj)
        by_object[obj.urn] = home
    try:
        for cluster_resource, pool in _cloud_pools(stack, cloud_clusters):
            clusters[cluster_resource.urn].built_pools.append(pool)
            by_object[pool.resource.urn] = clusters[cluster_resource.urn]
    except UnknownRead as secret:
        # Which cluster the unreadable pool joins may be the secret itself: every cluster built here.
        for urn in cloud_clusters:
            clusters[urn].unreadable_pools = secret
    for cluster_resource, addon in _addons(stack, cloud_clusters):
        clusters[cluster_resource.urn].addons.append(addon)
    for cluster in clusters.values():
        try:
            for node_pool in cluster.of_type(svc.KARPENTER_NODE_POOL):
                disk = _karpenter_disk_gib(cluster, node_pool)
                cluster.built_pools.append(_karpenter_pool(cluster.cloud, node_pool, disk))
        except UnknownRead as secret:
            cluster.unreadable_pools = secret
    for urn, cluster in clusters.items():
        if cluster.resource is not None:
            by_object[urn] = cluster
    return Topology(list(clusters.values()), by_object)


def topology(stack: Stack) -> Topology:
    """The stack's clusters, pools and in-cluster objects, built once and shared by every rule."""
    return stack.memo("operability.topology", _build)
