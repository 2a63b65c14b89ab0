"""Azure Key Vault: keys rotate; vaults and keys cannot be purged or deleted by accident."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.networks import CIDR_SETTINGS, open_ranges
from lepton_infra.policies.props import as_list, get
from lepton_infra.policies.rule import Subject, checkov, resource_policy

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"


@resource_policy(
    name="azure-keyvault-key-rotation-enabled",
    types=(KEY,),
    severity="high",
    description="Key Vault keys must carry a rotation policy that rotates them automatically.",
    remediation=(
        "Set `properties.rotationPolicy.lifetimeActions: [{action: {type: rotate}, trigger: "
        "{timeAfterCreate: P90D}}]`."
    ),
)
def key_rotation(r: Subject) -> Iterator[str]:
    actions = as_list(get(r.props, "properties", "rotationPolicy", "lifetimeActions"))
    if not any(str(get(a, "action", "type", default="")).lower() == "rotate" for a in actions):
        yield "the key has no automatic rotation (rotationPolicy lifetime action `rotate`)"


@resource_policy(
    name="azure-keyvault-deletion-protected",
    types=(VAULT, KEY),
    severity="high",
    description="Vaults need soft delete and purge protection, and vaults and keys `protect` in Pulumi.",
    remediation=(
        "Set `properties.enablePurgeProtection: true` (soft delete stays on) and create with "
        "`ResourceOptions(protect=True)`."
    ),
    controls=checkov("CKV_AZURE_42", "CKV_AZURE_110"),
)
def deletion_protected(r: Subject) -> Iterator[str]:
    if not r.protect:
        yield "the resource is not protected (`protect=True`) against deletion"
    if r.type == VAULT:
        if get(r.props, "properties", "enablePurgeProtection") is not True:
            yield "purge protection is off"
        if get(r.props, "properties", "enableSoftDelete") is False:
            yield "soft delete is off"


@resource_policy(
    name="azure-keyvault-disallow-public-network",
    types=(VAULT,),
    severity="high",
    description="Key Vaults must not accept traffic from the internet: no public access, or deny by default "
    "with IP rules that name networks.",
    remediation=(
        "Set `properties.publicNetworkAccess: Disabled` (trusted services still reach the key through "
        "`networkAcls.bypass: AzureServices`), or `networkAcls.defaultAction: Deny` with narrow `ipRules`."
    ),
    config=CIDR_SETTINGS,
)
# Azure Policy built-in "Configure key vaults to enable firewall" (ac673a9a-f77d-4846-b2d8-a57f8e1c01dc)
# requires networkAcls.defaultAction Deny; IP rules that add up to the internet undo it.
def disallow_public_network(r: Subject) -> Iterator[str]:
    properties = get(r.props, "properties", default={})
    if str(get(properties, "publicNetworkAccess", default="")).lower() == "disabled":
        return
    acls = get(properties, "networkAcls", default={})
    if str(get(acls, "defaultAction", default="Allow")).lower() != "deny":
        yield "the vault accepts traffic from any network (publicNetworkAccess enabled, defaultAction Allow)"
        return
    ranges = [get(rule, "value") for rule in as_list(get(acls, "ipRules"))]
    if wide := open_ranges([c for c in ranges if c is not None], r.settings):
        yield f"the vault's IP rules admit the internet: {'; '.join(wide)}"


POLICIES = (key_rotation, deletion_protected, disallow_public_network)
