"""A site of ``cloud: azure``: an AKS cluster with its network, Key Vault, registry and storage."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from lepton_infra import validation
from lepton_infra.blueprint.base import rule_error
from lepton_infra.blueprint.site_base import GpuPoolSpec, ManagedSiteSpec
from lepton_infra.catalog import Cloud, pool_offering
from lepton_infra.catalog.azure_infiniband import INFINIBAND, has_infiniband

# An Entra ID object ID (a GUID), as `az ad group show --query id` prints it.
EntraObjectId = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class AzureGpuPoolSpec(GpuPoolSpec):
    """A GPU pool of an AKS site; on an ND size, its nodes can share one InfiniBand fabric."""

    infiniband: bool = Field(
        default=False,
        description=(
            "Give the pool's nodes one InfiniBand fabric for NCCL between the nodes of a training job: the "
            "NVIDIA Network Operator and its RDMA device plugin, every node in the site's first zone. Needs "
            "an ND size with InfiniBand (Standard_ND96isr_H100_v5, Standard_ND96amsr_A100_v4, "
            "Standard_ND96asr_v4) and the subscription feature Microsoft.ContainerService/"
            "AKSInfinibandSupport registered (README)."
        ),
    )

    fabric_hint: ClassVar[str] = (
        "set infiniband: true on a pool of an ND size with InfiniBand (Standard_ND96isr_H100_v5, "
        "Standard_ND96amsr_A100_v4, Standard_ND96asr_v4), or run the job on one node"
    )

    @property
    def fabric(self) -> str | None:
        return "infiniband" if self.infiniband else None


class AzureSiteSpec(ManagedSiteSpec):
    """An AKS site: private API server, Entra ID sign-in only, customer-managed keys for etcd, disks,
    images and artifacts."""

    cloud: Literal["azure"] = Field(description="Microsoft Azure (AKS).")
    region: str = Field(
        pattern=r"^[a-z]+[a-z0-9]*$",
        description="Azure region (location) name, e.g. westeurope or eastus2.",
    )
    zones: tuple[Literal["1", "2", "3"], ...] = Field(
        default=("1", "2", "3"),
        description="Availability zones for node pools and the NAT gateway; empty in regions without zones.",
    )
    admin_group_object_ids: tuple[EntraObjectId, ...] = Field(
        min_length=1,
        description=(
            "Entra ID groups granted cluster-admin. Local accounts are disabled, so these groups are the "
            "only way in: the identity that runs `pulumi up` must be a member to deploy the Kubernetes layer."
        ),
    )
    network_policy: Literal["cilium", "azure"] = Field(
        default="cilium",
        description="Network policy engine: cilium (Azure CNI powered by Cilium) or azure (Azure NPM).",
    )
    pod_cidr: ipaddress.IPv4Network = Field(
        default=ipaddress.IPv4Network("10.244.0.0/16"),
        description="Overlay address range for pods; must not overlap the virtual network or service range.",
    )
    service_cidr: ipaddress.IPv4Network = Field(
        default=ipaddress.IPv4Network("10.0.0.0/16"),
        description="Address range for Kubernetes services; must not overlap the virtual network or pods.",
    )
    auto_upgrade_channel: Literal["patch", "stable", "rapid", "node-image"] = Field(
        default="patch",
        description="AKS auto-upgrade channel; `patch` keeps the pinned minor version, applying its patches.",
    )
    sku_tier: Literal["Standard", "Premium"] = Field(
        default="Standard", description="AKS control-plane tier; both carry the uptime SLA (Free has none)."
    )
    log_retention_days: int = Field(
        default=90,
        ge=validation.LOG_ANALYTICS_RETENTION_DAYS[0],
        le=validation.LOG_ANALYTICS_RETENTION_DAYS[1],
        description="Days the Log Analytics workspace keeps Container Insights data.",
    )
    key_rotation_days: int = Field(
        default=180,
        ge=30,
        le=730,
        description="Key Vault rotates the site key this many days after each version.",
    )
    key_expiry_days: int = Field(
        default=365, ge=60, le=1095, description="Lifetime in days of each rotated key version."
    )
    encryption_at_host: bool = Field(
        default=True,
        description=(
            "Encrypt node temp disks and disk caches on the VM host. Needs the subscription feature "
            "Microsoft.Compute/EncryptionAtHost registered; turn off only where a VM size lacks it."
        ),
    )
    role_propagation_wait_seconds: int = Field(
        default=600,
        ge=0,
        le=3600,
        description=(
            "Seconds the registry, storage account and cluster wait, when first created, after the role "
            "assignments on the site key they need: Azure RBAC changes take 'up to 10 minutes' to take "
            "effect, and a customer-managed key that is not yet readable fails the creation."
        ),
    )
    gpu_pools: tuple[AzureGpuPoolSpec, ...] = Field(
        default=(), description="GPU node pools, one per accelerator need."
    )
    defender_for_containers: bool = Field(
        default=False,
        description=(
            "Turn on Microsoft Defender for Containers (pricing tier Standard) with agentless vulnerability "
            "assessment of the registry's images (ContainerRegistriesVulnerabilityAssessments) and agentless "
            "Kubernetes discovery. The plan is SUBSCRIPTION-wide: it bills the vCores of every cluster in "
            "the subscription, not only this site's, and one stack may set it on one Azure site only. "
            "`pulumi destroy` leaves the plan on (the stack forgets it) so removing a site never "
            "downgrades the subscription's security; turn it off with `az security pricing create -n "
            "Containers --tier Free`. Leave it off where a central team manages Defender (README)."
        ),
    )
    spot_max_price_usd_per_hour: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Highest hourly price for spot GPU nodes; unset pays up to the on-demand price (-1).",
    )

    @model_validator(mode="after")
    def _ranges_apart(self) -> AzureSiteSpec:
        issues = validation.overlapping_ranges(
            {"network.cidr": self.network.cidr, "pod_cidr": self.pod_cidr, "service_cidr": self.service_cidr}
        )
        for i, pool in enumerate(self.gpu_pools):
            issues += validation.at(f"gpu_pools[{i}].name", validation.aks_pool_name(pool.name))
            issues += validation.at(f"gpu_pools[{i}].infiniband", self._infiniband_problems(pool))
        if self.key_rotation_days >= self.key_expiry_days:
            issues.append(
                validation.Problem(
                    "key_rotation_days",
                    f"must be less than key_expiry_days ({self.key_expiry_days}) so a new "
                    "version exists before the old one expires",
                )
            )
        if issues:
            raise rule_error(issues)
        return self

    def _infiniband_problems(self, pool: AzureGpuPoolSpec) -> list[str]:
        if not pool.infiniband:
            return []
        try:
            vm_size = pool_offering(
                Cloud.AZURE, self.region, pool.accelerator, pool.instance_type
            ).instance_type
        except LookupError:
            return []  # the platform reports a size the catalog does not know
        if has_infiniband(vm_size):
            return []
        return [f"{vm_size} has no InfiniBand; use one of {', '.join(INFINIBAND)} or set infiniband: false"]


def shared_defender_plan(sites: Sequence[object]) -> list[tuple[str, str]]:
    """Azure sites of one platform that would each manage their subscription's one Defender plan.

    A Defender plan is a singleton of the subscription (``/subscriptions/{id}/providers/Microsoft.Security/
    pricings/Containers``); registry scanning is a setting of that plan, while plans per resource cover
    machines ("VirtualMachines, VMSS and ARC Machines",
    https://learn.microsoft.com/en-us/rest/api/defenderforcloud/pricings/get). Every Azure site of a stack
    signs in to the same subscription (the azure-native provider takes it from the environment): two sites
    would manage one object twice, each update undoing the other's.
    """
    issues: list[tuple[str, str]] = []
    owner: str | None = None
    for i, site in enumerate(sites):
        if not isinstance(site, AzureSiteSpec) or not site.defender_for_containers:
            continue
        if owner is None:
            owner = site.name
            continue
        issues.append(
            (
                f"sites[{i}].defender_for_containers",
                f"site {owner!r} already turns on Defender for Containers for the stack's Azure "
                "subscription (one plan per subscription); set it on one Azure site only",
            )
        )
    return issues
