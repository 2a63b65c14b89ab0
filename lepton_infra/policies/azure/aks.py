"""Azure Kubernetes Service: private API, secrets under our Key Vault key, audit logs, hardened node pools."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.joins import owners_with_parts
from lepton_infra.policies.networks import CIDR_SETTINGS, api_allowlist_problems, version_check
from lepton_infra.policies.rule import Outcome, Subject, checkov, cis_aks, resource_policy, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_set, is_true
from lepton_infra.policies.view import Finding, Resource, Stack

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
    controls=(*cis_aks("5.4.1"), *cis_aks("5.4.2"), *checkov("CKV_AZURE_6", "CKV_AZURE_115")),
    config=("allowedApiCidrs", *CIDR_SETTINGS),
)
def disallow_public_endpoint(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    access = get(r.props, "apiServerAccessProfile", default={})
    if is_true(get(access, "enablePrivateCluster")) or get(r.props, "publicNetworkAccess") == "Disabled":
        return
    yield from api_allowlist_problems(
        as_list(get(access, "authorizedIPRanges")), settings.allowed_api_cidrs, settings
    )


@resource_policy(
    name="azure-aks-cluster-secrets-encrypted",
    types=(CLUSTER,),
    severity="high",
    description=(
        "AKS must encrypt Kubernetes secrets with a customer-managed Key Vault key (KMS etcd encryption)."
    ),
    remediation="Set `securityProfile.azureKeyVaultKms: {enabled: true, keyId: <key URI with version>}`.",
    controls=(*cis_aks("5.3.1"),),
)
def secrets_encrypted(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
    controls=(*cis_aks("5.4.3"), *checkov("CKV_AZURE_143")),
)
def disallow_node_public_ip(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
def node_encrypted_disks(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if r.type == CLUSTER and not is_set(r.props, "diskEncryptionSetID"):
        yield "the cluster's disks use platform keys (no diskEncryptionSetID)"
    for name, pool in _pools(r):
        if not is_true(get(pool, "enableEncryptionAtHost")):
            yield f"agent pool {name!r} does not encrypt at host"


def _audits(setting: Resource) -> bool:
    for log in as_list(get(setting.props, "logs")):
        category = str(get(log, "category", default="")).lower()
        group = str(get(log, "categoryGroup", default="")).lower()
        if is_true(get(log, "enabled")) and (category in _AUDIT_CATEGORIES or group in _AUDIT_GROUPS):
            return True
    return False


@view_policy(
    name="azure-aks-cluster-control-plane-logging",
    severity="medium",
    description="AKS must ship its control-plane audit logs through a diagnostic setting.",
    remediation=(
        "Add an `azure_native.monitor.DiagnosticSetting` on the cluster with `kube-audit-admin` (or "
        "category group `audit`) enabled."
    ),
    controls=(*cis_aks("2.1.1"),),
)
def control_plane_logging(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster, settings in owners_with_parts(stack, (CLUSTER,), (DIAGNOSTIC_SETTING,), "resourceUri"):
        if not any(_audits(s) for s in settings):
            yield Finding("no diagnostic setting sends the cluster's audit logs anywhere", cluster.urn)


@resource_policy(
    name="azure-aks-cluster-entra-rbac-no-local-accounts",
    types=(CLUSTER,),
    severity="high",
    description=(
        "AKS must authorize through Kubernetes RBAC with Microsoft Entra ID (managed, Azure RBAC) and "
        "disable its local admin account."
    ),
    remediation=(
        "Set `enableRBAC: true`, `aadProfile: {managed: true, enableAzureRBAC: true}` and "
        "`disableLocalAccounts: true`."
    ),
    controls=(*cis_aks("5.5.1"), *checkov("CKV_AZURE_5", "CKV_AZURE_141")),
)
def entra_rbac_no_local_accounts(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "enableRBAC") is False:
        yield "Kubernetes RBAC is off (enableRBAC: false)"
    if not is_true(get(r.props, "aadProfile", "managed")):
        yield "the cluster is not integrated with Microsoft Entra ID (aadProfile.managed)"
    elif not is_true(get(r.props, "aadProfile", "enableAzureRBAC")):
        yield "Azure RBAC for Kubernetes authorization is off (aadProfile.enableAzureRBAC)"
    if not is_true(get(r.props, "disableLocalAccounts")):
        yield "the local admin account (cluster-admin kubeconfig) is enabled (disableLocalAccounts)"


# Engines that enforce NetworkPolicy on AKS (https://learn.microsoft.com/azure/aks/use-network-policies).
NETWORK_POLICY_ENGINES = frozenset({"azure", "calico", "cilium"})


@resource_policy(
    name="azure-aks-cluster-network-policy",
    types=(CLUSTER,),
    severity="high",
    description="AKS must run a network policy engine, or the platform's NetworkPolicies do nothing.",
    remediation="Set `networkProfile.networkPolicy` to cilium (with the cilium dataplane), azure or calico.",
    controls=(*cis_aks("5.4.4"), *checkov("CKV_AZURE_7")),
)
def network_policy(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    engine = get(r.props, "networkProfile", "networkPolicy")
    if str(engine).lower() not in NETWORK_POLICY_ENGINES:
        yield f"no network policy engine enforces NetworkPolicy (networkProfile.networkPolicy is {engine})"


supported_version = resource_policy(
    name="azure-aks-cluster-supported-version",
    types=(CLUSTER,),
    severity="high",
    description="AKS clusters must run a Kubernetes version the cloud still supports.",
    remediation=(
        "Upgrade `kubernetesVersion` (https://learn.microsoft.com/azure/aks/supported-kubernetes-versions)."
    ),
    config=("minKubernetesVersion",),
)(version_check("kubernetesVersion"))


POLICIES = (
    entra_rbac_no_local_accounts,
    network_policy,
    supported_version,
    disallow_public_endpoint,
    secrets_encrypted,
    disallow_node_public_ip,
    node_encrypted_disks,
    control_plane_logging,
)
