"""How much of a GPU node's disk its pods may fill: the room for a pod's scratch space (emptyDir).

A node's root disk (``disk_gib`` of its pool) holds the OS, the container images, the kubelet's own
directory and every disk-backed emptyDir of its pods ("The kubelet also uses this kind of storage to hold
node-level container logs, container images, and the writable layers of running containers",
https://kubernetes.io/docs/concepts/storage/ephemeral-storage/). The scheduler places a pod by its
``ephemeral-storage`` request against the node's allocatable, which is the disk's *capacity* less the
eviction threshold: it does not subtract what the OS and images already take. A pod placed on that figure
fills the disk, the node reports DiskPressure and the kubelet evicts pods. So the spec is held to a
stricter figure, worked out here.

Assumed, and why:

- ``OS_AND_IMAGES_GIB`` (40 GiB) for the OS and container images: the EKS/AKS/ACK GPU node images use
  10-15 GiB of their root disk; the GPU stack's DaemonSet images (driver, toolkit, device plugin, DCGM,
  a fabric's driver) a few GiB more; a CUDA + PyTorch training image 10-20 GiB unpacked. 40 GiB holds one
  such image with room to spare; a cluster that keeps two versions of a 20 GiB image during a rollout
  needs a larger ``disk_gib``.
- The kubelet's hard eviction threshold ``nodefs.available<10%``, its default on Linux
  (https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/#hard-eviction-thresholds):
  the last tenth of the disk is never the pods'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from lepton_infra.catalog.types import Cloud

OS_AND_IMAGES_GIB = 40
EVICTION_FREE_FRACTION = 0.10
# A pod's ephemeral storage beyond its scratch emptyDir: its containers' logs (the kubelet rotates them at
# containerLogMaxSize 10Mi x containerLogMaxFiles 5 by default) and writable layers (empty: the root
# filesystem is read-only). One GiB covers both with room.
LOGS_AND_LAYERS_GIB = 1
# A server's /tmp: caches only (its model and engine caches have emptyDirs of their own).
SERVER_TMP_GIB = 2


def pod_ephemeral_gib(scratch_gib: int) -> int:
    """The ``ephemeral-storage`` a pod with ``scratch_gib`` of disk-backed emptyDir asks for: the emptyDir
    counts against it ("emptyDir volumes, except tmpfs emptyDir volumes" are part of a pod's local ephemeral
    storage, https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    #setting-requests-and-limits-for-local-ephemeral-storage), plus its logs."""
    return scratch_gib + LOGS_AND_LAYERS_GIB


def scratch_room_gib(disk_gib: int) -> int:
    """The most emptyDir scratch space one pod may ask of a node whose root disk has ``disk_gib``."""
    pods = disk_gib - math.ceil(disk_gib * EVICTION_FREE_FRACTION) - OS_AND_IMAGES_GIB
    return max(0, pods - LOGS_AND_LAYERS_GIB)


def smallest_disk_for(scratch_gib: int) -> int:
    """The smallest ``disk_gib`` whose node holds ``scratch_gib`` of scratch space: what to tell a user."""
    disk = math.ceil((pod_ephemeral_gib(scratch_gib) + OS_AND_IMAGES_GIB) / (1 - EVICTION_FREE_FRACTION))
    while scratch_room_gib(disk) < scratch_gib:  # ceil of the float can land one short
        disk += 1
    return disk


# --- What the scheduler sees: a node's allocatable ephemeral storage ----------------------------------------
# allocatable = capacity - kube-reserved - system-reserved - eviction threshold
# (https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/), with the kubelet's root
# filesystem as capacity. What each cloud keeps back of it:
# - EKS AL2023 (nodeadm): kubeReserved ephemeral-storage 1Gi, evictionHard nodefs.available 10%
#   (awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go, withDefaultReservedResources and
#   defaultKubeletSubConfig; Karpenter's AL2023 nodes get the same).
# - AKS reserves "two types of resources, CPU and memory" (https://learn.microsoft.com/azure/aks/
#   node-resource-reservations) and keeps the kubelet's nodefs.available 10%: Azure/AKS#930 shows a node of
#   capacity 30428648Ki with allocatable 28043041951 bytes, 90.0% of it.
# - ACK: its resource reservation page shows capacity 123722704Ki and allocatable 114022843818 bytes, 90.0%
#   of it: no disk reserved, the 10% eviction threshold (https://www.alibabacloud.com/help/en/ack/
#   ack-managed-and-ack-dedicated/user-guide/resource-reservation-policy).
# The filesystem is a little smaller than the disk (its own metadata): taking the disk as capacity errs
# toward passing a pod, never toward refusing one that fits.
KUBE_RESERVED_EPHEMERAL_MIB: Mapping[Cloud, int] = {Cloud.AWS: 1024, Cloud.AZURE: 0, Cloud.ALICLOUD: 0}


def node_ephemeral_mib(cloud: Cloud, disk_gib: int) -> int:
    """The ``ephemeral-storage`` allocatable of a ``cloud`` node whose kubelet's disk has ``disk_gib``, in
    MiB: what the scheduler places pods' ephemeral-storage requests against."""
    capacity = disk_gib * 1024
    return capacity - KUBE_RESERVED_EPHEMERAL_MIB[cloud] - math.ceil(capacity * EVICTION_FREE_FRACTION)


def smallest_disk_for_ephemeral(cloud: Cloud, ephemeral_mib: int) -> int:
    """The smallest disk (GiB) whose ``cloud`` node has ``ephemeral_mib`` allocatable: what to tell a user."""
    disk = math.ceil(
        (ephemeral_mib + KUBE_RESERVED_EPHEMERAL_MIB[cloud]) / 1024 / (1 - EVICTION_FREE_FRACTION)
    )
    while node_ephemeral_mib(cloud, disk) < ephemeral_mib:  # ceil of the float can land one short
        disk += 1
    return disk
