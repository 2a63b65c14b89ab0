"""AKS agent pools: the settings every pool shares, and AzureGpuNodePool for each GPU pool of a site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import pulumi
from pulumi_azure_native import containerservice

from lepton_infra.components.args import nested, refuse_args
from lepton_infra.components.azure.sdk import resource_kwargs
from lepton_infra.validation import (
    TAINT_EFFECTS,
    Problem,
    aks_pool_name,
    at,
    at_least,
    azure_zones,
    kubernetes_version,
    name_length,
    node_range,
    one_of,
    within,
)

# AKS taints and labels spot nodes itself with this key; pods for spot pools must tolerate it.
SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT_VALUE = "spot"
ON_DEMAND_PRICE = -1.0  # Azure's "pay up to the on-demand price": evicted for capacity, never for price
# Nodes an AKS pool may have ("Maximum nodes per node pool: 1,000", AKS quotas and limits).
MAX_POOL_NODES = 1000


@dataclass(frozen=True)
class Taint:
    """A taint on every node of a pool, so only pods that tolerate it land there."""

    key: str
    """The taint's key, e.g. ``nvidia.com/gpu``."""
    value: str
    """The taint's value."""
    effect: str = "NoSchedule"
    """What the taint does to pods that do not tolerate it: ``NoSchedule``, ``PreferNoSchedule`` or
    ``NoExecute``."""

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"

    def problems(self) -> list[Problem]:
        # A taint's key is a qualified name: a prefix of up to 253 characters, "/", a name of up to 63.
        return [*at("key", name_length(self.key, 1, 317)), *at("effect", one_of(self.effect, TAINT_EFFECTS))]


SPOT_TAINT = Taint(SPOT_TAINT_KEY, SPOT_TAINT_VALUE)


@dataclass(frozen=True)
class AzureNodePoolArgs:
    """One AKS node pool: the cluster's system pool (an AzureAksCluster's ``system_pool``) or a GPU pool's
    nodes (an AzureGpuNodePool's ``pool``). Its nodes get no public IP and no SSH access."""

    vm_size: str
    """VM size of every node, e.g. ``Standard_D4ds_v5`` or ``Standard_ND96isr_H100_v5``."""
    min_nodes: int
    """Fewest nodes the cluster autoscaler keeps: 0 lets a user pool scale to zero (a system pool needs 1)."""
    max_nodes: int
    """Most nodes the cluster autoscaler may add: at least ``min_nodes``, at most 1,000."""
    kubernetes_version: str
    """The nodes' Kubernetes minor version, e.g. ``1.33``: the cluster's."""
    subnet_id: pulumi.Input[str]
    """The subnet the nodes join, e.g. an AzureNetwork's ``node_subnet_id``."""
    disk_gib: int = 128
    """Size of each node's OS disk in GiB (a managed disk, encrypted with the cluster's disk encryption
    set)."""
    zones: Sequence[str] = ()
    """Availability zones the pool's nodes spread over (``"1"``, ``"2"``, ``"3"``); empty: no zone."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels on every node, e.g. the pool's label that workloads select."""
    taints: Sequence[Taint] = ()
    """Taints on every node; a spot pool also gets AKS's own ``kubernetes.azure.com/scalesetpriority=spot``
    taint."""
    gpu: bool = False
    """GPU nodes: AKS's GPU node image installs the NVIDIA driver (the GPU Operator adds the rest)."""
    spot: bool = False
    """Run on spot VMs: cheaper, evicted (and deleted, so they stop counting against quota) when Azure needs
    the capacity back. AKS upgrades spot pools without surge nodes."""
    spot_max_price: float | None = None
    """The most a spot node may cost, in USD per hour; None pays up to the on-demand price (evicted for
    capacity, never for price). Spot pools only."""
    encryption_at_host: bool = True
    """Encrypt the VMs' temporary disks and disk caches at the host too, besides the OS disk. The VM size and
    the subscription must support it (the ``EncryptionAtHost`` feature)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the pool's VM scale set."""

    def __post_init__(self) -> None:
        refuse_args(self, self.problems())

    def problems(self) -> list[Problem]:
        return [
            *at("min_nodes", within(self.min_nodes, 0, MAX_POOL_NODES, "nodes")),
            *at("max_nodes", within(self.max_nodes, 1, MAX_POOL_NODES, "nodes")),
            *at("min_nodes", node_range(self.min_nodes, self.max_nodes)),
            *at("kubernetes_version", kubernetes_version(self.kubernetes_version)),
            # 0 is not a size: AKS reads it as "the VM size's default".
            *at("disk_gib", at_least(self.disk_gib, 1, "GiB")),
            *azure_zones(self.zones),
            *nested("taints", self.taints, Taint),
            *self._spot_price(),
        ]

    def _spot_price(self) -> list[Problem]:
        price = self.spot_max_price
        if not isinstance(price, int | float) or isinstance(price, bool):
            return []
        if not self.spot:
            return [Problem("spot_max_price", "applies to spot pools only: set spot=True or drop the price")]
        if price <= 0:
            return [
                Problem(
                    "spot_max_price",
                    f"must be more than 0 USD per hour, not {price}; None pays up to the on-demand price",
                )
            ]
        return []


class PoolFields(TypedDict):
    """The fields a pool has both inline in the ManagedCluster (the system pool) and as an AgentPool."""

    vm_size: str
    count: int
    min_count: int
    max_count: int
    enable_auto_scaling: bool
    orchestrator_version: str
    vnet_subnet_id: pulumi.Input[str]
    availability_zones: list[str] | None
    os_type: containerservice.OSType
    os_sku: containerservice.OSSKU
    os_disk_type: containerservice.OSDiskType
    os_disk_size_gb: int
    type: containerservice.AgentPoolType
    enable_node_public_ip: bool
    enable_encryption_at_host: bool
    node_labels: dict[str, str]
    node_taints: list[str]
    gpu_profile: containerservice.GPUProfileArgs | None
    scale_set_priority: containerservice.ScaleSetPriority
    scale_set_eviction_policy: containerservice.ScaleSetEvictionPolicy | None
    spot_max_price: float | None
    security_profile: containerservice.AgentPoolSecurityProfileArgs
    upgrade_settings: containerservice.AgentPoolUpgradeSettingsArgs | None
    tags: dict[str, str]


def pool_fields(args: AzureNodePoolArgs) -> PoolFields:
    """Nodes without public IPs or SSH, in our subnet, with OS disks on managed disks (encrypted by the
    cluster's disk encryption set) and, where asked, encryption at host."""
    spot = args.spot
    return PoolFields(
        vm_size=args.vm_size,
        count=args.min_nodes,
        min_count=args.min_nodes,
        max_count=args.max_nodes,
        enable_auto_scaling=True,
        orchestrator_version=args.kubernetes_version,
        vnet_subnet_id=args.subnet_id,
        availability_zones=list(args.zones) or None,
        os_type=containerservice.OSType.LINUX,
        os_sku=containerservice.OSSKU.UBUNTU,
        os_disk_type=containerservice.OSDiskType.MANAGED,
        os_disk_size_gb=args.disk_gib,
        type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
        enable_node_public_ip=False,
        enable_encryption_at_host=args.encryption_at_host,
        node_labels=dict(args.labels),
        node_taints=[str(t) for t in (*args.taints, *((SPOT_TAINT,) if spot else ()))],
        # The AKS GPU node image brings the NVIDIA driver; the GPU Operator adds the device plugin.
        gpu_profile=containerservice.GPUProfileArgs(driver=containerservice.GPUDriver.INSTALL)
        if args.gpu
        else None,
        scale_set_priority=containerservice.ScaleSetPriority.SPOT
        if spot
        else containerservice.ScaleSetPriority.REGULAR,
        # Delete, not Deallocate: deallocated spot VMs keep counting against quota and block scale-up.
        scale_set_eviction_policy=containerservice.ScaleSetEvictionPolicy.DELETE if spot else None,
        spot_max_price=(args.spot_max_price or ON_DEMAND_PRICE) if spot else None,
        security_profile=containerservice.AgentPoolSecurityProfileArgs(
            ssh_access=containerservice.AgentPoolSSHAccess.DISABLED
        ),
        upgrade_settings=upgrade_settings(spot),
        tags=dict(args.tags),
    )


def upgrade_settings(spot: bool) -> containerservice.AgentPoolUpgradeSettingsArgs | None:
    """A third of a regular pool surges during upgrades; a spot pool sends no upgrade settings at all.

    AKS upgrades spot pools without surge nodes ("There are no surge nodes available for Spot node pool
    upgrades", https://learn.microsoft.com/azure/aks/spot-node-pool) and refuses both max surge and max
    unavailable there with 400 InvalidParameter (XenitAB/terraform-modules#755,
    hashicorp/terraform-provider-azurerm#31129); an empty object is no safer, as the RP can fill a default
    surge into it (Azure/bicep#14517), so the field is left out.
    """
    return None if spot else containerservice.AgentPoolUpgradeSettingsArgs(max_surge="33%")


@dataclass(frozen=True)
class AzureGpuNodePoolArgs:
    """The inputs of an AzureGpuNodePool."""

    resource_group_name: pulumi.Input[str]
    """The resource group of the cluster."""
    cluster_name: pulumi.Input[str]
    """The AKS cluster the pool belongs to (an AzureAksCluster's ``cluster_name``)."""
    pool_name: str
    """The pool's name, as AKS wants a Linux pool's: 1 to 12 lowercase letters and digits, starting with a
    letter."""
    pool: AzureNodePoolArgs
    """The pool's nodes: VM size, autoscaling range, zones, labels, taints, spot."""

    def __post_init__(self) -> None:
        refuse_args(self, at("pool_name", aks_pool_name(self.pool_name)))


class AzureGpuNodePool(pulumi.ComponentResource):
    """A user-mode pool of GPU VMs that autoscales between ``min_nodes`` (0 allowed) and ``max_nodes``."""

    pool_name: pulumi.Output[str]
    """Name of the agent pool, as AKS knows it."""

    def __init__(
        self, name: str, args: AzureGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:GpuNodePool", name, None, opts)
        pool = containerservice.AgentPool(
            f"{name}-pool",
            **resource_kwargs(
                containerservice.AgentPoolArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=args.cluster_name,
                    agent_pool_name=args.pool_name,
                    mode=containerservice.AgentPoolMode.USER,
                    **pool_fields(args.pool),
                )
            ),
            # The cluster autoscaler moves the count; a later `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )
        self.pool_name = pool.name
        self.register_outputs({"pool_name": self.pool_name})
