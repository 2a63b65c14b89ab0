"""A site's facts survive the trip through stack outputs: exported by the cloud layer, read back by the
Kubernetes layer, they place pods and bind identities exactly as the facts held in memory do.

The engine carries every number as a float (Pulumi's wire format is protobuf's Struct, whose only number
is a double), so what comes back through a stack reference has 8.0 where 8 was exported.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pytest
from plan_helpers import stack_config, stack_plan

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.catalog import Cloud
from lepton_infra.components.facts import facts_data, facts_from_data
from lepton_infra.components.handle import (
    ApiEndpoint,
    ClusterAddons,
    ClusterFacts,
    Fabric,
    GpuStack,
    NodePlacement,
    ServiceAccountBinding,
    Toleration,
)
from lepton_infra.components.services import ClusterService, CustomObject, HelmChart
from lepton_infra.components.site_kit import gpu_pool_plans
from lepton_infra.plan.engine import record


def over_the_wire(data: Any) -> Any:
    """``data`` as a stack reference returns it: JSON, every number a float."""

    def floats(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        if isinstance(value, list):
            return [floats(v) for v in value]
        return value

    return floats(json.loads(json.dumps(data)))


def rich_facts() -> ClusterFacts:
    """Facts with every kind of field a site states: spot and fabric pools, services, identities."""
    spot = Toleration("kubernetes.azure.com/scalesetpriority", "Equal", "NoSchedule", "spot")
    return ClusterFacts(
        site="azure-weu",
        kubeconfig=pulumi.Output.secret("apiVersion: v1\nkind: Config\n"),
        registry=pulumi.Output.from_input("lepton.azurecr.io"),
        artifact_bucket_uri=pulumi.Output.from_input("az://artifacts"),
        gpu_pools=(
            NodePlacement.for_gpu_pool("t4", "T4", 1, spot),
            dataclasses.replace(
                NodePlacement.for_gpu_pool("h100", "H100", 8),
                fabric=Fabric("infiniband", {"rdma/ib": 8}, {"NCCL_IB_HCA": "mlx5"}),
            ),
        ),
        addons=ClusterAddons(
            gpu_stack=GpuStack.OPERATOR,
            prometheus_operator=True,
            gpu_operator_values={"operator": {"runtimeClass": "nvidia-container-runtime"}, "replicas": 2},
            services=(
                ClusterService(
                    name="karpenter",
                    namespace="karpenter",
                    chart=HelmChart("karpenter", "1.14.1", "oci://public.ecr.aws/karpenter", {"replicas": 2}),
                    objects=(CustomObject("karpenter.sh/v1", "NodePool", "gpu", {"limits": {"cpu": 1000}}),),
                ),
                ClusterService(
                    name="efa", namespace="kube-system", pod_security="privileged", after=("karpenter",)
                ),
            ),
        ),
        artifact_env={"AZURE_STORAGE_ACCOUNT_NAME": "leptonweu", "AZURE_STORAGE_ANON": "false"},
        service_accounts={
            "ml/serve": ServiceAccountBinding(
                annotations={"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000001"},
                pod_labels={"azure.workload.identity/use": "true"},
            )
        },
        api_endpoint=ApiEndpoint(public=False),
    )


def data_fields(facts: ClusterFacts) -> dict[str, Any]:
    """Everything but the outputs (compared apart, once resolved)."""
    return {
        f.name: getattr(facts, f.name)
        for f in dataclasses.fields(ClusterFacts)
        if f.name not in {"kubeconfig", "registry", "artifact_bucket_uri"}
    }


def test_facts_come_back_from_the_wire_as_they_were_exported() -> None:
    # Exported as a stack exports them: the engine resolves the outputs inside and carries the rest.
    plan = record(lambda: pulumi.export("facts", facts_data(rich_facts())), project="p", stack="s")
    data = plan.outputs.values["facts"]
    assert "kubeconfig" not in data
    assert "facts" not in plan.outputs.secret_names
    kubeconfig = pulumi.Output.secret("apiVersion: v1\nkind: Config\n")
    back = facts_from_data(over_the_wire(data), kubeconfig)
    facts = rich_facts()
    assert data_fields(back) == data_fields(facts)
    assert back.placement("H100", 8).fabric == Fabric("infiniband", {"rdma/ib": 8}, {"NCCL_IB_HCA": "mlx5"})
    assert isinstance(back.gpu_pools[1].gpus_per_node, int)
    assert back.addons.gpu_operator_values["replicas"] == 2
    assert back.kubeconfig is kubeconfig
    assert (data["registry"], data["artifact_bucket_uri"]) == ("lepton.azurecr.io", "az://artifacts")


def test_a_cloud_layers_exported_facts_place_and_bind_as_its_site_does() -> None:
    plan = stack_plan("azure-prod")
    site = PlatformSpec.model_validate(stack_config("azure-prod")).sites[0]
    exported = plan.outputs.values["cluster_facts"]["sites"]["azure-weu"]["facts"]
    back = facts_from_data(over_the_wire(exported), pulumi.Output.secret(""))
    pools = {p.pool: p for p in back.gpu_pools}
    for pool in gpu_pool_plans(Cloud.AZURE, site):
        assert pools[pool.pool.name].node_selector == pool.labels
        assert pools[pool.pool.name].gpus_per_node == pool.offering.gpus
    spot = [t.key for t in pools["t4"].tolerations]
    assert "kubernetes.azure.com/scalesetpriority" in spot
    client_ids = {
        r.outputs["clientId"] for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
    }
    bindings = back.service_accounts
    assert set(bindings) == {"ml/pretrain", "ml/serve"}
    assert {b.annotations["azure.workload.identity/client-id"] for b in bindings.values()} <= client_ids
    assert all(b.pod_labels == {"azure.workload.identity/use": "true"} for b in bindings.values())


def test_a_field_the_facts_do_not_know_is_left_and_a_missing_one_takes_its_default() -> None:
    """A newer cloud layer may export more; an older one less: the fields both know still come back."""
    data = over_the_wire({"site": "s", "registry": "r", "artifact_bucket_uri": "b", "added_later": {"x": 1}})
    back = facts_from_data(data, pulumi.Output.secret(""))
    assert back.gpu_pools == () and back.addons == ClusterAddons() and back.api_endpoint is None


@pytest.mark.parametrize("bad", [{"gpu_stack": "gpu-everywhere"}])
def test_a_value_outside_the_facts_vocabulary_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="gpu-everywhere"):
        facts_from_data(
            {"site": "s", "registry": "r", "artifact_bucket_uri": "b", "addons": bad},
            pulumi.Output.secret(""),
        )
