"""Azure GPU VM sizes. Figures from Microsoft's VM-size pages (learn.microsoft.com), one page per series.

``pulumi_azure_native.compute.VirtualMachineSizeTypes`` is an old list without the A100 and H100 sizes,
so the pages are the authority here. GPU memory is per GPU; host memory is the page's "Memory" column.
The first entry per accelerator is the default for a pool that names no VM size. Only sizes with whole
GPUs are listed: a fractional NVadsA10 v5 slice cannot be requested as ``nvidia.com/gpu``.
Sizes are listed for the public cloud only: their sale in Azure China and Azure Government was not
checked against a Microsoft page.
"""

from __future__ import annotations

from lepton_infra.catalog.types import Accelerator, InstanceOffering, family

_SIZES = "https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/gpu-accelerated/"
ND_H100_V5 = _SIZES + "ndh100v5-series"
NC_H100_V5 = _SIZES + "ncadsh100v5-series"
NC_A100_V4 = _SIZES + "nca100v4-series"
NDM_A100_V4 = _SIZES + "ndma100v4-series"
ND_A100_V4 = _SIZES + "ndasra100v4-series"
NV_A10_V5 = _SIZES + "nvadsa10v5-series"
NC_T4_V3 = _SIZES + "ncast4v3-series"


# (VM size, GPUs, vCPUs, memory GiB)
AZURE_OFFERINGS: dict[Accelerator, tuple[InstanceOffering, ...]] = {
    Accelerator.H100: (
        *family(Accelerator.H100, 80, ND_H100_V5, (("Standard_ND96isr_H100_v5", 8, 96, 1900),)),
        # NCads H100 v5 carries the H100 NVL (94 GB); same accelerator to a scheduler, more memory.
        *family(
            Accelerator.H100,
            94,
            NC_H100_V5,
            (("Standard_NC40ads_H100_v5", 1, 40, 320), ("Standard_NC80adis_H100_v5", 2, 80, 640)),
        ),
    ),
    Accelerator.A100_80GB: (
        *family(
            Accelerator.A100_80GB,
            80,
            NC_A100_V4,
            (
                ("Standard_NC24ads_A100_v4", 1, 24, 220),
                ("Standard_NC48ads_A100_v4", 2, 48, 440),
                ("Standard_NC96ads_A100_v4", 4, 96, 880),
            ),
        ),
        *family(Accelerator.A100_80GB, 80, NDM_A100_V4, (("Standard_ND96amsr_A100_v4", 8, 96, 1900),)),
    ),
    # The series page's table spells this size "Standard_ND96asr_A100_v4"; the name the compute API takes
    # (and the page's predecessor, .../virtual-machines/nda100-v4-series, lists) is Standard_ND96asr_v4.
    Accelerator.A100_40GB: family(
        Accelerator.A100_40GB, 40, ND_A100_V4, (("Standard_ND96asr_v4", 8, 96, 900),)
    ),
    # NV-series GPUs run NVIDIA's GRID (vGPU) driver, not the datacenter one: whether AKS's GPU node image
    # installs it was not confirmed on a Microsoft page, so T4 is the safer default for inference.
    Accelerator.A10: family(
        Accelerator.A10,
        24,
        NV_A10_V5,
        (
            ("Standard_NV36ads_A10_v5", 1, 36, 440),
            ("Standard_NV36adms_A10_v5", 1, 36, 880),
            ("Standard_NV72ads_A10_v5", 2, 72, 880),
        ),
    ),
    Accelerator.T4: family(
        Accelerator.T4,
        16,
        NC_T4_V3,
        (
            ("Standard_NC4as_T4_v3", 1, 4, 28),
            ("Standard_NC8as_T4_v3", 1, 8, 56),
            ("Standard_NC16as_T4_v3", 1, 16, 110),
            ("Standard_NC64as_T4_v3", 4, 64, 440),
        ),
    ),
}
