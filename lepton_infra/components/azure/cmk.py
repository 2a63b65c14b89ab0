"""The user-assigned identity a registry or storage account uses to reach its customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from lepton_infra.components.azure.roles import BuiltInRole, assign_role


@dataclass(frozen=True)
class KeyUser:
    identity: managedidentity.UserAssignedIdentity
    # The resource that owns the key must wait for this grant, or its creation fails on the first try.
    grant: authorization.RoleAssignment


def key_user(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    subscription_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> KeyUser:
    """An identity allowed to wrap and unwrap with exactly one key; it exists before its resource does,
    which is why CMK at creation needs a user-assigned identity rather than a system-assigned one."""
    identity = managedidentity.UserAssignedIdentity(
        name,
        managedidentity.UserAssignedIdentityArgs(
            resource_group_name=resource_group_name, location=location, tags=dict(tags)
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    grant = assign_role(
        f"{name}-key-access",
        role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        principal_id=identity.principal_id,
        scope=key_id,
        subscription_id=subscription_id,
        parent=parent,
    )
    return KeyUser(identity, grant)
