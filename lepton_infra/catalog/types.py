"""The catalog's vocabulary: accelerators, clouds, and one instance type's figures.

The bottom layer of the catalog: the per-cloud tables (``aws``, ``azure``, ``alicloud``) are written in
these types, and the lookups (``lookup``) and the fit check (``fit``) read them; this module imports none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Accelerator(StrEnum):
    """GPU models a pool or workload can ask for, by their market names."""

    H100 = "H100"
    A100_80GB = "A100-80GB"
    A100_40GB = "A100-40GB"
    L40S = "L40S"
    L4 = "L4"
    A10G = "A10G"
    A10 = "A10"
    T4 = "T4"


class Cloud(StrEnum):
    AWS = "aws"
    AZURE = "azure"
    ALICLOUD = "alicloud"


@dataclass(frozen=True)
class InstanceOffering:
    """One instance / VM type: how many GPUs of which kind, and the host's size."""

    instance_type: str
    accelerator: Accelerator
    gpus: int
    gpu_memory_gib: int
    vcpus: int
    memory_gib: int
    source: str
    # Region families (partitions) where the type is sold; the spec refuses others.
    partitions: frozenset[str] = frozenset({"public"})


@dataclass(frozen=True)
class Resources:
    """An amount of what pods ask for and nodes offer, in Kubernetes' units: a pod's request, a namespace's
    quota, what one node of a type can give its pods."""

    gpus: int
    """NVIDIA GPUs (``nvidia.com/gpu``)."""
    cpu_millicores: int
    """CPU in thousandths of a core (Kubernetes' ``m``): 1000 is one core."""
    memory_mib: int
    """Memory in MiB (Kubernetes' ``Mi``)."""

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.gpus + other.gpus,
            self.cpu_millicores + other.cpu_millicores,
            self.memory_mib + other.memory_mib,
        )

    def __sub__(self, other: Resources) -> Resources:
        """What is left of this amount after ``other`` (a node's allocatable after its DaemonSets)."""
        return Resources(
            self.gpus - other.gpus,
            self.cpu_millicores - other.cpu_millicores,
            self.memory_mib - other.memory_mib,
        )


def family(
    accelerator: Accelerator, gpu_memory_gib: int, source: str, sizes: tuple[tuple[str, int, int, int], ...]
) -> tuple[InstanceOffering, ...]:
    """One instance family: rows of (type, GPUs, vCPUs, memory GiB) sharing a GPU model and a source."""
    return tuple(
        InstanceOffering(name, accelerator, gpus, gpu_memory_gib, vcpus, memory_gib, source)
        for name, gpus, vcpus, memory_gib in sizes
    )
