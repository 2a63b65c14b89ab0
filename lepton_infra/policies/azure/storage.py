"""Azure storage accounts: private, TLS only, our key, blob versioning."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.joins import owners_with_parts
from lepton_infra.policies.networks import CIDR_SETTINGS, ip_rule_ranges, open_ranges
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_set, is_true
from lepton_infra.policies.view import Finding, Stack

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"


@resource_policy(
    name="azure-storage-account-disallow-public-access",
    types=(ACCOUNT,),
    severity="high",
    description="Storage accounts must forbid anonymous blob access and deny network traffic by default.",
    remediation=(
        "Set `allowBlobPublicAccess: false` and `networkRuleSet.defaultAction: Deny` (or "
        "`publicNetworkAccess: Disabled`)."
    ),
    controls=checkov("CKV_AZURE_190", "CKV_AZURE_59", "CKV_AZURE_35"),
    config=CIDR_SETTINGS,
)
def disallow_public_access(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "allowBlobPublicAccess") is not False:
        yield "anonymous blob access is not explicitly disabled (allowBlobPublicAccess)"
    if get(r.props, "publicNetworkAccess") == "Disabled":
        return
    if get(r.props, "networkRuleSet", "defaultAction") != "Deny":
        yield "the account accepts traffic from any network"
        return
    # Deny by default, but IP rules that add up to the internet admit it all the same.
    rules = as_list(get(r.props, "networkRuleSet", "ipRules"))
    if wide := open_ranges(ip_rule_ranges(rules, "iPAddressOrRange"), settings):
        yield f"the account's IP rules admit the internet: {'; '.join(wide)}"


@resource_policy(
    name="azure-storage-account-tls-only",
    types=(ACCOUNT,),
    severity="high",
    description="Storage accounts must accept HTTPS only, with TLS 1.2 or newer.",
    remediation="Leave `enableHttpsTrafficOnly: true` and set `minimumTlsVersion: TLS1_2`.",
    controls=checkov("CKV_AZURE_3", "CKV_AZURE_44"),
)
def tls_only(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "enableHttpsTrafficOnly") is False:
        yield "plain HTTP is allowed"
    if get(r.props, "minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        yield f"minimum TLS version is {get(r.props, 'minimumTlsVersion') or 'the old default'}, not TLS1_2"


@resource_policy(
    name="azure-storage-account-customer-key",
    types=(ACCOUNT,),
    severity="medium",
    description="Storage accounts must encrypt with a customer-managed Key Vault key.",
    remediation=(
        "Set `encryption: {keySource: Microsoft.Keyvault, keyVaultProperties: {keyName, keyVaultUri},"
        " encryptionIdentity: ...}`."
    ),
    controls=checkov("CKV2_AZURE_1"),
)
def customer_key(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    encryption = get(r.props, "encryption", default={})
    if str(get(encryption, "keySource", default="")).lower() != "microsoft.keyvault" or not is_set(
        encryption, "keyVaultProperties", "keyName"
    ):
        yield "the account is encrypted with Microsoft-managed keys"


@view_policy(
    name="azure-storage-account-blob-versioning",
    severity="medium",
    description="Storage accounts must keep blob versions, so an overwrite or delete can be undone.",
    remediation=(
        "Add `azure_native.storage.BlobServiceProperties` for the account with `isVersioningEnabled: true`."
    ),
)
def blob_versioning(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for account, services in owners_with_parts(
        stack, (ACCOUNT,), (BLOB_SERVICE,), "accountName", keys=("accountName", "id")
    ):
        if not any(is_true(get(s.props, "isVersioningEnabled")) for s in services):
            yield Finding("blob versioning is not enabled", account.urn)


@resource_policy(
    name="azure-storage-account-disallow-shared-key",
    types=(ACCOUNT,),
    severity="high",
    description=(
        "Storage accounts must refuse Shared Key authorization: an account key grants everything, and "
        "never expires."
    ),
    remediation="Set `allowSharedKeyAccess: false`; workloads reach the account with their Entra identity.",
    controls=checkov("CKV2_AZURE_40"),
)
def disallow_shared_key(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    # Azure allows Shared Key unless the property is false.
    if get(r.props, "allowSharedKeyAccess") is not False:
        yield "Shared Key (account key) authorization is allowed (allowSharedKeyAccess)"


POLICIES = (disallow_public_access, tls_only, customer_key, blob_versioning, disallow_shared_key)
