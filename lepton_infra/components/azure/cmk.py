"""The user-assigned identity a registry or storage account uses to reach its customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from lepton_infra.components.azure.propagation import after_role_assignments
from lepton_infra.components.azure.roles import BuiltInRole, assign_role


@dataclass(frozen=True)
class KeyUserArgs:
    """Where a resource that encrypts with the site key through its own identity lives, and which key: the
    first fields of every such component's Args (registry, artifact storage)."""

    resource_group_name: pulumi.Input[str]
    """The resource group the resource and its key identity go into."""
    location: str
    """The Azure region of the resource, e.g. ``westeurope``: the key vault's."""
    subscription_id: pulumi.Input[str]
    """The subscription the role assignment is made in (its role definition IDs are scoped to it)."""
    key_id: pulumi.Input[str]
    """Resource ID of the key, e.g. an AzureVaultKey's ``key_id``: the scope of the identity's one role
    assignment (Key Vault Crypto Service Encryption User), so it can wrap and unwrap with this key only."""


@dataclass(frozen=True)
class KeyUser:
    identity: managedidentity.UserAssignedIdentity
    grant: authorization.RoleAssignment
    # The resource that encrypts with the key waits for this: the grant, and its propagation after it.
    ready: pulumi.Resource


def key_user(
    name: str, args: KeyUserArgs, tags: Mapping[str, str], parent: pulumi.Resource, wait_seconds: int
) -> KeyUser:
    """An identity allowed to wrap and unwrap with exactly one key; it exists before its resource does,
    which is why CMK at creation needs a user-assigned identity rather than a system-assigned one (ACR:
    https://learn.microsoft.com/azure/container-registry/tutorial-enable-customer-managed-keys; Storage:
    "You must use an existing user-assigned managed identity to authorize access to the key vault when you
    configure customer-managed keys while creating the storage account",
    https://learn.microsoft.com/azure/storage/common/customer-managed-keys-configure-new-account).
    The resource waits ``wait_seconds`` after the grant for it to propagate (``propagation``)."""
    identity = managedidentity.UserAssignedIdentity(
        name,
        managedidentity.UserAssignedIdentityArgs(
            resource_group_name=args.resource_group_name, location=args.location, tags=dict(tags)
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    grant = assign_role(
        f"{name}-key-access",
        role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        principal_id=identity.principal_id,
        scope=args.key_id,
        subscription_id=args.subscription_id,
        parent=parent,
    )
    ready = after_role_assignments(f"{name}-propagation", [grant], wait_seconds, parent)
    return KeyUser(identity, grant, ready)
