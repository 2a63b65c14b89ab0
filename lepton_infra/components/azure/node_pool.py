"""AKS agent pools: the settings every pool shares, and AzureGpuNodePool for each GPU pool of a site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import pulumi
from pulumi_azure_native import containerservice

from lepton_infra.components.azure.sdk import resource_kwargs
from lepton_infra.validation import aks_pool_name, at, check_node_range, refuse

# AKS taints and labels spot nodes itself with this key; pods for spot pools must tolerate it.
SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT_VALUE = "spot"
ON_DEMAND_PRICE = -1.0  # Azure's "pay up to the on-demand price": evicted for capacity, never for price


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


SPOT_TAINT = Taint(SPOT_TAINT_KEY, SPOT_TAINT_VALUE)


@dataclass(frozen=True)
class AzureNodePoolArgs:
    vm_size: str
    min_nodes: int
    max_nodes: int
    kubernetes_version: str
    subnet_id: pulumi.Input[str]
    disk_gib: int = 128
    zones: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()
    gpu: bool = False
    spot: bool = False
    # USD per hour; None pays up to the on-demand price.
    spot_max_price: float | None = None
    encryption_at_host: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_node_range(self.min_nodes, self.max_nodes)
        if self.spot_max_price is not None and not self.spot:
            raise ValueError("spot_max_price applies to spot pools only: set spot=True or drop the price")


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
    resource_group_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    # Azure's rule for Linux agent pool names: 1-12 lowercase letters and digits, starting with a letter.
    pool_name: str
    pool: AzureNodePoolArgs

    def __post_init__(self) -> None:
        refuse(at("pool_name", aks_pool_name(self.pool_name)))


class AzureGpuNodePool(pulumi.ComponentResource):
    """A user-mode pool of GPU VMs that autoscales between ``min_nodes`` (0 allowed) and ``max_nodes``."""

    pool_name: pulumi.Output[str]

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
