"""A Premium ACR, private, encrypted with the site key, that prunes what nobody tags.

The AzureContainerRegistry component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerregistry

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.cmk import KeyUserArgs, key_user
from lepton_infra.components.azure.names import global_name
from lepton_infra.components.azure.propagation import ROLE_PROPAGATION_SECONDS
from lepton_infra.validation import at, at_least, within


@dataclass(frozen=True)
class AzureContainerRegistryArgs(KeyUserArgs):
    """The inputs of an AzureContainerRegistry: where it lives and its key (the first four fields), then its
    own."""

    key_uri: pulumi.Input[str]
    """The key's versionless URI, e.g. an AzureVaultKey's ``key_uri``, so the registry follows the key's
    rotation."""
    untagged_retention_days: int = 14
    """Days an untagged manifest (a tag moved away from it) is kept before ACR deletes it: 0 to 365. Pull
    what you run by tag, or by a digest you keep tagged."""
    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    """Seconds the registry waits after its key grant before it is created, for the grant to reach Key Vault
    (Azure RBAC takes up to 10 minutes): created earlier, it fails to reach its key (``propagation.py``)."""
    zone_redundant: bool = True
    """Replicate the registry across the region's availability zones (where the region has them)."""
    protect: bool = True
    """Protect the registry from deletion by Pulumi: deleting it deletes every image in it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the registry and its key identity."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                # "The retention policy (in days) can be set to 0-365" (ACR, retention policy for untagged
                # manifests).
                *at("untagged_retention_days", within(self.untagged_retention_days, 0, 365, "days")),
                *at("role_propagation_seconds", at_least(self.role_propagation_seconds, 0, "seconds")),
            ],
        )


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
    """Resource ID of the registry: the target of its private endpoint, and the scope of AcrPull grants (an
    AzureAksCluster's ``registry_ids``)."""
    login_server: pulumi.Output[str]
    """Where images are pushed and pulled: ``<registry>.azurecr.io``."""

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
