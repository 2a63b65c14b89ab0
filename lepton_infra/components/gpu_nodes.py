"""How GPU nodes are marked, the same on every cloud, so workloads can find them without knowing the cloud."""

from __future__ import annotations

ACCELERATOR_LABEL = "lepton.ai/accelerator"
POOL_LABEL = "lepton.ai/pool"
SYSTEM_POOL_NAME = "system"

# The taint NVIDIA's device plugin and GPU operator document: only pods that tolerate it land on GPU nodes.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "present"
GPU_TAINT_EFFECT = "NoSchedule"
GPU_RESOURCE = "nvidia.com/gpu"


def gpu_node_labels(pool_name: str, accelerator: str) -> dict[str, str]:
    return {ACCELERATOR_LABEL: accelerator, POOL_LABEL: pool_name}
