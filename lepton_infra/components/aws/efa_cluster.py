"""EFA in the cluster: the device plugin that advertises ``vpc.amazonaws.com/efa`` on EFA nodes, and what a
pod that takes a whole EFA node asks for and sets (``NodePlacement.fabric``).

Sources:
- Device plugin: aws/eks-charts ``stable/aws-efa-k8s-device-plugin`` v0.5.30 (values vendored under
  ``tests/schemas/aws-efa-k8s-device-plugin``). Its daemonset tolerates only ``CriticalAddonsOnly`` unless
  given more, so on our tainted GPU nodes it would never run and no pod could get an EFA device.
- Environment: aws-samples/awsome-distributed-training ``1.architectures/efa-cheatsheet.md``. The image must
  bring libfabric (the EFA installer) and aws-ofi-nccl; the AL2023 NVIDIA AMI has the host side only.
"""

from __future__ import annotations

from collections.abc import Mapping

from lepton_infra.components.gpu_nodes import GPU_TAINT_EFFECT, GPU_TAINT_KEY
from lepton_infra.components.handle import Fabric
from lepton_infra.components.services import ClusterService, HelmChart

EFA_RESOURCE = "vpc.amazonaws.com/efa"
EFA_PLUGIN_CHART = "aws-efa-k8s-device-plugin"
EFA_PLUGIN_REPOSITORY = "https://aws.github.io/eks-charts"
# Pinned; the chart's own version string carries the "v" (appVersion v0.5.20).
EFA_PLUGIN_VERSION = "v0.5.30"

# libfabric >= 1.18 with aws-ofi-nccl >= 1.7 needs nothing more (efa-cheatsheet.md). FI_PROVIDER keeps
# libfabric on EFA; huge pages off, since a pod gets none unless it requests them, which is also the cheat
# sheet's advice where PyTorch data-loader workers fork ("Cannot allocate memory").
EFA_ENV: Mapping[str, str] = {"FI_PROVIDER": "efa", "FI_EFA_USE_HUGE_PAGE": "0"}


def efa_fabric(efa_devices: int) -> Fabric:
    """What a pod that takes a whole node with ``efa_devices`` EFA devices asks for and sets."""
    return Fabric(name="efa", resources={EFA_RESOURCE: efa_devices}, env=dict(EFA_ENV))


def efa_device_plugin() -> ClusterService:
    """The EFA device plugin in kube-system, tolerating the GPU taint so it runs on GPU nodes."""
    return ClusterService(
        name=EFA_PLUGIN_CHART,
        namespace="kube-system",
        create_namespace=False,
        pod_security="privileged",
        chart=HelmChart(
            chart=EFA_PLUGIN_CHART,
            version=EFA_PLUGIN_VERSION,
            repository=EFA_PLUGIN_REPOSITORY,
            values={
                "tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT}]
            },
        ),
    )
