"""Azure GPU sizes with InfiniBand: the ones whose nodes can share a fabric for multi-node training.

The "r" in an ND size's name marks RDMA; each series page lists the InfiniBand links per VM. Sizes of the
catalog that are absent have none (NCads H100 v5, NCads A100 v4, NVads A10 v5, NCasT4 v3), so NCCL on them
runs over TCP. AKS keeps a pool's nodes on one InfiniBand network only with the subscription feature
``Microsoft.ContainerService/AKSInfinibandSupport`` registered (Azure/aks-rdma-infiniband, "Register AKS
Infiniband Support Feature").
"""

from __future__ import annotations

from lepton_infra.catalog.azure import ND_A100_V4, ND_H100_V5, NDM_A100_V4

# VM size -> (InfiniBand links per VM, Gb/s each, series page).
INFINIBAND: dict[str, tuple[int, int, str]] = {
    # NDR InfiniBand, one ConnectX-7 link per GPU.
    "Standard_ND96isr_H100_v5": (8, 400, ND_H100_V5),
    # HDR InfiniBand, one link per GPU, on both A100 ND series.
    "Standard_ND96amsr_A100_v4": (8, 200, NDM_A100_V4),
    "Standard_ND96asr_v4": (8, 200, ND_A100_V4),
}


def has_infiniband(vm_size: str) -> bool:
    return vm_size in INFINIBAND
