"""AzureNetwork: the site's resource group; a VNet with node, API-server and endpoint subnets; NAT egress."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network, resources

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import at, azure_zones, network_cidr

# AKS projects the API server into a subnet delegated to it (API Server VNet Integration).
API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters"
# Twice the documented minimum (/28). The API Server VNet Integration page gives no recommended size, only
# "The minimum supported API server subnet size is `/28`" and "An AKS cluster reserves at least nine IPs in
# the subnet address space. Running out of IP addresses can prevent API server scaling and cause an API
# server outage." A /28 leaves 11 usable addresses (Azure keeps 5 of 16): two to spare as the API server
# scales. A /27 leaves 27. https://learn.microsoft.com/azure/aks/api-server-vnet-integration
API_SERVER_PREFIX = 27


@dataclass(frozen=True)
class SubnetPlan:
    """The subnets a site's VNet range is cut into."""

    nodes: str
    api_server: str
    endpoints: str


def subnet_cidrs(cidr: str) -> SubnetPlan:
    """Nodes get the first half (pods live on the overlay, not here); the API server a /27 and private
    endpoints a /26 from the last quarter, leaving room to grow."""
    vnet = ipaddress.IPv4Network(cidr)
    nodes = next(vnet.subnets(prefixlen_diff=1))
    last_quarter = list(vnet.subnets(prefixlen_diff=2))[3]
    return SubnetPlan(
        nodes=str(nodes),
        api_server=str(next(last_quarter.subnets(new_prefix=API_SERVER_PREFIX))),
        endpoints=str(list(last_quarter.subnets(new_prefix=26))[1]),
    )


@dataclass(frozen=True)
class AzureNetworkArgs:
    """The inputs of an AzureNetwork."""

    cidr: str
    """The VNet's IPv4 range, private (RFC 1918 or 100.64.0.0/10) and /16 to /20, e.g. ``10.30.0.0/16``. Nodes
    get its first half (pods live on the overlay, not here); the API server and private endpoints small
    subnets of its last quarter."""
    location: str
    """The Azure region, e.g. ``westeurope``: the resource group's and everything in it."""
    zones: Sequence[str] = ()
    """The region's availability zones the site uses (``"1"``, ``"2"``, ``"3"``): the egress IP prefix spans
    them and the NAT gateway is pinned to the first. Empty: Azure picks."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the resource group and every resource in it."""

    def __post_init__(self) -> None:
        refuse_args(self, [*at("cidr", network_cidr(self.cidr)), *azure_zones(self.zones)])


class AzureNetwork(pulumi.ComponentResource):
    """A resource group and a VNet with three subnets, none of which hands out public IPs.

    Egress leaves through a NAT gateway with a static public IP prefix (allowlist-friendly); the subnets
    turn off Azure's implicit default outbound access, so nothing else can reach the internet.

    A (Standard) NAT gateway is a zonal resource: without a zone Azure still places it in one of its
    choosing ("no zone" is not zone-redundant; https://learn.microsoft.com/azure/nat-gateway/nat-availability-zones).
    So it is pinned, visibly, to the site's first zone, with a zone-redundant public IP prefix (which a
    zonal gateway accepts). Nodes in every zone leave through it: an outage of that zone stops the site's
    egress (image pulls from outside, ACR and storage stay reachable through their private endpoints).
    Zone-redundant egress needs the StandardV2 NAT gateway, whose API version the pinned azure-native SDK
    does not carry (see the README, "Deploying to Azure").
    """

    resource_group_name: pulumi.Output[str]
    """Name of the site's resource group (generated from the component's name)."""
    resource_group_id: pulumi.Output[str]
    """Resource ID of the resource group."""
    vnet_id: pulumi.Output[str]
    """Resource ID of the VNet: private DNS zones of private endpoints link to it."""
    node_subnet_id: pulumi.Output[str]
    """The nodes' subnet, egress through the NAT gateway: an AzureAksCluster's ``node_subnet_id``."""
    api_server_subnet_id: pulumi.Output[str]
    """The subnet delegated to AKS for its API server (API Server VNet Integration): an AzureAksCluster's
    ``api_server_subnet_id``."""
    endpoint_subnet_id: pulumi.Output[str]
    """The subnet private endpoints (vault, registry, storage) go into."""
    egress_prefix: pulumi.Output[str]
    """The public IP prefix (a /31) all egress leaves from: what to allowlist at the other end."""

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:azure:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        plan = subnet_cidrs(args.cidr)
        zones = list(args.zones) or None

        group = resources.ResourceGroup(
            f"{name}-rg", resources.ResourceGroupArgs(location=args.location, tags=tags), opts=child
        )
        prefix = network.PublicIPPrefix(
            f"{name}-egress",
            network.PublicIPPrefixArgs(
                resource_group_name=group.name,
                location=args.location,
                prefix_length=31,  # two addresses: enough SNAT ports for a GPU site, short to allowlist
                public_ip_address_version=network.IPVersion.I_PV4,
                sku=network.PublicIPPrefixSkuArgs(
                    name=network.PublicIPPrefixSkuName.STANDARD, tier=network.PublicIPPrefixSkuTier.REGIONAL
                ),
                zones=zones,
                tags=tags,
            ),
            opts=child,
        )
        nat = network.NatGateway(
            f"{name}-nat",
            network.NatGatewayInitArgs(
                resource_group_name=group.name,
                location=args.location,
                sku=network.NatGatewaySkuArgs(name=network.NatGatewaySkuName.STANDARD),
                zones=zones[:1] if zones else None,
                public_ip_prefixes=[network.SubResourceArgs(id=prefix.id)],
                idle_timeout_in_minutes=10,
                tags=tags,
            ),
            opts=child,
        )
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            network.VirtualNetworkInitArgs(
                resource_group_name=group.name,
                location=args.location,
                address_space=network.AddressSpaceArgs(address_prefixes=[args.cidr]),
                tags=tags,
            ),
            # Subnets are separate resources; inline ones would fight them on every update.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )

        created: list[network.Subnet] = []

        def subnet(
            suffix: str, cidr: str, *, delegation: str | None = None, egress: bool = False
        ) -> network.Subnet:
            created.append(
                network.Subnet(
                    f"{name}-{suffix}",
                    network.SubnetInitArgs(
                        resource_group_name=group.name,
                        virtual_network_name=vnet.name,
                        address_prefix=cidr,
                        default_outbound_access=False,
                        nat_gateway=network.SubResourceArgs(id=nat.id) if egress else None,
                        delegations=[network.DelegationArgs(name=suffix, service_name=delegation)]
                        if delegation
                        else None,
                        private_endpoint_network_policies=network.VirtualNetworkPrivateEndpointNetworkPolicies.ENABLED,
                    ),
                    # Azure refuses concurrent changes to one VNet's subnets: create them one after another.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=created[-1:]),
                )
            )
            return created[-1]

        nodes = subnet("nodes", plan.nodes, egress=True)
        api_server = subnet("apiserver", plan.api_server, delegation=API_SERVER_DELEGATION)
        endpoints = subnet("endpoints", plan.endpoints)

        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.vnet_id = vnet.id
        self.node_subnet_id = nodes.id
        self.api_server_subnet_id = api_server.id
        self.endpoint_subnet_id = endpoints.id
        self.egress_prefix = prefix.ip_prefix
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "vnet_id": self.vnet_id,
                "node_subnet_id": self.node_subnet_id,
                "egress_prefix": self.egress_prefix,
            }
        )
