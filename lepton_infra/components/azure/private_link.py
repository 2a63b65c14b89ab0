"""AzurePrivateEndpoint: one of our PaaS resources (vault, registry, storage) reachable only from the VNet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
from pulumi_azure_native import network, privatedns

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import at, one_of


class PrivateLinkService(StrEnum):
    """The sub-resource (group ID) a private endpoint connects to."""

    VAULT = "vault"
    """A Key Vault (an AzureVaultKey's ``vault_id``)."""
    REGISTRY = "registry"
    """A container registry (an AzureContainerRegistry's ``registry_id``)."""
    BLOB = "blob"
    """The blob service of a storage account (an AzureArtifactStorage's ``account_id``)."""


# Private DNS zone per service and cloud partition, as Azure's private endpoint DNS page lists them.
PRIVATE_DNS_ZONES: dict[str, dict[PrivateLinkService, str]] = {
    "public": {
        PrivateLinkService.VAULT: "privatelink.vaultcore.azure.net",
        PrivateLinkService.REGISTRY: "privatelink.azurecr.io",
        PrivateLinkService.BLOB: "privatelink.blob.core.windows.net",
    },
    "china": {
        PrivateLinkService.VAULT: "privatelink.vaultcore.azure.cn",
        PrivateLinkService.REGISTRY: "privatelink.azurecr.cn",
        PrivateLinkService.BLOB: "privatelink.blob.core.chinacloudapi.cn",
    },
    "gov": {
        PrivateLinkService.VAULT: "privatelink.vaultcore.usgovcloudapi.net",
        PrivateLinkService.REGISTRY: "privatelink.azurecr.us",
        PrivateLinkService.BLOB: "privatelink.blob.core.usgovcloudapi.net",
    },
}


@dataclass(frozen=True)
class AzurePrivateEndpointArgs:
    """The inputs of an AzurePrivateEndpoint."""

    resource_group_name: pulumi.Input[str]
    """The resource group the endpoint and its private DNS zone go into."""
    location: str
    """The Azure region of the endpoint: the VNet's."""
    vnet_id: pulumi.Input[str]
    """The VNet the private DNS zone is linked to (an AzureNetwork's ``vnet_id``): inside it, the resource's
    usual host name resolves to the endpoint's private address."""
    subnet_id: pulumi.Input[str]
    """The subnet the endpoint's address comes from (an AzureNetwork's ``endpoint_subnet_id``)."""
    target_id: pulumi.Input[str]
    """Resource ID of what the endpoint reaches: a vault, registry or storage account."""
    service: PrivateLinkService
    """Which of the target's sub-resources the endpoint connects to: ``VAULT``, ``REGISTRY`` or ``BLOB``."""
    partition: str = "public"
    """The Azure cloud, which decides the private DNS zone's name: ``public``, ``china`` or ``gov``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the endpoint, its DNS zone and the zone's VNet link."""

    def __post_init__(self) -> None:
        refuse_args(self, at("partition", one_of(self.partition, PRIVATE_DNS_ZONES)))


class AzurePrivateEndpoint(pulumi.ComponentResource):
    """A private endpoint in the endpoints subnet and the private DNS zone (linked to the VNet) that makes
    the resource's usual host name resolve to the endpoint's private address inside the VNet."""

    endpoint_id: pulumi.Output[str]
    """Resource ID of the private endpoint."""

    def __init__(
        self, name: str, args: AzurePrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:PrivateEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        zone = privatedns.PrivateZone(
            f"{name}-zone",
            privatedns.PrivateZoneArgs(
                resource_group_name=args.resource_group_name,
                private_zone_name=PRIVATE_DNS_ZONES[args.partition][args.service],
                location="global",  # private DNS zones are global resources
                tags=tags,
            ),
            opts=child,
        )
        privatedns.VirtualNetworkLink(
            f"{name}-link",
            privatedns.VirtualNetworkLinkArgs(
                resource_group_name=args.resource_group_name,
                private_zone_name=zone.name,
                location="global",
                virtual_network=privatedns.SubResourceArgs(id=args.vnet_id),
                registration_enabled=False,
                tags=tags,
            ),
            opts=child,
        )
        endpoint = network.PrivateEndpoint(
            f"{name}-pe",
            network.PrivateEndpointArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                subnet=network.SubnetArgs(id=args.subnet_id),
                private_link_service_connections=[
                    network.PrivateLinkServiceConnectionArgs(
                        name=f"{name}-{args.service.value}",
                        private_link_service_id=args.target_id,
                        group_ids=[args.service.value],
                    )
                ],
                tags=tags,
            ),
            opts=child,
        )
        network.PrivateDnsZoneGroup(
            f"{name}-dns",
            network.PrivateDnsZoneGroupArgs(
                resource_group_name=args.resource_group_name,
                private_endpoint_name=endpoint.name,
                private_dns_zone_configs=[
                    network.PrivateDnsZoneConfigArgs(name=args.service.value, private_dns_zone_id=zone.id)
                ],
            ),
            opts=child,
        )
        self.endpoint_id = endpoint.id
        self.register_outputs({"endpoint_id": self.endpoint_id})
