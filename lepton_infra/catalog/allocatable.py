"""What the kubelet of one node leaves to pods: capacity minus kube-reserved, system-reserved and eviction.

A pod is scheduled against a node's *allocatable*, not the instance type's nominal size (Kubernetes,
"Reserve Compute Resources for System Daemons":
https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/). Each cloud computes the
reservation its own way; the functions here follow each cloud's documented formula, cite it, and say
where they are an estimate. DaemonSets are not subtracted here (``daemonsets`` has their footprints):
allocatable is what the node reports, before any pod lands on it.

Issue 12 (AWS day one) owns the fit check and switches ``fit.fits`` to allocatable; the operability pack
needed the figures before that landed, so they are here, narrow, for that work to adopt or replace.
"""

from __future__ import annotations

from lepton_infra.catalog.types import Cloud, InstanceOffering, Resources

# --- AWS: EKS AL2023 nodes configured by nodeadm --------------------------------------------------------
# nodeadm (awslabs/amazon-eks-ami, nodeadm/internal/kubelet/config.go) reserves for the kubelet:
#   cpu:    6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% of every further core;
#   memory: 11 MiB per pod the node can hold (the ENI formula below) + 255 MiB;
# and evicts at memory.available < 100Mi. Karpenter models the gap between the EC2 nominal memory and
# what the kubelet reports as capacity with vmMemoryOverheadPercent 0.075 (Karpenter settings,
# https://karpenter.sh/docs/reference/settings/); with it the formula reproduces Karpenter's published
# allocatable for every type below (e.g. g6.xlarge 3920m / 14162Mi,
# https://karpenter.sh/docs/reference/instance-types/).
EKS_SOURCE = "https://github.com/awslabs/amazon-eks-ami/blob/main/nodeadm/internal/kubelet/config.go"
EKS_VM_MEMORY_OVERHEAD = 0.075
EKS_EVICTION_MIB = 100
# Pods per node by the ENI formula (# of ENI x (IPv4 per ENI - 1) + 2), from
# awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt; nodeadm sizes kube-reserved memory
# from this figure even where a managed node group caps max pods lower.
EKS_ENI_MAX_PODS: dict[str, int] = {
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
# nodeadm's default where a type is missing from its table.
EKS_DEFAULT_MAX_PODS = 110


def eks_reserved_cpu_millicores(vcpus: int) -> int:
    """nodeadm's kube-reserved CPU for a node of ``vcpus``: 80m at 4 vCPUs, 550m at 192."""
    # (upper bound of the range in millicores, tenths of a percent reserved within it)
    ranges = ((1000, 60), (2000, 10), (4000, 5))
    total, reserved, start = vcpus * 1000, 0.0, 0
    for end, per_mille in ranges:
        reserved += max(0, min(total, end) - start) * per_mille / 1000
        start = end
    reserved += max(0, total - 4000) * 2.5 / 1000
    return round(reserved)


def _eks(offering: InstanceOffering) -> Resources:
    max_pods = EKS_ENI_MAX_PODS.get(offering.instance_type, EKS_DEFAULT_MAX_PODS)
    capacity_mib = int(offering.memory_gib * 1024 * (1 - EKS_VM_MEMORY_OVERHEAD))
    memory = capacity_mib - (11 * max_pods + 255) - EKS_EVICTION_MIB
    cpu = offering.vcpus * 1000 - eks_reserved_cpu_millicores(offering.vcpus)
    return Resources(offering.gpus, cpu, memory)


# --- Azure: AKS ------------------------------------------------------------------------------------------
# "Node resource reservations in AKS" (https://learn.microsoft.com/azure/aks/node-resource-reservations):
# kube-reserved CPU by cores 1:60, 2:100, 4:140, 8:180, 16:260, 32:420, 64:740 millicores; memory
# (AKS 1.29+) the smaller of 20 MB x max pods + 50 MB and 25% of the node's memory, plus the
# memory.available < 100Mi eviction rule. Between and above the table's points the reservation grows by
# 10m per core (the slope of every step from 4 cores up): an interpolation, not a Microsoft figure.
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
AKS_EVICTION_MIB = 100
# Default max pods per node by network plugin (AKS node autoprovisioning docs, "maxPods": Azure CNI with
# overlay networking 250, Azure CNI with standard networking 30, other configurations 110).
AKS_DEFAULT_MAX_PODS = {"overlay": 250, "azure": 30}
AKS_OTHER_MAX_PODS = 110


def aks_reserved_cpu_millicores(cores: int) -> int:
    """AKS kube-reserved CPU: the documented table, linear between and beyond its points."""
    below = [(c, m) for c, m in AKS_CPU_RESERVED if c <= cores]
    if not below:
        return AKS_CPU_RESERVED[0][1]
    c0, m0 = below[-1]
    above = [(c, m) for c, m in AKS_CPU_RESERVED if c > cores]
    if not above:
        return m0 + 10 * (cores - c0)
    c1, m1 = above[0]
    return round(m0 + (m1 - m0) * (cores - c0) / (c1 - c0))


def aks_max_pods(network_plugin: str | None, plugin_mode: str | None) -> int:
    """The max pods an AKS node gets when the pool sets none, from the cluster's network profile."""
    if plugin_mode == "overlay":
        return AKS_DEFAULT_MAX_PODS["overlay"]
    if network_plugin == "azure":
        return AKS_DEFAULT_MAX_PODS["azure"]
    return AKS_OTHER_MAX_PODS


def _aks(offering: InstanceOffering, max_pods: int) -> Resources:
    memory_mib = offering.memory_gib * 1024
    reserved = min(20 * max_pods + 50, memory_mib // 4)
    cpu = offering.vcpus * 1000 - aks_reserved_cpu_millicores(offering.vcpus)
    return Resources(offering.gpus, cpu, memory_mib - reserved - AKS_EVICTION_MIB)


# --- Alibaba Cloud: ACK ----------------------------------------------------------------------------------
# "Resource reservation policy" (ACK): Allocatable = Capacity - Reserved - Eviction threshold, reserved
# split half kubeReserved, half systemReserved, larger types reserving more. Its formula table could not
# be read from the stored pages; its worked example is a 4-vCPU node with 7925980Ki capacity reporting
# 3900m / 5824732Ki allocatable. So ACK nodes are charged that example's reservation (100m CPU,
# 2052 MiB memory incl. eviction): a lower bound for every larger type, so the fit check may pass a pod
# that a large ACK node cannot take, never the reverse.
ACK_SOURCE = "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/resource-reservation-policy"
ACK_MIN_RESERVED = Resources(0, 100, (7925980 - 5824732) // 1024)


def _ack(offering: InstanceOffering) -> Resources:
    return Resources(
        offering.gpus,
        offering.vcpus * 1000 - ACK_MIN_RESERVED.cpu_millicores,
        offering.memory_gib * 1024 - ACK_MIN_RESERVED.memory_mib,
    )


def node_allocatable(cloud: Cloud, offering: InstanceOffering, *, max_pods: int | None = None) -> Resources:
    """What one node of ``offering`` on ``cloud`` reports as allocatable, before any DaemonSet.

    ``max_pods`` is the node's pod limit where the cloud sizes its reservation from it (AKS); without
    it, the cloud's default applies.
    """
    if cloud is Cloud.AWS:
        return _eks(offering)
    if cloud is Cloud.AZURE:
        return _aks(offering, max_pods or AKS_OTHER_MAX_PODS)
    return _ack(offering)


SOURCES: dict[Cloud, str] = {Cloud.AWS: EKS_SOURCE, Cloud.AZURE: AKS_SOURCE, Cloud.ALICLOUD: ACK_SOURCE}
