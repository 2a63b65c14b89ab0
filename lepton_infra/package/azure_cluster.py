"""The AKS cluster and its GPU node pools, as components of the package.

Each builds the component of the same name in ``lepton_infra.components.azure``. Resources go through the
azure-native provider the program passes in the component's ``providers`` option: pass one. Read by Pulumi's
analyzer: no ``from __future__ import annotations`` here.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_azure_native import authorization, containerservice

from lepton_infra.components.azure import cluster, node_pool
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import fields_of, refusing, require_choice, require_cidrs, require_node_range

# The network policy also picks the dataplane: only engines that are both are offered.
NETWORK_POLICIES = {p.value for p in containerservice.NetworkPolicy} & {
    d.value for d in containerservice.NetworkDataplane
}


class AzureTaint(TypedDict):
    """A taint on every node of a pool."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str
    """Taint value, e.g. present."""
    effect: NotRequired[str]
    """NoSchedule, PreferNoSchedule or NoExecute. Default: "NoSchedule"."""


class AzureNodePool(TypedDict):
    """The VMs of one AKS agent pool: size, scaling range, disks, labels and taints."""

    vm_size: str
    """VM size, e.g. Standard_ND96isr_H100_v5."""
    min_nodes: int
    """Fewest nodes; 0 lets a GPU pool scale to nothing (not the system pool)."""
    max_nodes: int
    """Most nodes the cluster autoscaler may run."""
    kubernetes_version: str
    """Kubernetes version of the pool's nodes; the cluster's."""
    subnet_id: pulumi.Input[str]
    """Subnet of the nodes (an AzureNetwork's nodeSubnetId)."""
    disk_gib: NotRequired[int]
    """OS disk size in GiB. Default: 128."""
    zones: NotRequired[list[str]]
    """Availability zones of the nodes, e.g. ["1", "2"]."""
    labels: NotRequired[dict[str, str]]
    """Kubernetes labels on every node (a workload's cluster target selects GPU pools by them)."""
    taints: NotRequired[list[AzureTaint]]
    """Taints on every node; AKS adds its own spot taint to spot pools."""
    gpu: NotRequired[bool]
    """GPU VMs: AKS installs the NVIDIA driver. Default: false."""
    spot: NotRequired[bool]
    """Spot VMs, deleted on eviction. Default: false."""
    spot_max_price: NotRequired[float]
    """Most USD per hour a spot VM may cost; up to the on-demand price if omitted. Spot pools only."""
    encryption_at_host: NotRequired[bool]
    """Encrypt temporary disks and caches on the host. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the pool's VMs."""


def _pool(values: dict[str, Any], field: str) -> node_pool.AzureNodePoolArgs:
    """A checked AzureNodePool as our Args; what they refuse is reported under ``field``."""
    taints = tuple(node_pool.Taint(**t) for t in values.get("taints", ()))
    with refusing([field], fields_of(AzureNodePool)):
        require_node_range(values)
        return node_pool.AzureNodePoolArgs(**{**values, "taints": taints})


class AzureAksClusterArgs(TypedDict):
    cluster_name: str
    """Name of the AKS cluster."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster."""
    location: str
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription of the cluster's role assignments."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant users sign in with."""
    kubernetes_version: str
    """Kubernetes version; patches arrive through the upgrade channel."""
    node_subnet_id: pulumi.Input[str]
    """Subnet of the nodes."""
    api_server_subnet_id: pulumi.Input[str]
    """Subnet delegated to AKS, where the API server gets a private address."""
    vault_id: pulumi.Input[str]
    """Resource ID of the vault with the KMS key."""
    key_id: pulumi.Input[str]
    """Resource ID of the KMS key."""
    key_uri_with_version: pulumi.Input[str]
    """URI of the key version KMS encrypts etcd with; moving it to a rotated version is an explicit update."""
    disk_encryption_set_id: pulumi.Input[str]
    """Disk encryption set of the nodes' OS disks."""
    admin_group_object_ids: list[str]
    """Entra ID groups with cluster-admin; at least one (local accounts are disabled)."""
    system_pool: AzureNodePool
    """The system pool, which runs cluster services."""
    registry_ids: NotRequired[list[pulumi.Input[str]]]
    """Registries the nodes pull from: the kubelet identity gets AcrPull on each, and nothing else."""
    api_allowlist: NotRequired[list[str]]
    """CIDRs that may reach a public API endpoint; empty keeps the API server private."""
    network_policy: NotRequired[str]
    """Network policy engine and dataplane: cilium or azure. Default: "cilium"."""
    pod_cidr: NotRequired[str]
    """Range of the pod overlay. Default: "10.244.0.0/16"."""
    service_cidr: NotRequired[str]
    """Range of Service IPs; the DNS service takes its tenth address. Default: "10.0.0.0/16"."""
    upgrade_channel: NotRequired[str]
    """AKS auto-upgrade channel, e.g. patch or stable. Default: "patch"."""
    sku_tier: NotRequired[str]
    """AKS tier: Free, Standard (uptime SLA) or Premium. Default: "Standard"."""
    log_retention_days: NotRequired[int]
    """Days control-plane logs and Container Insights data are kept. Default: 90."""
    prerequisite_grants: NotRequired[list[authorization.RoleAssignment]]
    """Grants made outside the cluster that it needs before its first node, e.g. the AzureDiskEncryptionSet's
    keyGrant: the cluster waits for them and their propagation."""
    role_propagation_seconds: NotRequired[int]
    """Seconds the cluster waits after every grant it needs: Azure documents up to 10 minutes before a new
    role assignment takes effect. Default: 600."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AzureAksCluster(PackageComponent):
    """A private AKS cluster: Entra ID sign-in with Azure RBAC and local accounts disabled; the API server in
    our VNet (private unless ``apiAllowlist``); etcd encrypted by KMS with the site key and node disks through
    the disk encryption set; OIDC issuer and workload identity on; Azure CNI overlay with network policy;
    egress only through the VNet's NAT gateway; control-plane logs and Container Insights with retention."""

    cluster_id: pulumi.Output[str]
    """Resource ID of the cluster."""
    cluster_name: pulumi.Output[str]
    """Name of the cluster."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer URL: what AzureWorkloadIdentity trusts."""
    kubelet_object_id: pulumi.Output[str]
    """Object ID of the kubelet identity (what pulls images)."""
    kubeconfig: pulumi.Output[str]
    """The user kubeconfig (secret), signing in through kubelogin with the Azure CLI's identity: no static
    credential. Whoever deploys through it needs kubelogin, ``az login`` and an admin group."""

    _args = cluster.AzureAksClusterArgs

    def __init__(
        self, name: str, args: AzureAksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(cluster.AzureAksCluster(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_cidrs(values, "pod_cidr", "service_cidr")
        require_choice(values, "network_policy", NETWORK_POLICIES)
        require_choice(values, "upgrade_channel", {c.value for c in containerservice.UpgradeChannel})
        require_choice(values, "sku_tier", {t.value for t in containerservice.ManagedClusterSKUTier})
        values["system_pool"] = _pool(values["system_pool"], "system_pool")
        return super().build(values)


class AzureGpuNodePoolArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster."""
    cluster_name: pulumi.Input[str]
    """Name of the cluster (an AzureAksCluster's clusterName)."""
    pool_name: str
    """Agent pool name: 1 to 12 lowercase letters and digits, starting with a letter."""
    pool: AzureNodePool
    """The pool's VMs; set ``gpu`` and a GPU ``vmSize``."""


class AzureGpuNodePool(PackageComponent):
    """A user-mode agent pool that autoscales between ``minNodes`` (0 allowed) and ``maxNodes``, without
    public IPs or SSH, its OS disks encrypted by the cluster's disk encryption set."""

    pool_name: pulumi.Output[str]
    """Name of the agent pool."""

    _args = node_pool.AzureGpuNodePoolArgs

    def __init__(
        self, name: str, args: AzureGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(node_pool.AzureGpuNodePool(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        values["pool"] = _pool(values["pool"], "pool")
        return super().build(values)


COMPONENTS: list[type[pulumi.ComponentResource]] = [AzureAksCluster, AzureGpuNodePool]
