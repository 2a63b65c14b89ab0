"""Lookups over the per-cloud tables: the types carrying an accelerator, where they sell, what a pool runs.

The tables know nothing of these functions; this module reads them (``types`` <- tables <- ``lookup``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lepton_infra.catalog.alicloud import ALICLOUD_OFFERINGS
from lepton_infra.catalog.aws import AWS_OFFERINGS
from lepton_infra.catalog.azure import AZURE_OFFERINGS
from lepton_infra.catalog.types import Accelerator, Cloud, InstanceOffering

_TABLES: Mapping[Cloud, Mapping[Accelerator, tuple[InstanceOffering, ...]]] = {
    Cloud.AWS: AWS_OFFERINGS,
    Cloud.AZURE: AZURE_OFFERINGS,
    Cloud.ALICLOUD: ALICLOUD_OFFERINGS,
}


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


def offerings(
    cloud: Cloud, accelerator: Accelerator, region: str | None = None
) -> tuple[InstanceOffering, ...]:
    """Every type of ``cloud`` carrying ``accelerator``, optionally only those sold in ``region``'s family."""
    found = _TABLES[cloud].get(accelerator, ())
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
    for group in _TABLES[cloud].values():
        for offering in group:
            if offering.instance_type == instance_type:
                return offering
    return None
