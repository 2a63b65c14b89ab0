"""The Azure catalog against Microsoft's VM-size pages: every size documented, GPUs and memory as listed."""

from __future__ import annotations

import pytest

from lepton_infra.catalog import (
    Accelerator,
    Cloud,
    InstanceOffering,
    default_offering,
    find_offering,
    offerings,
)
from lepton_infra.catalog.azure import AZURE_OFFERINGS

PAGES = "https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/gpu-accelerated/"

# Transcribed from each series page's "Basics" and "Accelerators" tabs:
# size → (page, GPUs, accelerator memory per VM in GB, vCPUs, memory GB).
DOCUMENTED = {
    "Standard_ND96isr_H100_v5": ("ndh100v5-series", 8, 640, 96, 1900),
    "Standard_NC40ads_H100_v5": ("ncadsh100v5-series", 1, 94, 40, 320),
    "Standard_NC80adis_H100_v5": ("ncadsh100v5-series", 2, 188, 80, 640),
    "Standard_NC24ads_A100_v4": ("nca100v4-series", 1, 80, 24, 220),
    "Standard_NC48ads_A100_v4": ("nca100v4-series", 2, 160, 48, 440),
    "Standard_NC96ads_A100_v4": ("nca100v4-series", 4, 320, 96, 880),
    # The page lists "80" for the whole VM, which contradicts its own summary (8 x A100 80GB): per GPU.
    "Standard_ND96amsr_A100_v4": ("ndma100v4-series", 8, 640, 96, 1900),
    "Standard_ND96asr_v4": ("ndasra100v4-series", 8, 320, 96, 900),
    "Standard_NV36ads_A10_v5": ("nvadsa10v5-series", 1, 24, 36, 440),
    "Standard_NV36adms_A10_v5": ("nvadsa10v5-series", 1, 24, 36, 880),
    "Standard_NV72ads_A10_v5": ("nvadsa10v5-series", 2, 48, 72, 880),
    "Standard_NC4as_T4_v3": ("ncast4v3-series", 1, 16, 4, 28),
    "Standard_NC8as_T4_v3": ("ncast4v3-series", 1, 16, 8, 56),
    "Standard_NC16as_T4_v3": ("ncast4v3-series", 1, 16, 16, 110),
    "Standard_NC64as_T4_v3": ("ncast4v3-series", 4, 64, 64, 440),
}
AZURE_SIZES = [o for group in AZURE_OFFERINGS.values() for o in group]


def test_every_size_in_the_catalog_is_documented_and_every_documented_size_is_there() -> None:
    assert sorted(o.instance_type for o in AZURE_SIZES) == sorted(DOCUMENTED)


@pytest.mark.parametrize("offering", AZURE_SIZES, ids=lambda o: o.instance_type)
def test_each_size_matches_its_series_page(offering: InstanceOffering) -> None:
    page, gpus, accelerator_memory_gb, vcpus, memory = DOCUMENTED[offering.instance_type]
    assert offering.source == PAGES + page
    assert offering.source.startswith("https://learn.microsoft.com/")
    assert offering.gpus == gpus
    assert offering.gpus * offering.gpu_memory_gib == accelerator_memory_gb
    assert (offering.vcpus, offering.memory_gib) == (vcpus, memory)


def test_azure_offers_its_accelerators_under_their_azure_names() -> None:
    offered = {a for a in Accelerator if offerings(Cloud.AZURE, a)}
    assert offered == {
        Accelerator.H100,
        Accelerator.A100_80GB,
        Accelerator.A100_40GB,
        Accelerator.A10,
        Accelerator.T4,
    }


def test_defaults_are_the_sizes_a_pool_usually_wants() -> None:
    assert default_offering(Cloud.AZURE, Accelerator.H100, "eastus2") == find_offering(
        Cloud.AZURE, "Standard_ND96isr_H100_v5"
    )
    assert default_offering(Cloud.AZURE, Accelerator.T4, "westeurope") == find_offering(
        Cloud.AZURE, "Standard_NC4as_T4_v3"
    )


def test_sovereign_clouds_get_no_size_we_cannot_vouch_for() -> None:
    assert default_offering(Cloud.AZURE, Accelerator.T4, "chinanorth3") is None
    assert default_offering(Cloud.AZURE, Accelerator.T4, "usgovvirginia") is None
