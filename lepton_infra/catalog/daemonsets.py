"""The DaemonSets that take room on a GPU node before a workload's pod does, per cloud, with sources.

A pod fits a node only in what the node's allocatable (``allocatable``) leaves after every DaemonSet pod
that lands there. Two kinds land on a GPU node of our sites:

- the cloud's own per-node agents, installed with the cluster and absent from any plan (``CLOUD_DAEMONS``);
- the per-node pods of the charts a site installs (``CHART_DAEMONS``, by chart name), with the tolerations
  the chart gives them by default, so the operability pack can tell whether they reach a tainted pool.

``GPU_NODE_CHARTS`` says which charts each cloud's sites install with pods on GPU nodes; a test keeps it
in step with the planned stacks (it may list more, never fewer). Where a figure is not published the
entry is an estimate, marked ``verified=False``, chosen on the high side: the fit check may then refuse
a pod that would just fit, rather than pass one that stays Pending. Measure with
``kubectl describe node`` after the first deploy and correct the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from lepton_infra.catalog.types import Cloud, Resources


@dataclass(frozen=True)
class NodeDaemon:
    """One DaemonSet's pod on a node: its requests, and where the figure comes from."""

    name: str
    requests: Resources
    source: str
    # False where no published figure exists and ``requests`` is an estimate.
    verified: bool = True
    # Path in the chart's values to the pod's tolerations, and the chart's own default there; None for a
    # cloud agent, which tolerates every taint (they run as system-node-critical on every node).
    tolerations_path: tuple[str, ...] | None = None
    default_tolerations: tuple[Mapping[str, Any], ...] = ()


GPU_TOLERATION: Mapping[str, Any] = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
_CONTROL_PLANE_TOLERATIONS: tuple[Mapping[str, Any], ...] = tuple(
    {"key": f"node-role.kubernetes.io/{role}", "operator": "Equal", "value": "", "effect": "NoSchedule"}
    for role in ("master", "control-plane")
)

# What AKS's and ACK's own per-node agents request together. Neither cloud publishes their requests: this
# is an estimate, meant to be on the high side, to be replaced by a measurement (`kubectl describe node`
# on a GPU node after the first deploy lists every pod's requests).
UNMEASURED_AGENTS = Resources(0, 500, 1024)


def _unmeasured(name: str, source: str) -> NodeDaemon:
    return NodeDaemon(name, UNMEASURED_AGENTS, source, verified=False)


CLOUD_DAEMONS: Mapping[Cloud, tuple[NodeDaemon, ...]] = {
    Cloud.AWS: (
        # The VPC CNI's pod: aws-node 25m (aws/eks-charts stable/aws-vpc-cni values.yaml) and, with network
        # policy on, the aws-eks-nodeagent container at 25m as well ("40x the default requests (25m)",
        # aws/amazon-vpc-cni-k8s#2542).
        NodeDaemon(
            "aws-node",
            Resources(0, 50, 0),
            "https://github.com/aws/eks-charts/blob/master/stable/aws-vpc-cni/values.yaml",
        ),
        # The upstream kube-proxy DaemonSet requests 100m CPU (kubernetes cluster/addons/kube-proxy); the EKS
        # add-on's own manifest was not read.
        NodeDaemon(
            "kube-proxy",
            Resources(0, 100, 0),
            "https://github.com/kubernetes/kubernetes/blob/master/cluster/addons/kube-proxy/kube-proxy-ds.yaml",
            verified=False,
        ),
    ),
    Cloud.AZURE: (
        # cilium (the sites' dataplane), azure-cns, cloud-node-manager, the Azure disk and file CSI nodes ...
        _unmeasured("AKS node agents", "https://learn.microsoft.com/azure/aks/node-resource-reservations"),
    ),
    Cloud.ALICLOUD: (
        # terway-eniip, kube-proxy, csi-plugin, node-problem-detector, ACK's managed GPU device plugin ...
        _unmeasured(
            "ACK node agents",
            "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/"
            "resource-reservation-policy",
        ),
    ),
}

GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_SOURCE = (
    "https://github.com/NVIDIA/gpu-operator/blob/v25.10.1/deployments/gpu-operator/values.yaml"
)
GPU_OPERATOR_OPERANDS = NodeDaemon(
    # Device plugin, GPU feature discovery, DCGM exporter, validator, MIG manager: `resources: {}` each.
    "gpu-operator operands",
    Resources(0, 0, 0),
    GPU_OPERATOR_SOURCE,
    tolerations_path=("daemonsets", "tolerations"),
    default_tolerations=(GPU_TOLERATION,),
)
NFD_WORKER = NodeDaemon(
    "node-feature-discovery worker",
    Resources(0, 5, 64),
    "https://github.com/NVIDIA/gpu-operator/blob/v25.10.1/deployments/gpu-operator/charts/"
    "node-feature-discovery/values.yaml",
    tolerations_path=("node-feature-discovery", "worker", "tolerations"),
    default_tolerations=(*_CONTROL_PLANE_TOLERATIONS, GPU_TOLERATION),
)
EFA_DEVICE_PLUGIN_CHART = "aws-efa-k8s-device-plugin"
EFA_DEVICE_PLUGIN = NodeDaemon(
    "aws-efa-k8s-device-plugin",
    Resources(0, 10, 20),
    "https://github.com/aws/eks-charts/blob/master/stable/aws-efa-k8s-device-plugin/values.yaml",
    tolerations_path=("tolerations",),
    default_tolerations=({"key": "CriticalAddonsOnly", "operator": "Exists"},),
)
CHART_DAEMONS: Mapping[str, tuple[NodeDaemon, ...]] = {
    GPU_OPERATOR_CHART: (GPU_OPERATOR_OPERANDS, NFD_WORKER),
    EFA_DEVICE_PLUGIN_CHART: (EFA_DEVICE_PLUGIN,),
}
# The GPU runtime's DaemonSets whose tolerations decide whether a GPU node ever advertises nvidia.com/gpu:
# the operands (device plugin among them) and the feature discovery that labels the node for them
# (NVIDIA/gpu-operator#577: operands never start on tainted spot nodes without the toleration).
GPU_RUNTIME_DAEMONS: tuple[NodeDaemon, ...] = (GPU_OPERATOR_OPERANDS, NFD_WORKER)

# The charts each cloud's sites install with pods on GPU nodes: the GPU Operator where the node image brings
# the driver (EKS and AKS; ACK runs its own GPU stack), and on AWS the EFA device plugin, counted on every
# GPU node although its affinity keeps it to EFA-capable types (10m: not worth the distinction).
GPU_NODE_CHARTS: Mapping[Cloud, tuple[str, ...]] = {
    Cloud.AWS: (GPU_OPERATOR_CHART, EFA_DEVICE_PLUGIN_CHART),
    Cloud.AZURE: (GPU_OPERATOR_CHART,),
    Cloud.ALICLOUD: (),
}


def chart_name(chart: str) -> str:
    """The chart's own name from what a Helm release gives (``oci://.../karpenter`` -> ``karpenter``)."""
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]


def gpu_node_daemons(cloud: Cloud) -> tuple[NodeDaemon, ...]:
    """Every DaemonSet pod on a GPU node of a ``cloud`` site: the cloud's agents, then the sites' charts'."""
    charts = tuple(d for chart in GPU_NODE_CHARTS[cloud] for d in CHART_DAEMONS[chart])
    return (*CLOUD_DAEMONS[cloud], *charts)


def daemonset_requests(daemons: tuple[NodeDaemon, ...]) -> Resources:
    """What ``daemons`` request together on one node."""
    return reduce(Resources.__add__, (d.requests for d in daemons), Resources(0, 0, 0))
