"""An AKS cluster with its Key Vault key and registry in a VNet you already have: lepton-infra components,
no Platform.

The components take plain values and Outputs, so they compose with anything else in your program.
"""

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native.provider import Provider, ProviderArgs

from lepton_infra.components.azure import (
    AzureAksCluster,
    AzureAksClusterArgs,
    AzureContainerRegistry,
    AzureContainerRegistryArgs,
    AzureDiskEncryptionSet,
    AzureDiskEncryptionSetArgs,
    AzureNodePoolArgs,
    AzurePrivateEndpoint,
    AzurePrivateEndpointArgs,
    AzureVaultKey,
    AzureVaultKeyArgs,
    PrivateLinkService,
)

config = pulumi.Config()
name = config.require("clusterName")
group = config.require("resourceGroupName")
location = pulumi.Config("azure-native").require("location")
provider = Provider("regional", ProviderArgs(location=location))
opts = pulumi.ResourceOptions(provider=provider)
client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
subscription = client.subscription_id

key = AzureVaultKey(
    f"{name}-kv",
    AzureVaultKeyArgs(resource_group_name=group, location=location, tenant_id=client.tenant_id),
    opts=opts,
)
disks = AzureDiskEncryptionSet(
    f"{name}-disks",
    AzureDiskEncryptionSetArgs(
        resource_group_name=group,
        location=location,
        subscription_id=subscription,
        vault_id=key.vault_id,
        key_id=key.key_id,
        key_uri=key.key_uri,
    ),
    opts=opts,
)
registry = AzureContainerRegistry(
    f"{name}-registry",
    AzureContainerRegistryArgs(
        resource_group_name=group,
        location=location,
        subscription_id=subscription,
        key_id=key.key_id,
        key_uri=key.key_uri,
    ),
    opts=opts,
)
AzurePrivateEndpoint(
    f"{name}-registry-link",
    AzurePrivateEndpointArgs(
        resource_group_name=group,
        location=location,
        vnet_id=config.require("vnetId"),
        subnet_id=config.require("endpointSubnetId"),
        target_id=registry.registry_id,
        service=PrivateLinkService.REGISTRY,
    ),
    opts=opts,
)
node_subnet = config.require("nodeSubnetId")
cluster = AzureAksCluster(
    name,
    AzureAksClusterArgs(
        cluster_name=name,
        resource_group_name=group,
        location=location,
        subscription_id=subscription,
        tenant_id=client.tenant_id,
        kubernetes_version="1.33",
        node_subnet_id=node_subnet,
        api_server_subnet_id=config.require("apiServerSubnetId"),
        vault_id=key.vault_id,
        key_id=key.key_id,
        key_uri_with_version=key.key_uri_with_version,
        disk_encryption_set_id=disks.des_id,
        admin_group_object_ids=[config.require("adminGroupObjectId")],
        registry_ids=[registry.registry_id],
        system_pool=AzureNodePoolArgs(
            vm_size="Standard_D4ds_v5",
            min_nodes=2,
            max_nodes=4,
            kubernetes_version="1.33",
            subnet_id=node_subnet,
            zones=("1", "2", "3"),
        ),
    ),
    opts=opts,
)

pulumi.export("login_server", registry.login_server)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("oidc_issuer_url", cluster.oidc_issuer_url)
