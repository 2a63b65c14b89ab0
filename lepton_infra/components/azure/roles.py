"""Azure built-in roles by their documented IDs, and role assignments scoped to one resource.

Every ID is the one Microsoft documents on https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
(per category: /containers, /storage, /security, /networking, /general); a test pins each of them.
"""

from __future__ import annotations

from enum import StrEnum

import pulumi
from pulumi_azure_native import authorization


class BuiltInRole(StrEnum):
    # built-in-roles/containers#acrpull: pull images from a registry.
    ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    # built-in-roles/storage#storage-blob-data-contributor: read, write and delete blobs and containers.
    STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    # built-in-roles/security#key-vault-crypto-service-encryption-user: read key metadata, wrap and unwrap
    # (what disk encryption sets, registries and storage accounts need for customer-managed keys).
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    # built-in-roles/security#key-vault-crypto-user: encrypt and decrypt (the AKS KMS plugin).
    KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
    # built-in-roles/security#key-vault-contributor: manage vaults (not data); AKS needs it on a private
    # vault to create the private endpoint its KMS plugin uses.
    KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
    # built-in-roles/networking#network-contributor: AKS joins nodes and the API server to our subnets.
    NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
    # built-in-roles/general#reader: AKS reads the disk encryption set it puts on node OS disks.
    READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


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
