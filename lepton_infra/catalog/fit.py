"""Whether a pod fits one node of an instance type: the one fit check of the platform, and pod sizing.

The blueprint's validation asks it of every workload on the pool its pods land on; the operability pack
asks it of every pod in a plan. Both compare a pod's effective request (``PodRequest``) with the room a
node has for workload pods: its allocatable (``allocatable``, the cloud's documented reservations) less
the DaemonSets that land on it (``daemonsets``). The scheduler does the same sum, so a pod that passes
here is a pod the scheduler can place on an empty node of the type.

Kubernetes semantics followed:

- A pod's effective request is the larger of its app containers plus its sidecars, and of each init
  container plus the sidecars started before it (https://kubernetes.io/docs/concepts/workloads/pods/
  sidecar-containers/#resource-sharing-within-containers).
- Files in a memory-backed emptyDir (/dev/shm for NCCL and data loaders) are charged to the pod's memory
  ("files you write count against your container's memory limit",
  https://kubernetes.io/docs/concepts/storage/volumes/#emptydir): the memory a pod needs is at least its
  tmpfs size limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lepton_infra.catalog.allocatable import node_allocatable
from lepton_infra.catalog.daemonsets import daemonset_requests, gpu_node_daemons
from lepton_infra.catalog.types import Cloud, InstanceOffering, Resources


def gib(mib: int) -> str:
    """A memory amount as people read it in messages: ``14162`` -> ``13.8 GiB``."""
    return f"{mib / 1024:.1f} GiB"


@dataclass(frozen=True)
class Shortfall:
    """A resource the pod asks more of than the node has room for."""

    # The Resources field asked too much of: "gpus", "cpu_millicores" or "memory_mib".
    resource: str
    requested: str
    offered: str

    def sentence(self, node: str) -> str:
        """E.g. ``4000m CPU is more than a g6.xlarge node has for pods (3755m)``, ``node`` the middle."""
        return f"{self.requested} is more than {node} has for pods ({self.offered})"

    def __str__(self) -> str:
        return self.sentence("a node")


@dataclass(frozen=True)
class InitContainer:
    """An init container's request; a sidecar (``restartPolicy: Always``) keeps running beside the app."""

    requests: Resources
    sidecar: bool = False


def effective_amount(containers: Iterable[int], init_containers: Iterable[tuple[int, bool]] = ()) -> int:
    """A pod's effective request of one resource from its containers' requests of it: ``init_containers``
    are (request, is a sidecar) in the pod's order. The larger of the app containers plus the sidecars,
    and of each init container plus the sidecars started before it."""
    sidecars = init_peak = 0
    for requested, sidecar in init_containers:
        if sidecar:
            sidecars += requested
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + requested)
    return max(sum(containers) + sidecars, init_peak)


@dataclass(frozen=True)
class PodRequest:
    """What one pod asks of its node: each container's requests, and its memory-backed volumes."""

    containers: tuple[Resources, ...]
    init_containers: tuple[InitContainer, ...] = ()
    # Size limits of the pod's memory-backed emptyDir volumes (tmpfs such as /dev/shm), summed.
    memory_volumes_mib: int = 0

    def effective(self) -> Resources:
        """The pod's request as the scheduler computes it, with memory-backed volumes counted in memory."""

        def amount(field: Callable[[Resources], int]) -> int:
            return effective_amount(
                (field(c) for c in self.containers),
                ((field(i.requests), i.sidecar) for i in self.init_containers),
            )

        memory = max(amount(lambda r: r.memory_mib), self.memory_volumes_mib)
        return Resources(amount(lambda r: r.gpus), amount(lambda r: r.cpu_millicores), memory)


def fits(pod: PodRequest | Resources, room: Resources) -> list[Shortfall]:
    """What ``pod`` asks beyond ``room`` (what one node has for workload pods); empty if it fits."""
    request = pod.effective() if isinstance(pod, PodRequest) else pod
    found = []
    if request.gpus > room.gpus:
        found.append(Shortfall("gpus", f"{request.gpus} GPUs", f"{room.gpus} GPUs"))
    if request.cpu_millicores > room.cpu_millicores:
        found.append(Shortfall("cpu_millicores", f"{request.cpu_millicores}m CPU", f"{room.cpu_millicores}m"))
    if request.memory_mib > room.memory_mib:
        found.append(Shortfall("memory_mib", f"{gib(request.memory_mib)} memory", gib(room.memory_mib)))
    return found


def node_room(cloud: Cloud, offering: InstanceOffering, *, max_pods: int | None = None) -> Resources:
    """What one GPU node of ``offering`` on a ``cloud`` site has for workload pods.

    Its allocatable less every DaemonSet pod that lands on a GPU node there (``gpu_node_daemons``).
    """
    return node_allocatable(cloud, offering, max_pods=max_pods) - daemonset_requests(gpu_node_daemons(cloud))


def per_gpu_share(room: Resources, node_gpus: int, gpus: int) -> Resources:
    """The share of ``room`` that goes with ``gpus`` of a node's ``node_gpus``: a pod's default size.

    CPU is rounded down to whole cores (the static CPU manager gives exclusive cores only to a Guaranteed
    pod's integer CPU requests: https://kubernetes.io/docs/tasks/administer-cluster/cpu-management-policies/)
    and memory down to whole GiB, so pods sharing a node by their GPUs always fit it together.
    """
    if not 0 < gpus <= node_gpus:
        raise ValueError(f"a pod of {gpus} GPUs cannot take a share of a node with {node_gpus}")
    cpu = room.cpu_millicores * gpus // node_gpus
    memory = room.memory_mib * gpus // node_gpus
    cpu = cpu // 1000 * 1000 if cpu >= 1000 else cpu // 100 * 100
    memory = memory // 1024 * 1024 if memory >= 1024 else memory
    return Resources(gpus, cpu, memory)


def pods_per_node(request: Resources, room: Resources, max_pods: int = 110) -> int:
    """How many copies of a pod asking ``request`` one node with ``room`` free can hold (0: none).

    ``max_pods`` bounds a pod that asks for nothing (110 is the kubelet's default ``maxPods``).
    """
    counts = [max_pods] + [
        free // asked
        for asked, free in (
            (request.gpus, room.gpus),
            (request.cpu_millicores, room.cpu_millicores),
            (request.memory_mib, room.memory_mib),
        )
        if asked > 0
    ]
    return max(0, min(counts))
