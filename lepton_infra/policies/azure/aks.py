"""Azure Kubernetes Service: private API, secrets under our Key Vault key, audit logs, hardened node pools."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from lepton_infra.policies.joins import owners_with_parts
from lepton_infra.policies.networks import CIDR_SETTINGS, api_allowlist_problems
from lepton_infra.policies.props import as_list, get, is_set, is_true
from lepton_infra.policies.rule import Subject, checkov, cis_aks, resource_policy, stack_policy
from lepton_infra.policies.settings import PolicySettings

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
_AUDIT_CATEGORIES = frozenset({"kube-audit", "kube-audit-admin"})
_AUDIT_GROUPS = frozenset({"audit", "alllogs"})


@resource_policy(
    name="azure-aks-cluster-disallow-public-endpoint",
    types=(CLUSTER,),
    severity="high",
    description="The AKS API server must be private, or public only to authorized IP ranges.",
    remediation=(
        "Set `apiServerAccessProfile.enablePrivateCluster: true`, or list the admin networks in "
        "`apiServerAccessProfile.authorizedIPRanges`."
    ),
    controls=(cis_aks("5.4.1"), cis_aks("5.4.2"), *checkov("CKV_AZURE_6", "CKV_AZURE_115")),
    config=("allowedApiCidrs", *CIDR_SETTINGS),
)
def disallow_public_endpoint(r: Subject) -> Iterator[str]:
    access = get(r.props, "apiServerAccessProfile", default={})
    if is_true(get(access, "enablePrivateCluster")) or get(r.props, "publicNetworkAccess") == "Disabled":
        return
    yield from api_allowlist_problems(
        as_list(get(access, "authorizedIPRanges")), r.settings.allowed_api_cidrs, r.settings
    )


@resource_policy(
    name="azure-aks-cluster-secrets-encrypted",
    types=(CLUSTER,),
    severity="high",
    description=(
        "AKS must encrypt Kubernetes secrets with a customer-managed Key Vault key (KMS etcd encryption)."
    ),
    remediation="Set `securityProfile.azureKeyVaultKms: {enabled: true, keyId: <key URI with version>}`.",
    controls=(cis_aks("5.3.1"),),
)
def secrets_encrypted(r: Subject) -> Iterator[str]:
    kms = get(r.props, "securityProfile", "azureKeyVaultKms", default={})
    if not is_true(get(kms, "enabled")) or not is_set(kms, "keyId"):
        yield "secrets are not encrypted with a Key Vault key (securityProfile.azureKeyVaultKms)"


def _pools(r: Subject) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if r.type == AGENT_POOL:
        yield str(get(r.props, "agentPoolName", default=r.name)), r.props
    for pool in as_list(get(r.props, "agentPoolProfiles")):
        yield str(get(pool, "name")), pool


@resource_policy(
    name="azure-aks-node-disallow-public-ip",
    types=(CLUSTER, AGENT_POOL),
    severity="high",
    description="AKS nodes must not get public IP addresses.",
    remediation="Set `enableNodePublicIP: false` on every agent pool.",
    controls=(cis_aks("5.4.3"), *checkov("CKV_AZURE_143")),
)
def disallow_node_public_ip(r: Subject) -> Iterator[str]:
    for name, pool in _pools(r):
        if is_true(get(pool, "enableNodePublicIP")):
            yield f"agent pool {name!r} gives nodes public IPs"


@resource_policy(
    name="azure-aks-node-encrypted-disks",
    types=(CLUSTER, AGENT_POOL),
    severity="high",
    description=(
        "AKS node disks must be encrypted at host, and the cluster's disks with our disk encryption set."
    ),
    remediation=(
        "Set `enableEncryptionAtHost: true` on every agent pool and `diskEncryptionSetID` on the cluster."
    ),
    controls=checkov("CKV_AZURE_227", "CKV_AZURE_117"),
)
def node_encrypted_disks(r: Subject) -> Iterator[str]:
    if r.type == CLUSTER and not is_set(r.props, "diskEncryptionSetID"):
        yield "the cluster's disks use platform keys (no diskEncryptionSetID)"
    for name, pool in _pools(r):
        if not is_true(get(pool, "enableEncryptionAtHost")):
            yield f"agent pool {name!r} does not encrypt at host"


def _audits(setting: PolicyResource) -> bool:
    for log in as_list(get(setting.props, "logs")):
        category = str(get(log, "category", default="")).lower()
        group = str(get(log, "categoryGroup", default="")).lower()
        if is_true(get(log, "enabled")) and (category in _AUDIT_CATEGORIES or group in _AUDIT_GROUPS):
            return True
    return False


@stack_policy(
    name="azure-aks-cluster-control-plane-logging",
    severity="medium",
    description="AKS must ship its control-plane audit logs through a diagnostic setting.",
    remediation=(
        "Add an `azure_native.monitor.DiagnosticSetting` on the cluster with `kube-audit-admin` (or "
        "category group `audit`) enabled."
    ),
    controls=(cis_aks("2.1.1"),),
)
def control_plane_logging(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    for cluster, settings in owners_with_parts(resources, (CLUSTER,), (DIAGNOSTIC_SETTING,), "resourceUri"):
        if not any(_audits(s) for s in settings):
            yield "no diagnostic setting sends the cluster's audit logs anywhere", cluster.urn


POLICIES = (
    disallow_public_endpoint,
    secrets_encrypted,
    disallow_node_public_ip,
    node_encrypted_disks,
    control_plane_logging,
)
