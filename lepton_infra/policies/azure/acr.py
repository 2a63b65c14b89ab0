"""Azure Container Registry: no admin user, no anonymous pull, not public, our key."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.governance import site_of
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
# Registry images are assessed "when Registry access is enabled for the Defender for Cloud Security Posture
# Management or Defender for Containers plans"
# (https://docs.azure.cn/en-us/defender-for-cloud/defender-for-container-registries-usage): the extension
# below on either plan. The older "ContainerRegistry" plan (Defender for container registries) scanned
# without extensions.
_EXTENSION_PLANS = frozenset({"containers", "cloudposture"})
_LEGACY_PLAN = "containerregistry"
REGISTRY_SCANNING = "ContainerRegistriesVulnerabilityAssessments"


def _scans(pricing: Resource) -> bool:
    name = str(get(pricing.props, "pricingName", default=pricing.name)).lower()
    if str(get(pricing.props, "pricingTier")).lower() != "standard":
        return False
    if name == _LEGACY_PLAN:
        return True
    # A plan's PUT leaves the extensions it does not name as they were (which is why
    # hashicorp/terraform-provider-azurerm#22997 turns those off explicitly): only a named one is certain.
    extensions = as_list(get(pricing.props, "extensions"))
    return name in _EXTENSION_PLANS and any(
        get(e, "name") == REGISTRY_SCANNING and is_true(get(e, "isEnabled")) for e in extensions
    )


@view_policy(
    name="azure-acr-vulnerability-scanning",
    severity="medium",
    description=(
        "Images in ACR must be scanned for vulnerabilities: Defender for Containers on the subscription."
    ),
    remediation=(
        "Set `defender_for_containers: true` on one Azure site (an `azure_native.security.Pricing` "
        "`Containers`, tier Standard, extension ContainerRegistriesVulnerabilityAssessments enabled); where "
        "a central team manages Defender on the subscription, list the site in the pack config "
        "`external_defender`."
    ),
    controls=(*cis_aks("5.1.1"), *checkov("CKV_AZURE_163", "CKV_AZURE_86")),
    config=("externalDefender",),
)
def vulnerability_scanning(stack: Stack, settings: PolicySettings) -> Iterator[Finding]:
    if any(_scans(p) for p in stack.of_type(PRICING)):
        return
    for registry in stack.of_type(REGISTRY):
        if site_of(stack, registry) in settings.external_defender:
            continue
        yield Finding(
            "no Defender for Containers plan scans the registry's images (tier Standard with "
            f"{REGISTRY_SCANNING} enabled)",
            registry.urn,
        )


POLICIES = (disallow_admin_and_anonymous, disallow_public_network, customer_key, vulnerability_scanning)
