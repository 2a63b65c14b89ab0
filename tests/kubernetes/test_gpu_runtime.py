"""The GPU runtime: a pinned GPU Operator, configured for who brings the driver, or nothing at all."""

from __future__ import annotations

import copy

from manifest_helpers import Manifests
from plan_helpers import config_plan, stack_config, stack_plan

from lepton_infra.components.handle import GpuStack
from lepton_infra.components.kubernetes.gpu_runtime import GPU_OPERATOR_VERSION, operator_values


def test_operator_release_is_pinned_and_installs_the_driver_on_bare_nodes() -> None:
    [release] = stack_plan("existing-cluster").of_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == "gpu-operator"
    assert release.inputs["version"] == GPU_OPERATOR_VERSION
    assert release.inputs["repositoryOpts"] == {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    assert release.inputs["namespace"] == "gpu-operator"
    values = release.inputs["values"]
    assert values["driver"] == {"enabled": True}
    assert values["dcgmExporter"] == {"enabled": True, "serviceMonitor": {"enabled": True}}


def test_node_images_with_drivers_get_the_operator_without_driver_and_toolkit() -> None:
    values = operator_values(GpuStack.OPERATOR, prometheus_operator=False)
    assert values["driver"] == values["toolkit"] == {"enabled": False}
    assert values["devicePlugin"] == {"enabled": True}
    assert values["daemonsets"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_a_cluster_with_its_own_gpu_stack_gets_none_but_still_the_gpu_alerts() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["gpu_stack"] = "preinstalled"
    plan = config_plan(platform)
    assert plan.of_type("kubernetes:helm.sh/v3:Release") == []
    rules = Manifests(plan).one("PrometheusRule", "lepton-gpu-health")
    assert rules["metadata"]["namespace"] == "monitoring"
    alerts = {r["alert"]: r["expr"] for r in rules["spec"]["groups"][0]["rules"]}
    assert "DCGM_FI_DEV_XID_ERRORS" in alerts["GpuXidError"]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in alerts["GpuEccDoubleBitErrors"]
