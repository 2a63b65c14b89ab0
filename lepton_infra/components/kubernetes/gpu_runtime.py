"""The GPU runtime: NVIDIA's GPU Operator, which brings the device plugin, GPU feature discovery and the
DCGM exporter (GPU metrics), and, on bare nodes, the driver and container toolkit too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.components.handle import GPU_TOLERATION, ClusterHandle, GpuStack
from lepton_infra.components.kubernetes.alerts import gpu_health_rules
from lepton_infra.components.kubernetes.labels import namespace_labels
from lepton_infra.components.kubernetes.monitoring import prometheus_rule
from lepton_infra.components.kubernetes.tenancy import pod_security_labels

GPU_OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_CHART = "gpu-operator"
# Pinned: an upgrade restarts driver and plugin pods on every GPU node; it must be a deliberate change.
GPU_OPERATOR_VERSION = "v25.10.1"
GPU_OPERATOR_NAMESPACE = "gpu-operator"


@dataclass
class GpuRuntimeArgs:
    handle: ClusterHandle


class GpuRuntime(pulumi.ComponentResource):
    """A privileged namespace and the pinned GPU Operator release, configured for the site's node images.

    Installs nothing where the handle says a GPU stack is already there. The operator's daemonsets tolerate
    the GPU taint. Where the Prometheus Operator runs, the DCGM exporter gets a ServiceMonitor and the
    GPU health alerts (XID, ECC) a PrometheusRule in the monitoring namespace, whoever installed DCGM.
    """

    release: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: GpuRuntimeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:kubernetes:GpuRuntime", name, None, opts)
        addons = args.handle.addons
        self.release = None
        child = pulumi.ResourceOptions(parent=self, provider=args.handle.provider)
        if addons.prometheus_operator:
            prometheus_rule(
                f"{name}-alerts",
                namespace=addons.monitoring_namespace,
                name="lepton-gpu-health",
                rules=gpu_health_rules(),
                labels=namespace_labels("lepton-gpu-health"),
                opts=child,
            )
        if addons.gpu_stack is not GpuStack.PREINSTALLED:
            # Driver, toolkit and device plugin pods mount host paths and run privileged: NVIDIA documents
            # this namespace as "privileged"; nothing else runs in it.
            namespace = k8s.core.v1.Namespace(
                f"{name}-ns",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=GPU_OPERATOR_NAMESPACE,
                    labels=namespace_labels(GPU_OPERATOR_NAMESPACE) | pod_security_labels("privileged"),
                ),
                opts=child,
            )
            self.release = k8s.helm.v3.Release(
                f"{name}-operator",
                k8s.helm.v3.ReleaseArgs(
                    chart=GPU_OPERATOR_CHART,
                    version=GPU_OPERATOR_VERSION,
                    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=GPU_OPERATOR_REPO),
                    namespace=namespace.metadata.name,
                    name=GPU_OPERATOR_CHART,
                    values=operator_values(addons.gpu_stack, addons.prometheus_operator),
                    atomic=True,
                    timeout=900,
                ),
                opts=child,
            )
        self.register_outputs({"release": self.release.status if self.release else None})


def operator_values(stack: GpuStack, prometheus_operator: bool) -> dict[str, Any]:
    """Chart values: who installs driver and toolkit, GPU-taint tolerations, DCGM metrics."""
    installs_driver = stack is GpuStack.OPERATOR_WITH_DRIVER
    toleration = {
        "key": GPU_TOLERATION.key,
        "operator": "Exists",
        "effect": GPU_TOLERATION.effect,
    }
    return {
        "driver": {"enabled": installs_driver},
        "toolkit": {"enabled": installs_driver},
        "devicePlugin": {"enabled": True},
        "gfd": {"enabled": True},
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": prometheus_operator}},
        "daemonsets": {"tolerations": [toleration]},
        "node-feature-discovery": {"worker": {"tolerations": [toleration]}},
    }
