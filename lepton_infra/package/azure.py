"""The Azure components of the package around the cluster: network, Key Vault key, disk encryption set,
registry, artifact storage, private endpoints, workload identities and the subscription's Defender for
Containers plan (the cluster itself: ``azure_cluster``).

Each builds the component of the same name in ``lepton_infra.components.azure``. Resources go through the
azure-native provider the program passes in the component's ``providers`` option: pass one. Read by Pulumi's
analyzer: no ``from __future__ import annotations`` here.
"""

from enum import StrEnum
from types import SimpleNamespace
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_azure_native import authorization

from lepton_infra.components.azure import (
    defender,
    disk_encryption,
    identity,
    keys,
    network,
    private_link,
    registry,
    roles,
    storage,
)
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import require_choice, require_cidrs


class AzureNetworkArgs(TypedDict):
    cidr: str
    """The VNet's IPv4 range, e.g. 10.30.0.0/16: nodes get the first half (pods live on the overlay); the API
    server a /28 and private endpoints a /26 from the last quarter."""
    location: str
    """Azure region, e.g. eastus2."""
    zones: NotRequired[list[str]]
    """Availability zones of the egress IP prefix, e.g. ["1", "2", "3"]; none if omitted."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AzureNetwork(PackageComponent):
    """A resource group and a VNet with node, API-server (delegated to AKS) and private-endpoint subnets, none
    of which hands out public IPs. Egress leaves only through a NAT gateway with a static public IP prefix;
    the subnets turn off Azure's implicit default outbound access."""

    resource_group_name: pulumi.Output[str]
    """The site's resource group: pass it to the other Azure components."""
    resource_group_id: pulumi.Output[str]
    """Resource ID of the resource group."""
    vnet_id: pulumi.Output[str]
    """Resource ID of the VNet."""
    node_subnet_id: pulumi.Output[str]
    """Subnet of the cluster's nodes."""
    api_server_subnet_id: pulumi.Output[str]
    """Subnet delegated to AKS for API Server VNet Integration."""
    endpoint_subnet_id: pulumi.Output[str]
    """Subnet of the private endpoints."""
    egress_prefix: pulumi.Output[str]
    """The public IP prefix all egress leaves from (for allowlists elsewhere)."""

    _args = network.AzureNetworkArgs

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        built = self.prepare(args)
        self.publish(network.AzureNetwork(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_cidrs(values, "cidr")
        return super().build(values)


class AzureVaultKeyArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the vault (an AzureNetwork's resourceGroupName)."""
    location: str
    """Azure region of the vault."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant that authenticates to the vault."""
    rotation_days: NotRequired[int]
    """Days after which the key rotates to a new version. Default: 180."""
    expiry_days: NotRequired[int]
    """Days a rotated key version stays valid; more than rotationDays. Default: 365."""
    protect: NotRequired[bool]
    """Protect the vault and key from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the vault and key."""


class AzureVaultKey(PackageComponent):
    """A premium Key Vault with Azure RBAC (no access policies), soft delete and purge protection, public
    network access disabled (trusted Azure services still reach it), and one RSA-HSM key that rotates on a
    schedule. The first key version has no expiry: AKS KMS pins a version, and an expired one would make the
    cluster's secrets unreadable."""

    vault_id: pulumi.Output[str]
    """Resource ID of the vault."""
    vault_name: pulumi.Output[str]
    """Name of the vault."""
    vault_uri: pulumi.Output[str]
    """URI of the vault."""
    key_id: pulumi.Output[str]
    """Resource ID of the key: the scope of every grant to use it."""
    key_name: pulumi.Output[str]
    """Name of the key."""
    key_uri: pulumi.Output[str]
    """Versionless URI of the key: users that follow rotation take this."""
    key_uri_with_version: pulumi.Output[str]
    """URI of the key's current version: AKS KMS pins it."""

    _args = keys.AzureVaultKeyArgs

    def __init__(
        self, name: str, args: AzureVaultKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(keys.AzureVaultKey(name, built, self.start(name, opts)))


class AzureDiskEncryptionSetArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the disk encryption set."""
    location: str
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role assignment on the key."""
    vault_id: pulumi.Input[str]
    """Resource ID of the vault that holds the key."""
    key_id: pulumi.Input[str]
    """Resource ID of the key (the grant's scope)."""
    key_uri: pulumi.Input[str]
    """Versionless URI of the key, so disks follow its rotation."""
    tags: NotRequired[dict[str, str]]
    """Tags on the disk encryption set."""


class AzureDiskEncryptionSet(PackageComponent):
    """A disk encryption set with customer-managed keys that follows the key to its latest version; its
    identity holds Key Vault Crypto Service Encryption User on that one key."""

    des_id: pulumi.Output[str]
    """Resource ID of the disk encryption set (what AKS puts on node disks)."""
    principal_id: pulumi.Output[str]
    """Principal ID of its system-assigned identity."""
    key_grant: pulumi.Output[authorization.RoleAssignment]
    """Its identity's grant on the key: node disks cannot be created before it works, so pass it to the
    AzureAksCluster's prerequisiteGrants."""

    _args = disk_encryption.AzureDiskEncryptionSetArgs

    def __init__(
        self, name: str, args: AzureDiskEncryptionSetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(disk_encryption.AzureDiskEncryptionSet(name, built, self.start(name, opts)))


class AzureContainerRegistryArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the registry."""
    location: str
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role assignment on the key."""
    key_id: pulumi.Input[str]
    """Resource ID of the key (the scope of its identity's one grant)."""
    key_uri: pulumi.Input[str]
    """Versionless URI of the key, so the registry follows its rotation."""
    untagged_retention_days: NotRequired[int]
    """Days before an untagged manifest is deleted. Default: 14."""
    role_propagation_seconds: NotRequired[int]
    """Seconds the registry waits after its identity's grant on the key: Azure documents up to 10 minutes
    before a new role assignment takes effect. Default: 600."""
    zone_redundant: NotRequired[bool]
    """Replicate across the region's zones. Default: true."""
    protect: NotRequired[bool]
    """Protect the registry from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AzureContainerRegistry(PackageComponent):
    """An ACR Premium registry encrypted with the site key (through a user-assigned identity granted on that
    one key): no admin user, no anonymous pull, public network access disabled (reach it through a private
    endpoint), export disabled, untagged manifests deleted after ``untaggedRetentionDays``."""

    registry_id: pulumi.Output[str]
    """Resource ID of the registry."""
    login_server: pulumi.Output[str]
    """``<name>.azurecr.io``: the registry host workloads pull from."""

    _args = registry.AzureContainerRegistryArgs

    def __init__(
        self, name: str, args: AzureContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(registry.AzureContainerRegistry(name, built, self.start(name, opts)))


class AzureDefenderForContainersArgs(TypedDict):
    subscription_id: pulumi.Input[str]
    """The subscription whose Defender for Containers plan is turned on: it covers every registry and
    cluster there, and bills per vCore of its clusters' nodes."""


class AzureDefenderForContainers(PackageComponent):
    """Defender for Containers on the subscription (tier Standard) with registry image scanning and agentless
    cluster discovery. Retained on delete: destroying the component leaves the subscription's plan on."""

    pricing_id: pulumi.Output[str]
    """Resource ID of the subscription's plan."""

    _args = defender.AzureDefenderForContainersArgs

    def __init__(
        self, name: str, args: AzureDefenderForContainersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(defender.AzureDefenderForContainers(name, built, self.start(name, opts)))


class AzureArtifactStorageArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the storage account."""
    location: str
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role assignment on the key."""
    key_id: pulumi.Input[str]
    """Resource ID of the key (the scope of its identity's one grant)."""
    vault_uri: pulumi.Input[str]
    """URI of the vault that holds the key."""
    key_name: pulumi.Input[str]
    """Name of the key."""
    soft_delete_days: NotRequired[int]
    """Days deleted blobs, containers and overwritten versions stay recoverable. Default: 30."""
    role_propagation_seconds: NotRequired[int]
    """Seconds the account waits after its identity's grant on the key: Azure documents up to 10 minutes
    before a new role assignment takes effect. Default: 600."""
    protect: NotRequired[bool]
    """Protect the account and container from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AzureArtifactStorage(PackageComponent):
    """A zone-redundant StorageV2 account for checkpoints and models: HTTPS only with TLS 1.2 or later, no
    public blob access, no shared keys (Entra ID only), public network access disabled, infrastructure double
    encryption, the site key for blobs and files, versioning and soft delete, and one private container."""

    account_id: pulumi.Output[str]
    """Resource ID of the storage account."""
    account_name: pulumi.Output[str]
    """Name of the storage account; workloads read it from AZURE_STORAGE_ACCOUNT_NAME."""
    container_id: pulumi.Output[str]
    """Resource ID of the artifact container: the scope of a workload identity's blob grant."""
    uri: pulumi.Output[str]
    """HTTPS URL of the artifact container."""
    fsspec_uri: pulumi.Output[str]
    """The container as workloads (fsspec, adlfs) address it: ``az://artifacts``."""

    _args = storage.AzureArtifactStorageArgs

    def __init__(
        self, name: str, args: AzureArtifactStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        account = storage.AzureArtifactStorage(name, built, self.start(name, opts))
        self.publish(
            SimpleNamespace(
                account_id=account.account_id,
                account_name=account.account_name,
                container_id=account.container_id,
                uri=account.uri,
                fsspec_uri=pulumi.Output.from_input(account.fsspec_uri),
            )
        )


class AzurePrivateLinkService(StrEnum):
    """The sub-resource (group ID) of a vault, registry or storage account a private endpoint connects to."""

    VAULT = private_link.PrivateLinkService.VAULT.value
    """A Key Vault."""
    REGISTRY = private_link.PrivateLinkService.REGISTRY.value
    """A container registry."""
    BLOB = private_link.PrivateLinkService.BLOB.value
    """A storage account's blob service."""


class AzurePrivateEndpointArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the endpoint and its DNS zone."""
    location: str
    """Azure region."""
    vnet_id: pulumi.Input[str]
    """VNet the private DNS zone is linked to."""
    subnet_id: pulumi.Input[str]
    """Subnet of the endpoint (an AzureNetwork's endpointSubnetId)."""
    target_id: pulumi.Input[str]
    """Resource ID of the vault, registry or storage account to reach."""
    service: AzurePrivateLinkService
    """Which of the target's sub-resources the endpoint connects to."""
    partition: NotRequired[str]
    """Azure cloud of the private DNS zone names: public, china or gov. Default: "public"."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AzurePrivateEndpoint(PackageComponent):
    """A private endpoint in the endpoints subnet and the private DNS zone, linked to the VNet, that makes the
    resource's usual host name resolve to the endpoint's private address inside the VNet."""

    endpoint_id: pulumi.Output[str]
    """Resource ID of the private endpoint."""

    _args = private_link.AzurePrivateEndpointArgs

    def __init__(
        self, name: str, args: AzurePrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(private_link.AzurePrivateEndpoint(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_choice(values, "partition", private_link.PRIVATE_DNS_ZONES)
        values["service"] = private_link.PrivateLinkService(values["service"].value)
        return super().build(values)


class AzureBuiltInRole(StrEnum):
    """Azure built-in roles a workload identity can hold on one of the site's resources, by Azure's names."""

    ACR_PULL = "AcrPull"
    """Pull images from a registry."""
    STORAGE_BLOB_DATA_CONTRIBUTOR = "Storage Blob Data Contributor"
    """Read, write and delete blobs and containers."""
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "Key Vault Crypto Service Encryption User"
    """Read key metadata, wrap and unwrap keys."""
    KEY_VAULT_CRYPTO_USER = "Key Vault Crypto User"
    """Encrypt and decrypt with keys."""
    KEY_VAULT_CONTRIBUTOR = "Key Vault Contributor"
    """Manage vaults (not their data)."""
    NETWORK_CONTRIBUTOR = "Network Contributor"
    """Manage networks."""
    READER = "Reader"
    """Read everything, change nothing."""


class AzureRoleGrant(TypedDict):
    """A built-in role on exactly one resource."""

    role: AzureBuiltInRole
    """The role."""
    scope: pulumi.Input[str]
    """Resource ID it applies to, e.g. an AzureArtifactStorage's containerId."""


class AzureWorkloadIdentityArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the identity."""
    location: str
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription of the role assignments."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL exactly as AKS reports it (an AzureAksCluster's oidcIssuerUrl)."""
    namespace: str
    """Namespace of the service account, e.g. ml."""
    service_account: str
    """Name of the service account; a TrainingJob's or InferenceService's is the workload's name."""
    grants: NotRequired[list[AzureRoleGrant]]
    """The roles the identity holds, each on one resource."""
    tags: NotRequired[dict[str, str]]
    """Tags on the identity."""


class AzureWorkloadIdentity(PackageComponent):
    """A user-assigned identity for one Kubernetes service account (Entra workload identity): it trusts only
    tokens the cluster's issuer signs for ``system:serviceaccount:<namespace>:<name>`` with the token-exchange
    audience, and holds only the ``grants`` it is given. A workload takes it through its
    ``serviceAccountAnnotations`` (``azure.workload.identity/client-id: <clientId>``) and ``podLabels``
    (``azure.workload.identity/use: "true"``)."""

    client_id: pulumi.Output[str]
    """Client ID of the identity."""
    principal_id: pulumi.Output[str]
    """Principal ID of the identity."""
    identity_id: pulumi.Output[str]
    """Resource ID of the identity."""

    _args = identity.AzureWorkloadIdentityArgs

    def __init__(
        self, name: str, args: AzureWorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(identity.AzureWorkloadIdentity(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        values["grants"] = tuple(
            identity.RoleGrant(roles.BuiltInRole[g["role"].name], g["scope"])
            for g in values.get("grants", ())
        )
        return super().build(values)


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AzureNetwork,
    AzureVaultKey,
    AzureDiskEncryptionSet,
    AzureContainerRegistry,
    AzureDefenderForContainers,
    AzureArtifactStorage,
    AzurePrivateEndpoint,
    AzureWorkloadIdentity,
]
