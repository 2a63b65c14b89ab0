"""Azure Key Vault: keys rotate; vaults and keys cannot be purged or deleted by accident."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.networks import CIDR_SETTINGS, ip_rule_ranges, open_ranges
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get

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
def key_rotation(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
    controls=checkov("CKV_AZURE_42", "CKV_AZURE_110", "CKV_AZURE_111"),
)
def deletion_protected(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
    description=(
        "Key Vaults must not accept traffic from the internet: a private endpoint or a deny-by-default "
        "firewall."
    ),
    remediation=(
        "Set `properties.publicNetworkAccess: Disabled` (reach it through a private endpoint) or "
        "`properties.networkAcls.defaultAction: Deny` with the allowed networks."
    ),
    controls=checkov("CKV_AZURE_109", "CKV_AZURE_189"),
    config=CIDR_SETTINGS,
)
def disallow_public_network(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if str(get(r.props, "properties", "publicNetworkAccess", default="Enabled")).lower() == "disabled":
        return
    if get(r.props, "properties", "networkAcls", "defaultAction") != "Deny":
        yield "the vault accepts traffic from any network"
        return
    # Deny by default, but IP rules that add up to the internet admit it all the same.
    rules = as_list(get(r.props, "properties", "networkAcls", "ipRules"))
    if wide := open_ranges(ip_rule_ranges(rules, "value"), settings):
        yield f"the vault's IP rules admit the internet: {'; '.join(wide)}"


POLICIES = (key_rotation, deletion_protected, disallow_public_network)
