"""AzureDiskEncryptionSet: node OS and data disks encrypted with the site key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, compute

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.roles import BuiltInRole, assign_role


@dataclass(frozen=True)
class AzureDiskEncryptionSetArgs:
    """The inputs of an AzureDiskEncryptionSet."""

    resource_group_name: pulumi.Input[str]
    """The resource group the disk encryption set goes into."""
    location: str
    """The Azure region, e.g. ``westeurope``: the cluster's and the vault's."""
    subscription_id: pulumi.Input[str]
    """The subscription the key grant is made in."""
    vault_id: pulumi.Input[str]
    """Resource ID of the vault that holds the key (an AzureVaultKey's ``vault_id``)."""
    key_id: pulumi.Input[str]
    """Resource ID of the key (an AzureVaultKey's ``key_id``): the scope of the set's one role assignment."""
    key_uri: pulumi.Input[str]
    """The key's versionless URI (an AzureVaultKey's ``key_uri``): the set follows the key to its latest
    version."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the disk encryption set."""

    def __post_init__(self) -> None:
        refuse_args(self)


class AzureDiskEncryptionSet(pulumi.ComponentResource):
    """A disk encryption set with customer-managed keys that follows the key to its latest version, and
    its identity granted Key Vault Crypto Service Encryption User on that one key."""

    des_id: pulumi.Output[str]
    """Resource ID of the disk encryption set: an AzureAksCluster's ``disk_encryption_set_id``."""
    principal_id: pulumi.Output[str]
    """Object ID of the set's system-assigned identity, the one that holds the key grant."""
    key_grant: authorization.RoleAssignment
    """The set's grant on the key. Node disks cannot be created before it works: give it to the cluster's
    ``prerequisite_grants``, which waits for it and for its propagation."""

    def __init__(
        self, name: str, args: AzureDiskEncryptionSetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:DiskEncryptionSet", name, None, opts)
        des = compute.DiskEncryptionSet(
            f"{name}-des",
            compute.DiskEncryptionSetArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                encryption_type=compute.DiskEncryptionSetType.ENCRYPTION_AT_REST_WITH_CUSTOMER_KEY,
                identity=compute.EncryptionSetIdentityArgs(
                    type=compute.DiskEncryptionSetIdentityType.SYSTEM_ASSIGNED
                ),
                active_key=compute.KeyForDiskEncryptionSetArgs(
                    key_url=args.key_uri, source_vault=compute.SourceVaultArgs(id=args.vault_id)
                ),
                rotation_to_latest_key_version_enabled=True,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        principal_id = des.identity.apply(
            lambda identity: (identity.principal_id if identity else None) or ""
        )
        self.key_grant = assign_role(
            f"{name}-key-access",
            role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            principal_id=principal_id,
            scope=args.key_id,
            subscription_id=args.subscription_id,
            parent=self,
        )
        self.des_id = des.id
        self.principal_id = principal_id
        self.register_outputs({"des_id": self.des_id, "principal_id": self.principal_id})
