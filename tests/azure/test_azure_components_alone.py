"""Azure components imported one at a time into another program (examples/byo-vnet), without the Platform."""

from __future__ import annotations

import pytest
from plan_helpers import ROOT, only

from lepton_infra.plan.engine import run_program
from lepton_infra.plan.model import Plan
from lepton_infra.project import find_project, read_stack_config

SUBNETS = (
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/net-rg"
    "/providers/Microsoft.Network/virtualNetworks/hub/subnets"
)


@pytest.fixture(scope="module")
def byo() -> Plan:
    project = find_project(ROOT / "examples" / "byo-vnet")
    return run_program(project, read_stack_config(project, "dev"))


def test_example_builds_a_cluster_in_the_given_subnets_without_a_platform(byo: Plan) -> None:
    assert not byo.of_type("lepton:index:Platform")
    assert not byo.of_type("azure-native:network:VirtualNetwork")
    cluster = only(byo, "azure-native:containerservice:ManagedCluster")
    assert cluster.inputs["agentPoolProfiles"][0]["vnetSubnetID"] == f"{SUBNETS}/aks-nodes"
    assert cluster.inputs["apiServerAccessProfile"]["subnetId"] == f"{SUBNETS}/aks-apiserver"
    kms = cluster.inputs["securityProfile"]["azureKeyVaultKms"]
    assert kms["keyId"] == only(byo, "azure-native:keyvault:Key").outputs["keyUriWithVersion"]
    assert cluster.urn.endswith(
        "lepton:azure:AksCluster$azure-native:containerservice:ManagedCluster::team-a-aks"
    )


def test_components_use_the_programs_own_provider(byo: Plan) -> None:
    assert only(byo, "pulumi:providers:azure-native").inputs["location"] == "westeurope"
    assert all(
        r.provider and "::regional::" in r.provider
        for r in byo.custom_resources()
        if r.type.startswith("azure-native:")
    )
