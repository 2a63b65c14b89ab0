"""A Premium ACR, private, encrypted with the site key, that prunes what nobody tags.

The AzureContainerRegistry component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerregistry

from lepton_infra.components.azure.cmk import KeyUserArgs, key_user
from lepton_infra.components.azure.names import global_name
from lepton_infra.components.azure.propagation import ROLE_PROPAGATION_SECONDS


@dataclass(frozen=True)
class AzureContainerRegistryArgs(KeyUserArgs):
    # Versionless, so the registry follows the key's rotation.
    key_uri: pulumi.Input[str]
    untagged_retention_days: int = 14
    # Seconds the resource waits after its key grant before it is created (``propagation``).
    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    zone_redundant: bool = True
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureContainerRegistry(pulumi.ComponentResource):
    """An ACR Premium registry: no admin user, no anonymous pull, public network access disabled (reach it
    through a private endpoint), export disabled (images cannot be copied out), customer-managed key, and
    untagged manifests deleted after ``untagged_retention_days``.

    Repositories need no resource: ACR creates them on the first push.

    The key is reached through a user-assigned identity, as ACR requires for CMK at creation, in a vault
    whose public access is off and whose firewall lets trusted Azure services through: ACR's documented
    recipe ("If the key vault is in protection with a firewall or virtual network (private endpoint), you
    must enable the network setting to allow access by trusted Azure services",
    https://learn.microsoft.com/azure/container-registry/tutorial-enable-customer-managed-keys; ACR CMK is
    in Key Vault's trusted-services list). The reports of "Client address is not authorized and caller is
    not a trusted service" (MicrosoftDocs/azure-docs#61015, #61064, #75970) predate July 2021, when ACR
    stopped requiring a system identity for the bypass and the article dropped that sentence; the
    create-then-rotate-to-system-identity workaround they describe is no longer needed. What still fails
    the same way is a grant that has not propagated yet, hence the wait before the registry.
    """

    registry_id: pulumi.Output[str]
    login_server: pulumi.Output[str]

    def __init__(
        self, name: str, args: AzureContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:ContainerRegistry", name, None, opts)
        user = key_user(
            f"{name}-cmk", args, args.tags, parent=self, wait_seconds=args.role_propagation_seconds
        )
        enabled = containerregistry.PolicyStatus.ENABLED
        registry = containerregistry.Registry(
            f"{name}-acr",
            containerregistry.RegistryArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                registry_name=global_name(name, max_length=50, alphanumeric=True),
                sku=containerregistry.SkuArgs(name=containerregistry.SkuName.PREMIUM),
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                public_network_access=containerregistry.PublicNetworkAccess.DISABLED,
                network_rule_bypass_options=containerregistry.NetworkRuleBypassOptions.NONE,
                zone_redundancy=containerregistry.ZoneRedundancy.ENABLED
                if args.zone_redundant
                else containerregistry.ZoneRedundancy.DISABLED,
                identity=containerregistry.IdentityPropertiesArgs(
                    type=containerregistry.ResourceIdentityType.USER_ASSIGNED,
                    # Keyed by the identity's resource ID, which exists only once the identity does.
                    user_assigned_identities=user.identity.id.apply(
                        lambda identity_id: {identity_id: containerregistry.UserIdentityPropertiesArgs()}
                    ),
                ),
                encryption=containerregistry.EncryptionPropertyArgs(
                    status=containerregistry.EncryptionStatus.ENABLED,
                    key_vault_properties=containerregistry.KeyVaultPropertiesArgs(
                        key_identifier=args.key_uri, identity=user.identity.client_id
                    ),
                ),
                policies=containerregistry.PoliciesArgs(
                    retention_policy=containerregistry.RetentionPolicyArgs(
                        status=enabled, days=args.untagged_retention_days
                    ),
                    export_policy=containerregistry.ExportPolicyArgs(
                        status=containerregistry.ExportPolicyStatus.DISABLED
                    ),
                ),
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[user.ready]),
        )
        self.registry_id = registry.id
        self.login_server = registry.login_server
        self.register_outputs({"registry_id": self.registry_id, "login_server": self.login_server})
