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


# https://learn.microsoft.com/azure/aks/api-server-vnet-integration, section "Create a cluster with API
# Server VNet Integration using bring-your-own VNet" and its warning box, quoted:
API_SERVER_SUBNET_DOC = (
    "The minimum supported API server subnet size is `/28`.",
    "An AKS cluster reserves at least nine IPs in the subnet address space. Running out of IP addresses "
    "can prevent API server scaling and cause an API server outage.",
)
AZURE_RESERVED_PER_SUBNET = 5  # https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq
RESERVED_BY_AKS = 9


@pytest.mark.parametrize("vnet", ["10.40.0.0/16", "10.30.0.0/18", "172.16.0.0/20"])
def test_the_api_server_subnet_leaves_room_beyond_the_nine_addresses_aks_reserves(vnet: str) -> None:
    """A /28 (the documented minimum) leaves 16 - 5 = 11 usable addresses against "at least nine" that AKS
    reserves: two to spare before "running out of IP addresses can prevent API server scaling and cause
    an API server outage" (API_SERVER_SUBNET_DOC). The subnet must leave at least as many spare as AKS
    reserves."""
    import ipaddress

    from lepton_infra.components.azure.network import subnet_cidrs

    api_server = ipaddress.IPv4Network(subnet_cidrs(vnet).api_server)
    assert api_server.prefixlen <= 28  # never below the documented minimum
    usable = api_server.num_addresses - AZURE_RESERVED_PER_SUBNET
    assert usable - RESERVED_BY_AKS >= RESERVED_BY_AKS


def test_the_nat_gateway_is_pinned_to_a_zone_its_public_prefix_may_serve(prod: Plan) -> None:
    """ "NAT gateway is a zonal resource"; one created without a zone is still placed in a zone Azure picks,
    which is not zone redundancy (https://learn.microsoft.com/azure/nat-gateway/nat-availability-zones).
    The site pins it to its first zone, so where egress lives is a choice in the plan, and gives it a
    zone-redundant prefix, which a zonal gateway may use (same page, public IP zone rules)."""
    nat = only(prod, "azure-native:network:NatGateway").inputs
    prefix = only(prod, "azure-native:network:PublicIPPrefix").inputs
    assert nat["zones"] == ["1"]
    assert nat["sku"] == {"name": "Standard"}
    assert prefix["zones"] == ["1", "2", "3"]
