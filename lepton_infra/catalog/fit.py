"""Whether a pod fits one node of an instance type: the one fit check of the platform.

The blueprint's validation asks it of every workload and its pools; the operability pack is to ask it of
every pod in a plan. Today a node offers its full capacity (the catalog's vCPUs and memory); once the
catalog records what the kubelet, the system daemons and the eviction threshold keep back, ``fits``
compares against that allocatable instead, here and nowhere else.
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
