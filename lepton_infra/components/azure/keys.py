"""The site's Key Vault and its customer-managed key, for etcd, node disks, images and artifacts.

The AzureVaultKey component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import keyvault

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.names import global_name
from lepton_infra.validation import Problem, at, at_least, is_int

# AKS KMS encrypts and decrypts with the key; disks, registries and storage wrap and unwrap with it.
KEY_OPERATIONS = (
    keyvault.JsonWebKeyOperation.ENCRYPT,
    keyvault.JsonWebKeyOperation.DECRYPT,
    keyvault.JsonWebKeyOperation.WRAP_KEY,
    keyvault.JsonWebKeyOperation.UNWRAP_KEY,
)
# The AKS KMS plugin accepts RSA keys of 2048 bits; HSM-backed needs the vault's premium SKU.
KEY_SIZE_BITS = 2048
SOFT_DELETE_RETENTION_DAYS = 90
# Warn this long before a key version expires (Event Grid `KeyNearExpiry`), so someone sees it.
NOTIFY_BEFORE_EXPIRY_DAYS = 30


@dataclass(frozen=True)
class AzureVaultKeyArgs:
    """The inputs of an AzureVaultKey."""

    resource_group_name: pulumi.Input[str]
    """The resource group the vault goes into."""
    location: str
    """The Azure region of the vault, e.g. ``westeurope``: the cluster's."""
    tenant_id: pulumi.Input[str]
    """The Entra ID tenant that authenticates requests to the vault."""
    rotation_days: int = 180
    """Days after its creation each key version is rotated (a new version made). Less than
    ``expiry_days``, so a new version exists before the old one expires."""
    expiry_days: int = 365
    """Days each rotated key version lives; Key Vault announces its expiry 30 days before (Event Grid
    ``KeyNearExpiry``). The first version never expires: AKS KMS pins a version, and an expired one makes the
    cluster's secrets unreadable."""
    protect: bool = True
    """Protect the vault and the key from deletion by Pulumi. Soft delete and purge protection stay on
    either way: a deleted vault is recoverable for 90 days and cannot be purged before."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the vault and the key."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("rotation_days", at_least(self.rotation_days, 1, "day")),
                # "It should be at least 28 days" (Key Vault, KeyRotationPolicy.ExpiresIn); and the expiry
                # notice comes NOTIFY_BEFORE_EXPIRY_DAYS before it.
                *at("expiry_days", at_least(self.expiry_days, NOTIFY_BEFORE_EXPIRY_DAYS + 1, "days")),
                *self._rotated_before_expiry(),
            ],
        )

    def _rotated_before_expiry(self) -> list[Problem]:
        days = (self.rotation_days, self.expiry_days)
        if all(is_int(d) for d in days) and self.rotation_days >= self.expiry_days:
            return [
                Problem(
                    "rotation_days",
                    f"({self.rotation_days}) must be less than expiry_days ({self.expiry_days})",
                )
            ]
        return []


class AzureVaultKey(pulumi.ComponentResource):
    """A premium Key Vault with Azure RBAC (no access policies), soft delete and purge protection, public
    network access disabled (trusted Azure services still reach it), and one RSA-HSM key.

    The key rotates on a schedule; every rotated version expires after ``expiry_days``. The first version
    carries no expiry date: AKS KMS pins a version, and an expired KMS key version makes the cluster's
    secrets unreadable, so only rotated versions (which operators move KMS to) get one.
    """

    vault_id: pulumi.Output[str]
    """Resource ID of the vault: the scope of vault-wide grants, and what AKS KMS's private vault is."""
    vault_name: pulumi.Output[str]
    """Name of the vault (globally unique, generated from the component's name)."""
    vault_uri: pulumi.Output[str]
    """The vault's URI, ``https://<vault_name>.vault.azure.net/``: what a storage account names for its
    key."""
    key_id: pulumi.Output[str]
    """Resource ID of the key: the scope of each key user's one role assignment."""
    key_name: pulumi.Output[str]
    """Name of the key in the vault."""
    key_uri: pulumi.Output[str]
    """The key's versionless URI: disk encryption sets and registries given it follow its rotation."""
    key_uri_with_version: pulumi.Output[str]
    """The URI of the key's current version: what AKS KMS pins (move it to a rotated version explicitly)."""

    def __init__(
        self, name: str, args: AzureVaultKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:VaultKey", name, None, opts)
        vault = keyvault.Vault(
            f"{name}-vault",
            keyvault.VaultArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                vault_name=global_name(name, max_length=24),
                properties=keyvault.VaultPropertiesArgs(
                    tenant_id=args.tenant_id,
                    sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.PREMIUM),
                    enable_rbac_authorization=True,
                    enable_soft_delete=True,
                    soft_delete_retention_in_days=SOFT_DELETE_RETENTION_DAYS,
                    enable_purge_protection=True,
                    enabled_for_deployment=False,
                    enabled_for_template_deployment=False,
                    enabled_for_disk_encryption=False,
                    public_network_access="Disabled",
                    network_acls=keyvault.NetworkRuleSetArgs(
                        default_action=keyvault.NetworkRuleAction.DENY,
                        # Disk encryption sets, storage and registries reach the key as trusted services.
                        bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                    ),
                ),
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        key = keyvault.Key(
            f"{name}-key",
            keyvault.KeyArgs(
                resource_group_name=args.resource_group_name,
                vault_name=vault.name,
                key_name=f"{name}-cmk",
                properties=keyvault.KeyPropertiesArgs(
                    kty=keyvault.JsonWebKeyType.RS_A_HSM,
                    key_size=KEY_SIZE_BITS,
                    key_ops=list(KEY_OPERATIONS),
                    attributes=keyvault.KeyAttributesArgs(enabled=True, exportable=False),
                    rotation_policy=keyvault.RotationPolicyArgs(
                        attributes=keyvault.KeyRotationPolicyAttributesArgs(
                            expiry_time=f"P{args.expiry_days}D"
                        ),
                        lifetime_actions=[
                            keyvault.LifetimeActionArgs(
                                action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                                trigger=keyvault.TriggerArgs(time_after_create=f"P{args.rotation_days}D"),
                            ),
                            keyvault.LifetimeActionArgs(
                                action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                                trigger=keyvault.TriggerArgs(
                                    time_before_expiry=f"P{NOTIFY_BEFORE_EXPIRY_DAYS}D"
                                ),
                            ),
                        ],
                    ),
                ),
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.key_id = key.id
        self.key_name = key.name
        self.key_uri = key.key_uri
        self.key_uri_with_version = key.key_uri_with_version
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "key_id": self.key_id,
                "key_uri_with_version": self.key_uri_with_version,
            }
        )
