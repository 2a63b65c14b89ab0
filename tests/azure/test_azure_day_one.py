"""Day one on AKS: what the real Azure APIs refuse or race on, which mocks never see (issue 13)."""

from __future__ import annotations

import pytest
from plan_helpers import only, stack_plan

from lepton_infra.plan.model import Plan


@pytest.fixture(scope="module")
def prod() -> Plan:
    return stack_plan("azure-prod")


def test_spot_pools_send_no_upgrade_settings_because_aks_refuses_surge_there(prod: Plan) -> None:
    """AKS spot node pool docs: "There are no surge nodes available for Spot node pool upgrades"
    (https://learn.microsoft.com/azure/aks/spot-node-pool). Sending maxSurge is refused with 400
    InvalidParameter (XenitAB/terraform-modules#755, Azure/bicep#14517), and so is maxUnavailable
    (hashicorp/terraform-provider-azurerm#31129): a spot pool sends neither, nor an empty object."""
    t4 = only(prod, "azure-native:containerservice:AgentPool", "t4").inputs
    assert t4["scaleSetPriority"] == "Spot"
    assert "upgradeSettings" not in t4
    # The RP defaults surge into a pool whose type is missing (Azure/bicep#14517): the type stays explicit.
    assert t4["type"] == "VirtualMachineScaleSets"
    # Regular pools keep their surge, so upgrades replace nodes without losing capacity.
    h100 = only(prod, "azure-native:containerservice:AgentPool", "h100").inputs
    assert h100["upgradeSettings"] == {"maxSurge": "33%"}
