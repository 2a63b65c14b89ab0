"""Accelerators and the real instance / VM types that carry them, per cloud, and what a node gives its pods.

One table per cloud (``aws``, ``azure``, ``alicloud`` modules); each entry records where its
figures come from. Nothing here imports a cloud SDK: the spec validates against these tables
and tests check every type against the SDKs' own enums or the providers' documentation.

Layers, each importing only those before it: ``types`` (accelerators, clouds, one offering's figures),
the tables and the node facts (``allocatable``: each cloud's kubelet reservations; ``daemonsets``: what
runs on every GPU node), ``lookup`` (offerings by cloud, accelerator and region), ``fit`` (does a pod fit
a node, and what a pod gets by default), ``node_disk`` (how much of a node's disk a pod's scratch space
may take).
"""

from __future__ import annotations

from lepton_infra.catalog.allocatable import NodeAllocatable, node_allocatable, node_figures
from lepton_infra.catalog.daemonsets import NodeDaemon, gpu_node_daemons
from lepton_infra.catalog.fit import (
    InitContainer,
    PodRequest,
    Shortfall,
    fits,
    gib,
    node_room,
    per_gpu_share,
)
from lepton_infra.catalog.lookup import (
    default_offering,
    find_offering,
    offerings,
    partition_of,
    pool_offering,
)
from lepton_infra.catalog.node_disk import pod_ephemeral_gib, scratch_room_gib, smallest_disk_for
from lepton_infra.catalog.types import Accelerator, Cloud, InstanceOffering, Resources

__all__ = [
    "Accelerator",
    "Cloud",
    "InitContainer",
    "InstanceOffering",
    "NodeAllocatable",
    "NodeDaemon",
    "PodRequest",
    "Resources",
    "Shortfall",
    "default_offering",
    "find_offering",
    "fits",
    "gib",
    "gpu_node_daemons",
    "node_allocatable",
    "node_figures",
    "node_room",
    "offerings",
    "partition_of",
    "per_gpu_share",
    "pod_ephemeral_gib",
    "pool_offering",
    "scratch_room_gib",
    "smallest_disk_for",
]
