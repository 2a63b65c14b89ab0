"""The storage account and container for checkpoints and models, private, CMK-encrypted.

The AzureArtifactStorage component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import storage

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.cmk import KeyUserArgs, key_user
from lepton_infra.components.azure.names import global_name
from lepton_infra.components.azure.propagation import ROLE_PROPAGATION_SECONDS
from lepton_infra.validation import at, at_least, within

ARTIFACT_CONTAINER = "artifacts"


@dataclass(frozen=True)
class AzureArtifactStorageArgs(KeyUserArgs):
    """The inputs of an AzureArtifactStorage: where it lives and its key (the first four fields), then its
    own."""

    vault_uri: pulumi.Input[str]
    """URI of the vault that holds the key, e.g. an AzureVaultKey's ``vault_uri``."""
    key_name: pulumi.Input[str]
    """Name of the key in that vault (an AzureVaultKey's ``key_name``); no version, so the account follows
    the key's rotation."""
    soft_delete_days: int = 30
    """Days deleted blobs and containers, and overwritten blob versions, stay recoverable: 1 to 365."""
    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    """Seconds the account waits after its key grant before it is created, for the grant to reach Key Vault
    (Azure RBAC takes up to 10 minutes): created earlier, it fails to reach its key (``propagation.py``)."""
    protect: bool = True
    """Protect the account and the artifacts container from deletion by Pulumi: deleting either deletes
    every checkpoint and model in it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the account and its key identity."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                # "The minimum specified value can be 1 and the maximum value can be 365" (Azure Storage,
                # DeleteRetentionPolicy.days).
                *at("soft_delete_days", within(self.soft_delete_days, 1, 365, "days")),
                *at("role_propagation_seconds", at_least(self.role_propagation_seconds, 0, "seconds")),
            ],
        )


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
    """Resource ID of the storage account: the scope of a workload identity's blob grant, and the target of
    its private endpoint."""
    account_name: pulumi.Output[str]
    """Name of the storage account (globally unique, generated): what fsspec (adlfs) needs besides the URI,
    in ``AZURE_STORAGE_ACCOUNT_NAME``."""
    container_id: pulumi.Output[str]
    """Resource ID of the artifacts container."""
    uri: pulumi.Output[str]
    """The artifacts container's URL, ``https://<account_name>.blob.core.windows.net/artifacts``, for any
    Azure SDK or tool."""
    fsspec_uri: str
    """The same container as fsspec (adlfs) and the trainer address it: ``az://artifacts``, a plain string.
    It names no account: pods get ``AZURE_STORAGE_ACCOUNT_NAME`` (``account_name``) beside it, as the Azure
    site's ``artifact_env`` does."""

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
