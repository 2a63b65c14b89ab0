"""Accelerators and the real instance / VM types that carry them, per cloud.

One table per cloud (``aws``, ``azure``, ``alicloud`` modules); each entry records where its
figures come from. Nothing here imports a cloud SDK: the spec validates against these tables
and tests check every type against the SDKs' own enums or the providers' documentation.

Layers, each importing only those before it: ``types`` (accelerators, clouds, one offering's figures),
the tables, ``lookup`` (offerings by cloud, accelerator and region), ``fit`` (does a pod fit a node).
"""

from __future__ import annotations

from lepton_infra.catalog.fit import Shortfall, fits, roomiest
from lepton_infra.catalog.lookup import (
    default_offering,
    find_offering,
    offerings,
    partition_of,
    pool_offering,
)
from lepton_infra.catalog.types import Accelerator, Cloud, InstanceOffering, Resources

__all__ = [
    "Accelerator",
    "Cloud",
    "InstanceOffering",
    "Resources",
    "Shortfall",
    "default_offering",
    "find_offering",
    "fits",
    "offerings",
    "partition_of",
    "pool_offering",
    "roomiest",
]
