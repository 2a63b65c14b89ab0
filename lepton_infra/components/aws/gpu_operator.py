"""NVIDIA GPU Operator values for EKS-optimized Amazon Linux 2023 NVIDIA AMIs (every GPU node of an AWS site).

The AMI brings the driver and the NVIDIA Container Toolkit, and configures containerd with one runtime,
``nvidia``, as its default (awslabs/amazon-eks-ami nodeadm ``containerd/runtime_config_nvidia.go``); it has no
device plugin (EKS user guide, "Manage NVIDIA GPUs"). So the operator installs neither driver nor toolkit
("GPU Operator does not support driver containers for Amazon Linux ... install the drivers on the node",
NVIDIA/gpu-operator#686) and runs the device plugin, GPU feature discovery and DCGM exporter.

CDI is pinned off: chart v25.10 turned ``cdi.enabled`` on by default (NVIDIA/gpu-operator commit 67d2e125,
"Set cdi.enabled to true by default"), which points the device plugin at the operator's own
``nvidia-cdi-hook`` only when the operator installs the toolkit (``controllers/object_controls.go``) and adds
``nvidia-cdi`` / ``nvidia-legacy`` runtime classes whose handlers the AMI's containerd does not define. Off,
GPUs reach pods the way EKS's own device-plugin instructions rely on: the AMI's ``nvidia`` runtime.
Device plugin v0.18.1 (operator v25.10.1) does not turn on MOFED, which v0.19.0-0.19.2 did and which breaks
the EFA device plugin (EKS user guide); keep that in mind when bumping the operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AL2023_NVIDIA_OPERATOR_VALUES: Mapping[str, Any] = {
    "driver": {"enabled": False},
    "toolkit": {"enabled": False},
    "cdi": {"enabled": False},
}
