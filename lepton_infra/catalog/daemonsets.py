"""DaemonSets that take room on every node before a workload's pod does, and the tolerations they carry.

A pod fits a node only in what the node's allocatable leaves after the DaemonSets that land there
(``allocatable`` has the node side). Three sources of DaemonSets, each counted only where its figure is
documented:

- the cloud's own per-node agents, installed with the cluster and absent from any plan;
- the per-node pods of charts a plan installs as Helm releases (the GPU Operator, the EFA device plugin);
- DaemonSet objects in the plan itself, whose requests the operability pack reads directly.

Agents with no published requests (AKS's and ACK's system DaemonSets, kube-proxy on EKS) are left out
rather than guessed: the fit check may then pass a pod that is a few dozen millicores too big, never fail
one that fits. Measure with ``kubectl describe node`` after the first deploy and add them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lepton_infra.catalog.types import Cloud, Resources


@dataclass(frozen=True)
class NodeDaemon:
    """One DaemonSet's pod on a node: its requests, and where the figure comes from."""

    name: str
    requests: Resources
    source: str
    # Path in the chart's values to the pod's tolerations, and the chart's own default there; None for
    # a cloud agent, which tolerates every taint (they run as system-node-critical on every node).
    tolerations_path: tuple[str, ...] | None = None
    default_tolerations: tuple[Mapping[str, Any], ...] = ()


GPU_TOLERATION: Mapping[str, Any] = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
_CONTROL_PLANE_TOLERATIONS: tuple[Mapping[str, Any], ...] = (
    {"key": "node-role.kubernetes.io/master", "operator": "Equal", "value": "", "effect": "NoSchedule"},
    {
        "key": "node-role.kubernetes.io/control-plane",
        "operator": "Equal",
        "value": "",
        "effect": "NoSchedule",
    },
)

CLOUD_DAEMONS: dict[Cloud, tuple[NodeDaemon, ...]] = {
    Cloud.AWS: (
        # aws-node runs the VPC CNI and its network-policy agent, 25m each
        # (aws/eks-charts stable/aws-vpc-cni values.yaml resources.requests.cpu: 25m; measured on EKS in
        # 2i2c-org/infrastructure#3902: "aws-node now runs two containers ... each require 25m CPU").
        NodeDaemon(
            "aws-node",
            Resources(0, 50, 0),
            "https://github.com/2i2c-org/infrastructure/issues/3902",
        ),
    ),
    Cloud.AZURE: (),
    Cloud.ALICLOUD: (),
}

# Chart name (as a Helm release names it) -> the per-node pods it runs.
GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_SOURCE = (
    "https://github.com/NVIDIA/gpu-operator/blob/v25.10.1/deployments/gpu-operator/values.yaml"
)
GPU_OPERATOR_OPERANDS = NodeDaemon(
    # device plugin, GPU feature discovery, DCGM exporter, validator, MIG manager: `resources: {}` each.
    "gpu-operator operands",
    Resources(0, 0, 0),
    GPU_OPERATOR_SOURCE,
    tolerations_path=("daemonsets", "tolerations"),
    default_tolerations=(GPU_TOLERATION,),
)
NFD_WORKER = NodeDaemon(
    "node-feature-discovery worker",
    Resources(0, 5, 64),
    "https://github.com/NVIDIA/gpu-operator/blob/v25.10.1/deployments/gpu-operator/charts/node-feature-discovery/values.yaml",
    tolerations_path=("node-feature-discovery", "worker", "tolerations"),
    default_tolerations=(*_CONTROL_PLANE_TOLERATIONS, GPU_TOLERATION),
)
EFA_DEVICE_PLUGIN = NodeDaemon(
    "aws-efa-k8s-device-plugin",
    Resources(0, 10, 20),
    "https://github.com/aws/eks-charts/blob/master/stable/aws-efa-k8s-device-plugin/values.yaml",
    tolerations_path=("tolerations",),
    default_tolerations=({"key": "CriticalAddonsOnly", "operator": "Exists"},),
)
CHART_DAEMONS: dict[str, tuple[NodeDaemon, ...]] = {
    GPU_OPERATOR_CHART: (GPU_OPERATOR_OPERANDS, NFD_WORKER),
    "aws-efa-k8s-device-plugin": (EFA_DEVICE_PLUGIN,),
}
# The GPU runtime's DaemonSets whose tolerations decide whether a GPU node ever advertises nvidia.com/gpu:
# the operands (device plugin among them) and the feature discovery that labels the node for them
# (NVIDIA/gpu-operator#577: operands never start on tainted spot nodes without the toleration).
GPU_RUNTIME_DAEMONS: tuple[NodeDaemon, ...] = (GPU_OPERATOR_OPERANDS, NFD_WORKER)


def chart_name(chart: str) -> str:
    """The chart's own name from what a Helm release gives (``oci://.../karpenter`` -> ``karpenter``)."""
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]
