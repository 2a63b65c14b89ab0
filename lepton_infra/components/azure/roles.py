"""Azure built-in roles by their documented IDs, and role assignments scoped to one resource.

Every ID is the one Microsoft documents on https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
(per category: /containers, /storage, /security, /networking, /general); a test pins each of them.
"""

from __future__ import annotations

from enum import StrEnum

import pulumi
from pulumi_azure_native import authorization


class BuiltInRole(StrEnum):
    """The Azure built-in roles the platform grants, by their role definition IDs."""

    ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    """AcrPull (built-in-roles/containers#acrpull): pull images from a registry."""
    STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    """Storage Blob Data Contributor (built-in-roles/storage): read, write and delete blobs and
    containers."""
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    """Key Vault Crypto Service Encryption User (built-in-roles/security): read key metadata, wrap and unwrap
    (what disk encryption sets, registries and storage accounts need for customer-managed keys)."""
    KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
    """Key Vault Crypto User (built-in-roles/security): encrypt and decrypt (the AKS KMS plugin)."""
    KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
    """Key Vault Contributor (built-in-roles/security): manage vaults, not their data; AKS needs it on a
    private vault to create the private endpoint its KMS plugin uses."""
    NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
    """Network Contributor (built-in-roles/networking): AKS joins nodes and the API server to our subnets."""
    READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    """Reader (built-in-roles/general): AKS reads the disk encryption set it puts on node OS disks."""


def role_definition_id(subscription_id: pulumi.Input[str], role: BuiltInRole) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role.value
    )


def assign_role(
    name: str,
    *,
    role: BuiltInRole,
    principal_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> authorization.RoleAssignment:
    """Grant ``role`` to a managed identity (a service principal) on exactly ``scope``, one of ours."""
    return authorization.RoleAssignment(
        name,
        authorization.RoleAssignmentArgs(
            principal_id=principal_id,
            # Naming the principal type skips the directory lookup that fails for brand-new identities.
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(subscription_id, role),
            scope=scope,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
