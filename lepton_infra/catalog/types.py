"""Catalog types and lookups shared by every cloud's table."""

from __future__ import annotations

import re
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


def family(
    accelerator: Accelerator, gpu_memory_gib: int, source: str, sizes: tuple[tuple[str, int, int, int], ...]
) -> tuple[InstanceOffering, ...]:
    """One instance family: rows of (type, GPUs, vCPUs, memory GiB) sharing a GPU model and a source."""
    return tuple(
        InstanceOffering(name, accelerator, gpus, gpu_memory_gib, vcpus, memory_gib, source)
        for name, gpus, vcpus, memory_gib in sizes
    )


# Region name → partition. Only regions outside the public partition need a rule.
_PARTITION_RULES: dict[Cloud, tuple[tuple[re.Pattern[str], str], ...]] = {
    Cloud.AWS: ((re.compile(r"^cn-"), "china"), (re.compile(r"^us-gov-"), "gov")),
    Cloud.AZURE: ((re.compile(r"^china"), "china"), (re.compile(r"^usgov|^usdod"), "gov")),
    Cloud.ALICLOUD: (),
}


def partition_of(cloud: Cloud, region: str) -> str:
    """The region family a region belongs to (``public``, ``china``, ``gov``)."""
    for pattern, partition in _PARTITION_RULES[cloud]:
        if pattern.search(region):
            return partition
    return "public"


def _table(cloud: Cloud) -> dict[Accelerator, tuple[InstanceOffering, ...]]:
    # Imported on use so that loading the catalog stays cheap and per-cloud tables stay apart.
    if cloud is Cloud.AWS:
        from lepton_infra.catalog.aws import AWS_OFFERINGS

        return AWS_OFFERINGS
    if cloud is Cloud.AZURE:
        from lepton_infra.catalog.azure import AZURE_OFFERINGS

        return AZURE_OFFERINGS
    from lepton_infra.catalog.alicloud import ALICLOUD_OFFERINGS

    return ALICLOUD_OFFERINGS


def offerings(
    cloud: Cloud, accelerator: Accelerator, region: str | None = None
) -> tuple[InstanceOffering, ...]:
    """Every type of ``cloud`` carrying ``accelerator``, optionally only those sold in ``region``'s family."""
    found = _table(cloud).get(accelerator, ())
    if region is None:
        return found
    partition = partition_of(cloud, region)
    return tuple(o for o in found if partition in o.partitions)


def default_offering(cloud: Cloud, accelerator: Accelerator, region: str) -> InstanceOffering | None:
    """The type a GPU pool gets when it names no instance type: the first listed for the region."""
    found = offerings(cloud, accelerator, region)
    return found[0] if found else None


def pool_offering(
    cloud: Cloud, region: str, accelerator: Accelerator, instance_type: str | None
) -> InstanceOffering:
    """The type a GPU pool runs: the one it names, else the catalog default for its accelerator and region.

    Raises LookupError when the catalog has neither (the spec's rules report that case to the user first).
    """
    found = (
        find_offering(cloud, instance_type)
        if instance_type is not None
        else default_offering(cloud, accelerator, region)
    )
    if found is None:
        wanted = instance_type or accelerator.value
        raise LookupError(f"no {cloud.value} instance type in the catalog for {wanted} in {region}")
    return found


def find_offering(cloud: Cloud, instance_type: str) -> InstanceOffering | None:
    for group in _table(cloud).values():
        for offering in group:
            if offering.instance_type == instance_type:
                return offering
    return None
