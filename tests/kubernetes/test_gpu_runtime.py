"""The GPU runtime: a pinned GPU Operator, configured for who brings the driver, or nothing at all."""

from __future__ import annotations

import copy

from manifest_helpers import Manifests
from plan_helpers import config_plan, only, stack_config, stack_plan, whole_plan

from lepton_infra.components.handle import ClusterAddons, GpuStack, NodePlacement, Toleration
from lepton_infra.components.kubernetes.gpu_runtime import GPU_OPERATOR_VERSION, operator_values

RELEASE = "kubernetes:helm.sh/v3:Release"
GPU_TAINT = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def test_operator_release_is_pinned_and_installs_the_driver_on_bare_nodes() -> None:
    release = only(stack_plan("existing-cluster"), RELEASE, "gpu-runtime")
    assert release.inputs["chart"] == "gpu-operator"
    assert release.inputs["version"] == GPU_OPERATOR_VERSION
    assert release.inputs["repositoryOpts"] == {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    assert release.inputs["namespace"] == "gpu-operator"
    values = release.inputs["values"]
    assert values["driver"]["enabled"] is True
    assert values["toolkit"]["enabled"] is True
    assert values["dcgmExporter"] == {"enabled": True, "serviceMonitor": {"enabled": True}}


def test_node_images_with_drivers_get_the_operator_without_driver_and_toolkit() -> None:
    values = operator_values(ClusterAddons(gpu_stack=GpuStack.OPERATOR), [])
    assert values["driver"] == values["toolkit"] == {"enabled": False}
    assert values["devicePlugin"] == {"enabled": True}
    assert values["daemonsets"]["tolerations"] == [GPU_TAINT]


def test_the_runtime_tolerates_every_taint_of_every_gpu_pool_so_each_pool_advertises_gpus() -> None:
    """AKS taints every spot node `kubernetes.azure.com/scalesetpriority=spot:NoSchedule`; a device plugin
    that does not tolerate it never runs there, and the node never advertises nvidia.com/gpu
    (NVIDIA/gpu-operator#577). Feature discovery's worker needs the same, or GPU labels never appear."""
    spot = Toleration("kubernetes.azure.com/scalesetpriority", "Equal", "NoSchedule", "spot")
    dedicated = Toleration("dedicated", "Exists", "NoExecute")
    pools = [
        NodePlacement.for_gpu_pool("t4", "T4", 1, spot),
        NodePlacement.for_gpu_pool("h100", "H100", 8, dedicated),
        NodePlacement.for_gpu_pool("t4b", "T4", 1, spot),
    ]
    values = operator_values(ClusterAddons(), pools)
    expected = [GPU_TAINT, spot.to_values(), dedicated.to_values()]
    assert values["daemonsets"]["tolerations"] == expected
    nfd = values["node-feature-discovery"]["worker"]["tolerations"]
    assert nfd[-3:] == expected
    # A list in values replaces the chart's list: its control-plane tolerations must be carried over.
    assert {t["key"] for t in nfd[:-3]} == {
        "node-role.kubernetes.io/master",
        "node-role.kubernetes.io/control-plane",
    }


def test_a_site_s_own_operator_values_merge_over_the_common_ones() -> None:
    addons = ClusterAddons(gpu_operator_values={"cdi": {"enabled": False}, "toolkit": {"env": []}})
    values = operator_values(addons, [])
    assert values["cdi"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False, "env": []}
    assert values["daemonsets"]["tolerations"] == [GPU_TAINT]


def test_aks_spot_pools_are_tolerated_by_the_gpu_runtime() -> None:
    release = only(whole_plan("azure-prod"), RELEASE, "gpu-runtime")
    keys = {t["key"] for t in release.inputs["values"]["daemonsets"]["tolerations"]}
    assert "kubernetes.azure.com/scalesetpriority" in keys


def test_a_cluster_with_its_own_gpu_stack_gets_none_but_still_the_gpu_alerts() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["gpu_stack"] = "preinstalled"
    del platform["sites"][0]["gpu_operator"]  # refused with a stack the platform does not install
    plan = config_plan(platform)
    assert [r for r in plan.of_type(RELEASE) if "gpu-runtime" in r.name] == []
    rules = Manifests(plan).one("PrometheusRule", "lepton-gpu-health")
    assert rules["metadata"]["namespace"] == "monitoring"
    alerts = {r["alert"]: r["expr"] for r in rules["spec"]["groups"][0]["rules"]}
    assert "DCGM_FI_DEV_XID_ERRORS" in alerts["GpuXidError"]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in alerts["GpuEccDoubleBitErrors"]
