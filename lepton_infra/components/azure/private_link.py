"""AzurePrivateEndpoint: one of our PaaS resources (vault, registry, storage) reachable only from the VNet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
from pulumi_azure_native import network, privatedns


class PrivateLinkService(StrEnum):
    """The sub-resource (group ID) a private endpoint connects to."""

    VAULT = "vault"
    REGISTRY = "registry"
    BLOB = "blob"


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
    resource_group_name: pulumi.Input[str]
    location: str
    vnet_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    target_id: pulumi.Input[str]
    service: PrivateLinkService
    partition: str = "public"
    tags: Mapping[str, str] = field(default_factory=dict)


class AzurePrivateEndpoint(pulumi.ComponentResource):
    """A private endpoint in the endpoints subnet and the private DNS zone (linked to the VNet) that makes
    the resource's usual host name resolve to the endpoint's private address inside the VNet."""

    endpoint_id: pulumi.Output[str]

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
