"""What the kubelet of one node leaves to pods: capacity minus kube-reserved, system-reserved and eviction.

A pod is scheduled against a node's *allocatable*, not the instance type's nominal size ("Reserve Compute
Resources for System Daemons", https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/:
allocatable = capacity - kube-reserved - system-reserved - eviction threshold). Each cloud computes the
reservation its own way; the functions here follow each cloud's documented formula and cite it.
DaemonSets are not subtracted here (``daemonsets`` has their footprints): allocatable is what the node
reports before any pod lands on it.

The memory a kubelet reports as capacity is below the type's nominal size (firmware, kernel, the GPU
driver's reservations). Karpenter models the gap as 7.5% "when cached information is unavailable"
(``vmMemoryOverheadPercent``, https://karpenter.sh/docs/reference/settings/); with it nodeadm's formulas
reproduce Karpenter's published allocatable for every AWS type of the catalog exactly. ACK's own example
node reports 5.5% below nominal (7925980Ki of 8 GiB). Azure publishes no figure: every cloud is charged
the same 7.5%, an estimate that errs toward refusing a pod rather than leaving it Pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lepton_infra.catalog.types import Cloud, InstanceOffering, Resources

# Per mille of the nominal memory a kubelet does not report as capacity (Karpenter's 7.5%, see above).
VM_MEMORY_OVERHEAD_PER_MILLE = 75
# The kubelet's default hard eviction threshold, kept by all three clouds: memory.available < 100Mi.
EVICTION_MEMORY_MIB = 100


@dataclass(frozen=True)
class NodeAllocatable:
    """One node of a type, as its kubelet sees it: capacity, what it keeps back, what is left for pods."""

    instance_type: str
    # GPUs, CPU and the memory the kubelet reports (nominal memory less the VM overhead).
    capacity: Resources
    kube_reserved: Resources
    system_reserved: Resources
    eviction_memory_mib: int
    # Pods the node takes; None where the cloud's figure is not known (ACK's Terway sizes it per type).
    max_pods: int | None
    source: str

    @property
    def allocatable(self) -> Resources:
        eviction = Resources(0, 0, self.eviction_memory_mib)
        return self.capacity - self.kube_reserved - self.system_reserved - eviction


def capacity(offering: InstanceOffering) -> Resources:
    """What a kubelet on ``offering`` reports as capacity (memory: nominal less the VM overhead)."""
    nominal_mib = offering.memory_gib * 1024
    memory = nominal_mib * (1000 - VM_MEMORY_OVERHEAD_PER_MILLE) // 1000
    return Resources(offering.gpus, offering.vcpus * 1000, memory)


def tiered(total: int, tiers: tuple[tuple[int, int], ...], per: int) -> int:
    """``total`` reserved by tiers of (upper bound, rate in 1/``per``): each rate applies to its slice."""
    reserved, start = 0, 0
    for end, rate in tiers:
        if total > start:
            reserved += (min(total, end) - start) * rate // per
        start = end
    return reserved


# --- AWS: EKS AL2023 nodes, configured by nodeadm ---------------------------------------------------------
# awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go (HEAD 81fec2e8, 2026-07-23):
#   kubeReserved.cpu    = 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% of the rest
#                         (cpuRanges {0, 1000, 2000, 4000, total}, {600, 100, 50, 25} / 10000);
#   kubeReserved.memory = 11 MiB x maxPods + 255 MiB, maxPods from the ENI formula (CalcMaxPods) even where a
#                         managed node group later caps the pods lower;
#   no systemReserved; evictionHard memory.available 100Mi.
EKS_SOURCE = "https://github.com/awslabs/amazon-eks-ami/blob/main/nodeadm/internal/kubelet/config.go"
_EKS_CPU_TIERS = ((1000, 600), (2000, 100), (4000, 50), (1 << 62, 25))
# Pods per node by the ENI formula (ENIs on the default card x (IPv4 per ENI - 1) + 2), as nodeadm's
# instance-info table and Karpenter's published figures give them
# (https://karpenter.sh/v1.14/reference/instance-types/, the "pods" resource).
EKS_ENI_MAX_PODS: Mapping[str, int] = {
    "p5.48xlarge": 100,
    "p5.4xlarge": 118,
    "p4de.24xlarge": 737,
    "p4d.24xlarge": 737,
    "g6e.xlarge": 58,
    "g6e.2xlarge": 58,
    "g6e.4xlarge": 234,
    "g6e.12xlarge": 292,
    "g6e.24xlarge": 492,
    "g6e.48xlarge": 492,
    "g6.xlarge": 58,
    "g6.2xlarge": 58,
    "g6.4xlarge": 234,
    "g6.12xlarge": 234,
    "g6.24xlarge": 737,
    "g6.48xlarge": 737,
    "g5.xlarge": 58,
    "g5.2xlarge": 58,
    "g5.4xlarge": 234,
    "g5.12xlarge": 737,
    "g5.24xlarge": 737,
    "g5.48xlarge": 345,
    "g4dn.xlarge": 29,
    "g4dn.2xlarge": 29,
    "g4dn.4xlarge": 29,
    "g4dn.12xlarge": 234,
    "g4dn.metal": 737,
}
# nodeadm's maxPods where the instance-info table has no entry.
EKS_DEFAULT_MAX_PODS = 110


def eks_reserved_cpu_millicores(vcpus: int) -> int:
    """nodeadm's kube-reserved CPU for a node of ``vcpus``: 80m at 4 vCPUs, 550m at 192."""
    return tiered(vcpus * 1000, _EKS_CPU_TIERS, 10000)


def eks_node(offering: InstanceOffering) -> NodeAllocatable:
    max_pods = EKS_ENI_MAX_PODS.get(offering.instance_type, EKS_DEFAULT_MAX_PODS)
    return NodeAllocatable(
        instance_type=offering.instance_type,
        capacity=capacity(offering),
        kube_reserved=Resources(0, eks_reserved_cpu_millicores(offering.vcpus), 11 * max_pods + 255),
        system_reserved=Resources(0, 0, 0),
        eviction_memory_mib=EVICTION_MEMORY_MIB,
        max_pods=max_pods,
        source=EKS_SOURCE,
    )


# --- Azure: AKS --------------------------------------------------------------------------------------------
# "Node resource reservations in AKS" (https://learn.microsoft.com/azure/aks/node-resource-reservations,
# ms.date 2026-06-11): kube-reserved CPU by cores 1:60, 2:100, 4:140, 8:180, 16:260, 32:420, 64:740
# millicores; memory (AKS 1.29+) the lesser of 20 MB x max pods + 50 MB and 25% of the node's memory, plus
# the memory.available < 100Mi eviction rule. Between the table's points the reservation is interpolated;
# above 64 cores it grows 10m per core (the slope of every step from 4 cores up): Microsoft gives no figure
# there. "MB" is read as MiB, which reserves a little more.
AKS_SOURCE = "https://learn.microsoft.com/azure/aks/node-resource-reservations"
AKS_CPU_RESERVED: tuple[tuple[int, int], ...] = (
    (1, 60),
    (2, 100),
    (4, 140),
    (8, 180),
    (16, 260),
    (32, 420),
    (64, 740),
)
# Azure CNI Overlay (the sites' network plugin) gives a node 250 pods unless the pool sets max_pods
# ("Maximum pods per node", https://learn.microsoft.com/azure/aks/concepts-network-ip-address-planning).
AKS_DEFAULT_MAX_PODS = 250
# The other network plugins' defaults, for clusters that are not ours (AKS node autoprovisioning docs,
# "maxPods": "Azure CNI with standard networking: 30 pods ... Other configurations: 110 pods",
# https://learn.microsoft.com/azure/aks/node-autoprovision-aksnodeclass).
AKS_NODE_SUBNET_MAX_PODS = 30
AKS_OTHER_MAX_PODS = 110


def aks_default_max_pods(network_plugin: str | None, plugin_mode: str | None) -> int:
    """The pods an AKS node gets when its pool sets none, from the cluster's network profile."""
    if plugin_mode == "overlay":
        return AKS_DEFAULT_MAX_PODS
    return AKS_NODE_SUBNET_MAX_PODS if network_plugin == "azure" else AKS_OTHER_MAX_PODS


def aks_reserved_cpu_millicores(cores: int) -> int:
    """AKS kube-reserved CPU: the documented table, linear between its points and beyond its last."""
    below = [(c, m) for c, m in AKS_CPU_RESERVED if c <= cores]
    if not below:
        return AKS_CPU_RESERVED[0][1]
    c0, m0 = below[-1]
    above = [(c, m) for c, m in AKS_CPU_RESERVED if c > cores]
    if not above:
        return m0 + 10 * (cores - c0)
    c1, m1 = above[0]
    return m0 + (m1 - m0) * (cores - c0) // (c1 - c0)


def aks_node(offering: InstanceOffering, max_pods: int = AKS_DEFAULT_MAX_PODS) -> NodeAllocatable:
    node = capacity(offering)
    memory = min(20 * max_pods + 50, node.memory_mib // 4)
    return NodeAllocatable(
        instance_type=offering.instance_type,
        capacity=node,
        kube_reserved=Resources(0, aks_reserved_cpu_millicores(offering.vcpus), memory),
        system_reserved=Resources(0, 0, 0),
        eviction_memory_mib=EVICTION_MEMORY_MIB,
        max_pods=max_pods,
        source=AKS_SOURCE,
    )


# --- Alibaba Cloud: ACK ------------------------------------------------------------------------------------
# ACK's "Resource reservation policy" (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/
# user-guide/resource-reservation-policy) says allocatable = capacity - reserved - eviction threshold, that
# the reservation is split evenly between kubeReserved and systemReserved and grows with the type, and that
# "ACK may iterate the default values"; its formula table could not be read. So the platform does not rely
# on ACK's defaults: every ACK GPU pool sets its reservation explicitly (the node pool's kubelet
# configuration, from ``ack_kubelet_reservation``), and that is what is charged here. The amounts are
# the tiers AKS documents for its versions before 1.29 (the node-resource-reservations page above):
# memory 25% of the first 4 GiB, 20% of the next 4, 10% of the next 8, 6% of the next 112 and 2% above
# 128 GiB; CPU the EKS tiers above (6% / 1% / 0.5% / 0.25%). For ACK's own 4-vCPU, 8 GiB example they
# reserve 80m and 1843 MiB, against ACK's 100m and 1952 MiB (2052 MiB with eviction).
ACK_SOURCE = (
    "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/"
    "resource-reservation-policy"
)
_GIB = 1024
_ACK_MEMORY_TIERS = (
    (4 * _GIB, 25),
    (8 * _GIB, 20),
    (16 * _GIB, 10),
    (128 * _GIB, 6),
    (1 << 62, 2),
)


def ack_reserved(offering: InstanceOffering) -> Resources:
    """The whole reservation (kube + system) an ACK GPU pool of ``offering`` sets for its kubelet."""
    cpu = tiered(offering.vcpus * 1000, _EKS_CPU_TIERS, 10000)
    memory = tiered(offering.memory_gib * _GIB, _ACK_MEMORY_TIERS, 100)
    return Resources(0, cpu, memory)


@dataclass(frozen=True)
class KubeletReservation:
    """kubeReserved and systemReserved as a node pool's kubelet configuration takes them (strings)."""

    kube_reserved: Mapping[str, str]
    system_reserved: Mapping[str, str]


def ack_kubelet_reservation(offering: InstanceOffering) -> KubeletReservation:
    """The kubelet reservation an ACK GPU pool of ``offering`` must set, split half and half as ACK does.

    For ``alicloud.cs.NodePoolKubeletConfigurationArgs(kube_reserved=..., system_reserved=...)``. Hard
    eviction stays ACK's (the kubelet's 100Mi): setting ``eviction_hard`` would replace every threshold.
    """
    total = ack_reserved(offering)
    kube = Resources(0, total.cpu_millicores // 2, total.memory_mib // 2)
    system = total - kube

    def amounts(part: Resources) -> dict[str, str]:
        return {"cpu": f"{part.cpu_millicores}m", "memory": f"{part.memory_mib}Mi"}

    return KubeletReservation(kube_reserved=amounts(kube), system_reserved=amounts(system))


def ack_node(offering: InstanceOffering) -> NodeAllocatable:
    reservation = ack_reserved(offering)
    kube = Resources(0, reservation.cpu_millicores // 2, reservation.memory_mib // 2)
    return NodeAllocatable(
        instance_type=offering.instance_type,
        capacity=capacity(offering),
        kube_reserved=kube,
        system_reserved=reservation - kube,
        eviction_memory_mib=EVICTION_MEMORY_MIB,
        max_pods=None,
        source=ACK_SOURCE,
    )


def node_figures(cloud: Cloud, offering: InstanceOffering, *, max_pods: int | None = None) -> NodeAllocatable:
    """One node of ``offering`` on ``cloud``: capacity, reservations, allocatable, pods.

    ``max_pods`` is the node's pod limit where the cloud sizes its reservation from it and a pool may set
    it (AKS); without it, the cloud's default applies.
    """
    if cloud is Cloud.AWS:
        return eks_node(offering)
    if cloud is Cloud.AZURE:
        return aks_node(offering, max_pods or AKS_DEFAULT_MAX_PODS)
    return ack_node(offering)


def node_allocatable(cloud: Cloud, offering: InstanceOffering, *, max_pods: int | None = None) -> Resources:
    """What one node of ``offering`` on ``cloud`` reports as allocatable, before any DaemonSet."""
    return node_figures(cloud, offering, max_pods=max_pods).allocatable


SOURCES: Mapping[Cloud, str] = {Cloud.AWS: EKS_SOURCE, Cloud.AZURE: AKS_SOURCE, Cloud.ALICLOUD: ACK_SOURCE}
