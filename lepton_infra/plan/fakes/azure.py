"""Azure: ARM resource IDs, endpoints and identities shaped as Azure returns them."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from lepton_infra.plan.fakes import DEFAULT_FAKERS, REGION_INPUTS, FakeContext, invoke, resource

REGION_INPUTS["pulumi:providers:azure-native"] = "location"

SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
TENANT_ID = "00000000-0000-4000-8000-00000000000a"
_SUB = f"/subscriptions/{SUBSCRIPTION_ID}"

# Type token → (ARM path under the resource group, with {input} placeholders; the input naming the resource).
_ARM_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:network:PublicIPPrefix": (
        "Microsoft.Network/publicIPPrefixes/{name}",
        "publicIpPrefixName",
    ),
    "azure-native:network:NatGateway": ("Microsoft.Network/natGateways/{name}", "natGatewayName"),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network/virtualNetworks/{name}", "virtualNetworkName"),
    "azure-native:network:Subnet": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{name}",
        "subnetName",
    ),
    "azure-native:network:PrivateEndpoint": (
        "Microsoft.Network/privateEndpoints/{name}",
        "privateEndpointName",
    ),
    "azure-native:network:PrivateDnsZoneGroup": (
        "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{name}",
        "privateDnsZoneGroupName",
    ),
    "azure-native:privatedns:PrivateZone": ("Microsoft.Network/privateDnsZones/{name}", "privateZoneName"),
    "azure-native:privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{name}",
        "virtualNetworkLinkName",
    ),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault/vaults/{name}", "vaultName"),
    "azure-native:keyvault:Key": ("Microsoft.KeyVault/vaults/{vaultName}/keys/{name}", "keyName"),
    "azure-native:compute:DiskEncryptionSet": (
        "Microsoft.Compute/diskEncryptionSets/{name}",
        "diskEncryptionSetName",
    ),
    "azure-native:containerregistry:Registry": (
        "Microsoft.ContainerRegistry/registries/{name}",
        "registryName",
    ),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage/storageAccounts/{name}", "accountName"),
    "azure-native:storage:BlobServiceProperties": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/{name}",
        "blobServicesName",
    ),
    "azure-native:storage:BlobContainer": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{name}",
        "containerName",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        "resourceName",
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/federatedIdentityCredentials/{name}",
        "federatedIdentityCredentialResourceName",
    ),
    "azure-native:operationalinsights:Workspace": (
        "Microsoft.OperationalInsights/workspaces/{name}",
        "workspaceName",
    ),
    "azure-native:monitor:DataCollectionRule": (
        "Microsoft.Insights/dataCollectionRules/{name}",
        "dataCollectionRuleName",
    ),
    "azure-native:containerservice:ManagedCluster": (
        "Microsoft.ContainerService/managedClusters/{name}",
        "resourceName",
    ),
    "azure-native:containerservice:AgentPool": (
        "Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{name}",
        "agentPoolName",
    ),
}


def _guid(ctx: FakeContext, salt: str = "") -> str:
    return str(uuid.UUID(hex=FakeContext(ctx.type, ctx.name + salt, {}, ctx.region).hex(32), version=4))


def _name(ctx: FakeContext, key: str) -> str:
    # azure-native auto-names what the program leaves unnamed: the logical name and a random suffix.
    return str(ctx.inputs.get(key) or f"{ctx.name}{ctx.hex(8)}")


def _arm_id(ctx: FakeContext) -> tuple[str, str]:
    path, key = _ARM_PATHS[ctx.type]
    name = _name(ctx, key)
    values = {k: str(v) for k, v in ctx.inputs.items() if isinstance(v, str)}
    group = values.get("resourceGroupName", "rg")
    return name, f"{_SUB}/resourceGroups/{group}/providers/" + path.format_map({**values, "name": name})


def _default(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    if ctx.type not in _ARM_PATHS:
        return f"{_SUB}/providers/{ctx.type}/{ctx.name}", {"name": ctx.name}
    name, arm_id = _arm_id(ctx)
    outputs: dict[str, Any] = {"id": arm_id, "name": name, "location": ctx.inputs.get("location", ctx.region)}
    identity = ctx.inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Requests list the identities' IDs; responses map each ID to its client and principal IDs.
        outputs["identity"] = {
            **identity,
            "userAssignedIdentities": {
                str(i): {"clientId": _guid(ctx, f"{i}client"), "principalId": _guid(ctx, f"{i}principal")}
                for i in identity["userAssignedIdentities"]
            },
        }
    return arm_id, outputs


DEFAULT_FAKERS["azure-native:"] = _default


def _with(ctx: FakeContext, **outputs: Any) -> tuple[str, dict[str, Any]]:
    identifier, base = _default(ctx)
    return identifier, {**base, **outputs}


@resource("azure-native:resources:ResourceGroup")
def _resource_group(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = _name(ctx, "resourceGroupName")
    arm_id = f"{_SUB}/resourceGroups/{name}"
    return arm_id, {"id": arm_id, "name": name, "location": ctx.inputs.get("location", ctx.region)}


@resource("azure-native:network:PublicIPPrefix")
def _ip_prefix(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return _with(ctx, ipPrefix="198.51.100.16/31")  # TEST-NET-2, documentation range


@resource("azure-native:managedidentity:UserAssignedIdentity")
def _identity(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return _with(ctx, clientId=_guid(ctx, "client"), principalId=_guid(ctx, "principal"), tenantId=TENANT_ID)


@resource("azure-native:keyvault:Vault")
def _vault(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = _name(ctx, "vaultName")
    properties = {**ctx.inputs.get("properties", {}), "vaultUri": f"https://{name}.vault.azure.net/"}
    return _with(ctx, properties=properties)


@resource("azure-native:keyvault:Key")
def _key(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    uri = f"https://{ctx.inputs.get('vaultName', 'vault')}.vault.azure.net/keys/{_name(ctx, 'keyName')}"
    return _with(ctx, keyUri=uri, keyUriWithVersion=f"{uri}/{ctx.hex(32)}")


@resource("azure-native:compute:DiskEncryptionSet")
def _disk_encryption_set(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identity = {
        **ctx.inputs.get("identity", {}),
        "principalId": _guid(ctx, "principal"),
        "tenantId": TENANT_ID,
    }
    return _with(ctx, identity=identity)


@resource("azure-native:containerregistry:Registry")
def _registry(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return _with(ctx, loginServer=f"{_name(ctx, 'registryName')}.azurecr.io")


@resource("azure-native:storage:StorageAccount")
def _storage_account(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = _name(ctx, "accountName")
    return _with(
        ctx,
        primaryEndpoints={
            "blob": f"https://{name}.blob.core.windows.net/",
            "dfs": f"https://{name}.dfs.core.windows.net/",
        },
    )


@resource("azure-native:operationalinsights:Workspace")
def _workspace(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return _with(ctx, customerId=_guid(ctx))


# Extension resources live under the resource they attach to: type token → (scope input, path, name input).
_EXTENSIONS: dict[str, tuple[str, str, str | None]] = {
    "azure-native:authorization:RoleAssignment": ("scope", "Microsoft.Authorization/roleAssignments", None),
    "azure-native:monitor:DataCollectionRuleAssociation": (
        "resourceUri",
        "Microsoft.Insights/dataCollectionRuleAssociations",
        "associationName",
    ),
    "azure-native:monitor:DiagnosticSetting": (
        "resourceUri",
        "Microsoft.Insights/diagnosticSettings",
        "name",
    ),
}


@resource(*_EXTENSIONS)
def _extension(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    scope_key, path, name_key = _EXTENSIONS[ctx.type]
    # Role assignments are named by a GUID; the others by the name the program gives.
    name = _name(ctx, name_key) if name_key else _guid(ctx)
    arm_id = f"{ctx.inputs.get(scope_key, _SUB)}/providers/{path}/{name}"
    return arm_id, {"id": arm_id, "name": name}


@resource("azure-native:containerservice:ManagedCluster")
def _managed_cluster(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = _name(ctx, "resourceName")
    dns = f"{ctx.inputs.get('dnsPrefix', name)}-{ctx.hex(8)}"
    node_group = f"MC_{ctx.inputs.get('resourceGroupName', 'rg')}_{name}_{ctx.region}"
    identities = (
        f"{_SUB}/resourceGroups/{node_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    )
    kubelet = f"{identities}/{name}-agentpool"
    return _with(
        ctx,
        fqdn=f"{dns}.hcp.{ctx.region}.azmk8s.io",
        privateFQDN=f"{dns}.{ctx.hex(8)}.privatelink.{ctx.region}.azmk8s.io",
        nodeResourceGroup=node_group,
        oidcIssuerProfile={
            "enabled": True,
            "issuerURL": f"https://{ctx.region}.oic.prod-aks.azure.com/{TENANT_ID}/{_guid(ctx, 'oidc')}/",
        },
        identityProfile={
            "kubeletidentity": {
                "clientId": _guid(ctx, "kubelet-client"),
                "objectId": _guid(ctx, "kubelet-object"),
                "resourceId": kubelet,
            }
        },
        currentKubernetesVersion=f"{ctx.inputs.get('kubernetesVersion', '1.33')}.3",
        provisioningState="Succeeded",
    )


@invoke("azure-native:authorization:getClientConfig")
def _client_config(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # the Azure CLI's public client
        "objectId": "00000000-0000-4000-8000-0000000000b0",
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    }


@invoke("azure-native:containerservice:listManagedClusterUserCredentials")
def _user_credentials(args: dict[str, Any], region: str) -> dict[str, Any]:
    # What AKS returns with format=exec for an Entra-integrated cluster: kubelogin, device-code login.
    name = str(args.get("resourceName", "cluster"))
    kubeconfig = f"""apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    server: https://{name}.privatelink.{region}.azmk8s.io:443
    certificate-authority-data: {base64.b64encode(b"MOCK CA").decode()}
contexts:
- name: {name}
  context: {{cluster: {name}, user: clusterUser_{name}}}
current-context: {name}
users:
- name: clusterUser_{name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, {TENANT_ID},
             --environment, AzurePublicCloud]
      interactiveMode: IfAvailable
"""
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}]}
