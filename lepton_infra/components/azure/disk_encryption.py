"""AzureDiskEncryptionSet: node OS and data disks encrypted with the site key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, compute

from lepton_infra.components.azure.roles import BuiltInRole, assign_role


@dataclass(frozen=True)
class AzureDiskEncryptionSetArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    # The key's resource ID (the role's scope) and its versionless URI (so rotation is followed).
    key_id: pulumi.Input[str]
    key_uri: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureDiskEncryptionSet(pulumi.ComponentResource):
    """A disk encryption set with customer-managed keys that follows the key to its latest version, and
    its identity granted Key Vault Crypto Service Encryption User on that one key."""

    des_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    # Node disks cannot be created before this grant works: the cluster waits for it (and its propagation).
    key_grant: authorization.RoleAssignment

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
