"""The user-assigned identity a registry or storage account uses to reach its customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from lepton_infra.components.azure.roles import BuiltInRole, assign_role


@dataclass(frozen=True)
class KeyUserArgs:
    """Where a resource that encrypts with the site key through its own identity lives, and which key: the
    first fields of every such component's Args (registry, artifact storage)."""

    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: pulumi.Input[str]
    # The key's resource ID: the scope of the identity's one role assignment.
    key_id: pulumi.Input[str]


@dataclass(frozen=True)
class KeyUser:
    identity: managedidentity.UserAssignedIdentity
    # The resource that owns the key must wait for this grant, or its creation fails on the first try.
    grant: authorization.RoleAssignment


def key_user(name: str, args: KeyUserArgs, tags: Mapping[str, str], parent: pulumi.Resource) -> KeyUser:
    """An identity allowed to wrap and unwrap with exactly one key; it exists before its resource does,
    which is why CMK at creation needs a user-assigned identity rather than a system-assigned one."""
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
    return KeyUser(identity, grant)
