"""How the GPU Operator runs on AKS GPU nodes: beside the driver and container toolkit AKS installs.

Two documented paths exist, and the vendors disagree on which:

- NVIDIA's AKS page, "GPU Operator with Preinstalled Driver and Container Toolkit": "The images that are
  available in AKS always include a preinstalled NVIDIA GPU driver and a preinstalled NVIDIA Container
  Toolkit", so the operator is installed with ``driver.enabled=false``, ``toolkit.enabled=false`` and
  ``operator.runtimeClass=nvidia-container-runtime``
  (https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/microsoft-aks.html; the maintainer's
  answer in NVIDIA/gpu-operator#525; NVIDIA/aicr#1680: "always all three together").
- Microsoft's page skips the AKS driver (``gpuProfile.driver: None``) and lets the operator install driver
  and toolkit (https://learn.microsoft.com/azure/aks/nvidia-gpu-operator); its reason is that the
  operator's toolkit overwrites the AKS containerd configuration, which ``toolkit.enabled=false`` avoids.

This site takes NVIDIA's path: the driver stays the one AKS supports and updates with the node image (its
own table marks operator-managed drivers "No AKS support"); a node scaled from zero is ready without a
driver build; NV-series (A10) sizes keep the GRID driver AKS installs for them, which the operator's
datacenter driver cannot replace. Without ``operator.runtimeClass`` the operator's pods ask for the
RuntimeClass ``nvidia``, a containerd handler only the operator's own toolkit configures: they never
start, the device plugin with them, and no node ever advertises ``nvidia.com/gpu`` (#525).

CDI is pinned off: the chart turns it on by default since v25.10, through the operator's toolkit, which is
off here; AKS hosts run their own toolkit in its own mode, and ``nvidia-ctk cdi generate`` fails on some AKS
A100 hosts (kaito-project/kaito#2326), so a chart upgrade must not turn it on unnoticed.
"""

from __future__ import annotations

from typing import Any

# Keys as in the chart's values.yaml at the pinned version (gpu_runtime.GPU_OPERATOR_VERSION).
AKS_GPU_OPERATOR_VALUES: dict[str, Any] = {
    "operator": {"runtimeClass": "nvidia-container-runtime"},
    "driver": {"enabled": False},
    "toolkit": {"enabled": False},
    "cdi": {"enabled": False},
}
