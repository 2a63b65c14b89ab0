"""The GPU runtime: NVIDIA's GPU Operator, which brings the device plugin, GPU feature discovery and the
DCGM exporter (GPU metrics), and, on bare nodes, the driver and container toolkit too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.catalog.gpu_operator_chart import GPU_OPERATOR_CHART_VERSION
from lepton_infra.components.args import refuse_args
from lepton_infra.components.handle import (
    GPU_TOLERATION,
    ClusterAddons,
    ClusterHandle,
    GpuStack,
    NodePlacement,
)
from lepton_infra.components.kubernetes.alerts import gpu_health_rules
from lepton_infra.components.kubernetes.labels import namespace_labels
from lepton_infra.components.kubernetes.monitoring import prometheus_rule
from lepton_infra.components.kubernetes.tenancy import pod_security_labels

GPU_OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_CHART = "gpu-operator"
# Pinned: an upgrade restarts driver and plugin pods on every GPU node; it must be a deliberate change, with
# the new tag's values.yaml packaged (catalog/charts/gpu-operator): sites' values keys are checked on it.
GPU_OPERATOR_VERSION = GPU_OPERATOR_CHART_VERSION
GPU_OPERATOR_NAMESPACE = "gpu-operator"


@dataclass
class GpuRuntimeArgs:
    """The inputs of a GpuRuntime."""

    handle: ClusterHandle
    """The site's cluster: its Kubernetes provider, its GPU pools (whose taints the operator's daemonsets
    tolerate) and its add-ons (who provides the GPU stack, the operator's values, the Prometheus Operator)."""

    def __post_init__(self) -> None:
        refuse_args(self)


class GpuRuntime(pulumi.ComponentResource):
    """A privileged namespace and the pinned GPU Operator release, configured for the site's node images.

    Installs nothing where the handle says a GPU stack is already there. The operator's daemonsets (device
    plugin, DCGM exporter, feature discovery) tolerate every taint of every GPU pool of the site, or a pool's
    nodes would never advertise ``nvidia.com/gpu``. Where the Prometheus Operator runs, the DCGM exporter
    gets a ServiceMonitor and the GPU health alerts (XID, ECC) a PrometheusRule in the monitoring namespace,
    whoever installed DCGM.
    """

    release: k8s.helm.v3.Release | None
    """The GPU Operator's Helm release; None where the cluster already has a GPU stack (``preinstalled``)."""

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
                    values=operator_values(addons, args.handle.gpu_pools),
                    atomic=True,
                    timeout=900,
                ),
                opts=child,
            )
        self.register_outputs({"release": self.release.status if self.release else None})


# The chart's own tolerations for node-feature-discovery's worker (values.yaml of v25.10.1): a list given in
# values replaces the chart's list, so they are repeated here.
_NFD_WORKER_DEFAULT_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node-role.kubernetes.io/master", "operator": "Equal", "value": "", "effect": "NoSchedule"},
    {
        "key": "node-role.kubernetes.io/control-plane",
        "operator": "Equal",
        "value": "",
        "effect": "NoSchedule",
    },
)


def operator_values(addons: ClusterAddons, pools: Iterable[NodePlacement]) -> dict[str, Any]:
    """Chart values: who installs driver and toolkit, the GPU pools' tolerations, DCGM metrics, then the
    site's own values over them."""
    installs_driver = addons.gpu_stack is GpuStack.OPERATOR_WITH_DRIVER
    tolerations = gpu_pool_tolerations(pools)
    values = {
        "driver": {"enabled": installs_driver},
        "toolkit": {"enabled": installs_driver},
        "devicePlugin": {"enabled": True},
        "gfd": {"enabled": True},
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": addons.prometheus_operator}},
        # Lists replace the chart's lists (NVIDIA/gpu-operator#577: spot nodes on AKS never got the device
        # plugin until the spot taint was added here), so each carries everything it must tolerate.
        "daemonsets": {"tolerations": tolerations},
        "node-feature-discovery": {
            "worker": {"tolerations": [*_NFD_WORKER_DEFAULT_TOLERATIONS, *tolerations]}
        },
    }
    return merged(values, addons.gpu_operator_values)


def gpu_pool_tolerations(pools: Iterable[NodePlacement]) -> list[dict[str, str]]:
    """The GPU taint (the chart's default) and every taint any GPU pool carries, once each."""
    gpu_taint = {"key": GPU_TOLERATION.key, "operator": "Exists", "effect": GPU_TOLERATION.effect}
    found = [gpu_taint]
    for pool in pools:
        for toleration in pool.tolerations:
            as_value = toleration.to_values()
            if as_value not in found and not _covered(as_value, gpu_taint):
                found.append(as_value)
    return found


def _covered(toleration: Mapping[str, str], by: Mapping[str, str]) -> bool:
    # An Exists toleration of a key and effect covers every value of that key with that effect.
    return by["operator"] == "Exists" and (by["key"], by["effect"]) == (
        toleration["key"],
        toleration["effect"],
    )


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, nested mappings merged key by key (as Helm merges values files)."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result
