"""The GPU runtime from a program in any language runs NVIDIA's GPU Operator as lepton-infra's own site of the
cluster's cloud runs it on the same node images: a site states its node images' operator values in its
handle; a cluster given as facts takes them from its cloud, or from the program's gpuOperatorValues."""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import only, whole_plan
from provider_harness import FakeEngine, secret

RELEASE = "kubernetes:helm.sh/v3:Release"
# Values that follow the GPU pools (their taints), not the node images.
POOL_VALUES = {"daemonsets", "node-feature-discovery"}


def operator_values(engine: FakeEngine, name: str, cluster: dict[str, Any]) -> dict[str, Any]:
    """The GPU Operator's chart values a GpuRuntime constructed over gRPC for ``cluster`` installs."""
    built = engine.construct(
        "lepton-infra:index:GpuRuntime",
        name,
        {"kubeconfig": secret("apiVersion: v1\nkind: Config\n"), "cluster": {"name": name, **cluster}},
    )
    (release,) = [r for r in built.resources if r.type == RELEASE]
    values: dict[str, Any] = release.inputs["values"]
    return values


def for_node_images(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in POOL_VALUES}


@pytest.mark.parametrize(("cloud", "stack"), [("aws", "aws-prod"), ("azure", "azure-prod")])
def test_the_gpu_runtime_runs_the_operator_as_the_platforms_own_site_of_that_cloud_does(
    engine: FakeEngine, cloud: str, stack: str
) -> None:
    """On AKS, without operator.runtimeClass the operator's pods ask for a RuntimeClass no AKS node defines
    and no node ever advertises a GPU (NVIDIA/gpu-operator#525); on EKS AL2023 NVIDIA AMIs, CDI (on by
    default since chart v25.10) adds runtime classes the AMI's containerd lacks
    (components/aws/gpu_operator.py)."""
    site = only(whole_plan(stack), RELEASE, "gpu-runtime").inputs["values"]
    values = operator_values(
        engine, f"gpu-{cloud}", {"registry": "registry.example", "cloud": cloud, "gpuStack": "operator"}
    )
    assert for_node_images(values) == for_node_images(site)


def test_a_programs_own_operator_values_stand_in_for_its_clouds_and_bare_nodes_get_none(
    engine: FakeEngine,
) -> None:
    own = {"operator": {"runtimeClass": "nvidia"}, "cdi": {"enabled": True}}
    cluster = {"registry": "registry.example", "cloud": "azure", "gpuStack": "operator"}
    values = operator_values(engine, "gpu-own", {**cluster, "gpuOperatorValues": own})
    assert (values["operator"], values["cdi"]) == (own["operator"], own["cdi"])
    # Nodes without a driver: the operator installs driver and toolkit, and runs them under its own runtime.
    values = operator_values(engine, "gpu-bare", {**cluster, "gpuStack": "operator-with-driver"})
    assert values["driver"] == values["toolkit"] == {"enabled": True}
    assert "operator" not in values and "cdi" not in values
