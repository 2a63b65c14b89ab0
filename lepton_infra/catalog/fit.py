"""Whether a pod fits one node of an instance type: the one fit check of the platform.

The blueprint's validation asks it of every workload and its pools; the operability pack asks it of
every pod in a plan. ``fits`` still compares with a node's full capacity (the catalog's vCPUs and
memory); ``shortfalls`` compares with any amount a node has room for, which the operability pack computes
as allocatable (``allocatable``) minus the DaemonSets that land there (``daemonsets``). Issue 12 moves
``fits`` onto allocatable; both then compare through ``shortfalls``, here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lepton_infra.catalog.types import InstanceOffering, Resources


@dataclass(frozen=True)
class Shortfall:
    """A resource the pod asks more of than the node offers."""

    # The Resources field asked too much of: "gpus", "cpu_millicores" or "memory_mib".
    resource: str
    requested: str
    offered: str

    def sentence(self, node: str) -> str:
        """E.g. ``64000m is more than a g6.xlarge node of site 'x' has (4 vCPUs)`` for ``node`` the middle."""
        return f"{self.requested} is more than {node} has ({self.offered})"

    def __str__(self) -> str:
        return self.sentence("a node")


def fits(offering: InstanceOffering, request: Resources) -> list[Shortfall]:
    """What the pod's ``request`` asks beyond what one node of ``offering`` gives; empty if the pod fits."""
    shortfalls = []
    if request.gpus > offering.gpus:
        shortfalls.append(Shortfall("gpus", f"{request.gpus} GPUs", f"{offering.gpus} GPUs"))
    if request.cpu_millicores > offering.vcpus * 1000:
        shortfalls.append(
            Shortfall("cpu_millicores", f"{request.cpu_millicores}m", f"{offering.vcpus} vCPUs")
        )
    if request.memory_mib > offering.memory_gib * 1024:
        shortfalls.append(Shortfall("memory_mib", f"{request.memory_mib} MiB", f"{offering.memory_gib} GiB"))
    return shortfalls


def roomiest(offerings: Iterable[InstanceOffering]) -> InstanceOffering:
    """The type with the most CPU (then memory) per node: the one to judge a pod against among several."""
    return max(offerings, key=lambda o: (o.vcpus, o.memory_gib))


def gib(mib: int) -> str:
    """A memory amount as people read it in messages: ``14162`` -> ``13.8 GiB``."""
    return f"{mib / 1024:.1f} GiB"


def shortfalls(request: Resources, room: Resources) -> list[Shortfall]:
    """What ``request`` asks beyond ``room`` (a node's free allocatable), in Kubernetes units."""
    found = []
    if request.gpus > room.gpus:
        found.append(Shortfall("gpus", f"{request.gpus} GPUs", f"{room.gpus} GPUs"))
    if request.cpu_millicores > room.cpu_millicores:
        found.append(Shortfall("cpu_millicores", f"{request.cpu_millicores}m CPU", f"{room.cpu_millicores}m"))
    if request.memory_mib > room.memory_mib:
        found.append(Shortfall("memory_mib", gib(request.memory_mib), gib(room.memory_mib)))
    return found


def pods_per_node(request: Resources, room: Resources, max_pods: int = 110) -> int:
    """How many copies of a pod asking ``request`` one node with ``room`` free can hold (0: none).

    ``max_pods`` bounds a pod that asks for nothing (110 is the kubelet's default ``maxPods``).
    """
    counts = [max_pods] + [
        room_of // asked
        for asked, room_of in (
            (request.gpus, room.gpus),
            (request.cpu_millicores, room.cpu_millicores),
            (request.memory_mib, room.memory_mib),
        )
        if asked > 0
    ]
    return max(0, min(counts))
