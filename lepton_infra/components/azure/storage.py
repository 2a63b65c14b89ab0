"""The storage account and container for checkpoints and models, private, CMK-encrypted.

The AzureArtifactStorage component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import storage

from lepton_infra.components.azure.cmk import KeyUserArgs, key_user
from lepton_infra.components.azure.names import global_name
from lepton_infra.components.azure.propagation import ROLE_PROPAGATION_SECONDS

ARTIFACT_CONTAINER = "artifacts"


@dataclass(frozen=True)
class AzureArtifactStorageArgs(KeyUserArgs):
    vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    # Deleted blobs, containers and overwritten versions stay recoverable this long.
    soft_delete_days: int = 30
    # Seconds the resource waits after its key grant before it is created (``propagation``).
    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureArtifactStorage(pulumi.ComponentResource):
    """A zone-redundant StorageV2 account: HTTPS only with TLS 1.2 or later, no public blob access, no
    shared keys (Entra ID only, so workload identities are the way in), public network access disabled,
    infrastructure double encryption, the site key for blobs and files, blob versioning and soft delete,
    and one private container for artifacts.

    The key is reached as ACR reaches it (``registry``): a user-assigned identity, which a new account must
    use for CMK, through the vault's trusted-services exception (Azure Storage is in Key Vault's list),
    created only once the identity's grant has had time to propagate.
    """

    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    container_id: pulumi.Output[str]
    uri: pulumi.Output[str]
    fsspec_uri: str

    def __init__(
        self, name: str, args: AzureArtifactStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:ArtifactStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        user = key_user(
            f"{name}-cmk", args, args.tags, parent=self, wait_seconds=args.role_propagation_seconds
        )
        account_key = storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT)
        account = storage.StorageAccount(
            f"{name}-account",
            storage.StorageAccountArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                account_name=global_name(name, max_length=24, alphanumeric=True),
                kind=storage.Kind.STORAGE_V2,
                sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS),
                enable_https_traffic_only=True,
                minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
                allow_blob_public_access=False,
                allow_shared_key_access=False,
                default_to_o_auth_authentication=True,
                allow_cross_tenant_replication=False,
                allowed_copy_scope=storage.AllowedCopyScope.PRIVATE_LINK,
                public_network_access=storage.PublicNetworkAccess.DISABLED,
                network_rule_set=storage.NetworkRuleSetArgs(
                    default_action=storage.DefaultAction.DENY, bypass=storage.Bypass.AZURE_SERVICES
                ),
                identity=storage.IdentityArgs(
                    type=storage.IdentityType.USER_ASSIGNED, user_assigned_identities=[user.identity.id]
                ),
                encryption=storage.EncryptionArgs(
                    key_source=storage.KeySource.MICROSOFT_KEYVAULT,
                    key_vault_properties=storage.KeyVaultPropertiesArgs(
                        key_vault_uri=args.vault_uri, key_name=args.key_name
                    ),
                    encryption_identity=storage.EncryptionIdentityArgs(
                        encryption_user_assigned_identity=user.identity.id
                    ),
                    require_infrastructure_encryption=True,
                    services=storage.EncryptionServicesArgs(blob=account_key, file=account_key),
                ),
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[user.ready]),
        )
        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=args.soft_delete_days)
        storage.BlobServiceProperties(
            f"{name}-blob",
            storage.BlobServicePropertiesArgs(
                resource_group_name=args.resource_group_name,
                account_name=account.name,
                blob_services_name="default",
                is_versioning_enabled=True,
                delete_retention_policy=retention,
                container_delete_retention_policy=retention,
            ),
            opts=child,
        )
        container = storage.BlobContainer(
            f"{name}-{ARTIFACT_CONTAINER}",
            storage.BlobContainerArgs(
                resource_group_name=args.resource_group_name,
                account_name=account.name,
                container_name=ARTIFACT_CONTAINER,
                public_access=storage.PublicAccess.NONE,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.account_id = account.id
        self.account_name = account.name
        self.container_id = container.id
        # The container's URL (https://<account>.blob.<cloud suffix>/artifacts), for any Azure SDK or fsspec.
        blob_endpoint = account.primary_endpoints.apply(lambda endpoints: endpoints.blob.rstrip("/"))
        self.uri = pulumi.Output.concat(blob_endpoint, "/", ARTIFACT_CONTAINER)
        # The same container as fsspec (adlfs) names it; the account comes from AZURE_STORAGE_ACCOUNT_NAME.
        self.fsspec_uri = f"az://{ARTIFACT_CONTAINER}"
        self.register_outputs({"account_id": self.account_id, "uri": self.uri})
