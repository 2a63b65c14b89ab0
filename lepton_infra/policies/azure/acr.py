"""Azure Container Registry: no admin user, no anonymous pull, not public, our key."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.networks import CIDR_SETTINGS, ip_rule_ranges, open_ranges
from lepton_infra.policies.rule import Outcome, Subject, checkov, cis_aks, resource_policy, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_set, is_true
from lepton_infra.policies.view import Finding, Resource, Stack

REGISTRY = "azure-native:containerregistry:Registry"


@resource_policy(
    name="azure-acr-disallow-admin-user-and-anonymous-pull",
    types=(REGISTRY,),
    severity="high",
    description=(
        "ACR must not enable the shared admin user or anonymous pull; pulls go through Entra identities."
    ),
    remediation=(
        "Set `adminUserEnabled: false` and `anonymousPullEnabled: false`; grant AcrPull to the "
        "kubelet identity."
    ),
    controls=(*cis_aks("5.1.2"), *checkov("CKV_AZURE_137", "CKV_AZURE_138")),
)
def disallow_admin_and_anonymous(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if is_true(get(r.props, "adminUserEnabled")):
        yield "the admin user is enabled"
    if is_true(get(r.props, "anonymousPullEnabled")):
        yield "anonymous pull is enabled"


@resource_policy(
    name="azure-acr-disallow-public-network",
    types=(REGISTRY,),
    severity="medium",
    description="ACR must not accept traffic from the whole internet.",
    remediation=(
        "Set `publicNetworkAccess: Disabled` (private endpoint) or `networkRuleSet.defaultAction: "
        "Deny` with IP rules."
    ),
    controls=checkov("CKV_AZURE_139"),
    config=CIDR_SETTINGS,
)
def disallow_public_network(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "publicNetworkAccess") == "Disabled":
        return
    if get(r.props, "networkRuleSet", "defaultAction") != "Deny":
        yield "the registry is reachable from any network"
        return
    # Deny by default, but IP rules that add up to the internet admit it all the same.
    rules = as_list(get(r.props, "networkRuleSet", "ipRules"))
    if wide := open_ranges(ip_rule_ranges(rules, "iPAddressOrRange"), settings):
        yield f"the registry's IP rules admit the internet: {'; '.join(wide)}"


@resource_policy(
    name="azure-acr-customer-key",
    types=(REGISTRY,),
    severity="medium",
    description="ACR must encrypt images with a customer-managed Key Vault key.",
    remediation=(
        "Set `encryption: {status: enabled, keyVaultProperties: {keyIdentifier, identity}}` (Premium SKU)."
    ),
)
def customer_key(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    encryption = get(r.props, "encryption", default={})
    if str(get(encryption, "status", default="")).lower() != "enabled" or not is_set(
        encryption, "keyVaultProperties", "keyIdentifier"
    ):
        yield "the registry is not encrypted with a customer-managed key"


PRICING = "azure-native:security:Pricing"
# Defender for Containers scans ACR images (the older "ContainerRegistry" plan did too)
# (https://learn.microsoft.com/azure/defender-for-cloud/defender-for-containers-introduction).
_SCANNING_PLANS = frozenset({"containers", "containerregistry"})


def _scans(pricing: Resource) -> bool:
    name = str(get(pricing.props, "pricingName", default=pricing.name)).lower()
    return name in _SCANNING_PLANS and str(get(pricing.props, "pricingTier")).lower() == "standard"


@view_policy(
    name="azure-acr-vulnerability-scanning",
    severity="medium",
    description=(
        "Images in ACR must be scanned for vulnerabilities: Defender for Containers on the subscription."
    ),
    remediation=(
        "Add an `azure_native.security.Pricing` named `Containers` with `pricingTier: Standard` on the "
        "registry's subscription."
    ),
    controls=(*cis_aks("5.1.1"), *checkov("CKV_AZURE_163", "CKV_AZURE_86")),
)
def vulnerability_scanning(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    if any(_scans(p) for p in stack.of_type(PRICING)):
        return
    for registry in stack.of_type(REGISTRY):
        yield Finding("no Defender for Containers plan scans the registry's images", registry.urn)


POLICIES = (disallow_admin_and_anonymous, disallow_public_network, customer_key, vulnerability_scanning)
