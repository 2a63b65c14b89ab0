"""What every cloud-managed site has: network, node pools, protection. Per-cloud models extend it."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from lepton_infra.blueprint.base import SUPPORTED_KUBERNETES_VERSIONS, DnsLabel, KubernetesVersion, SpecModel
from lepton_infra.catalog import Accelerator

_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


class NetworkSpec(SpecModel):
    cidr: ipaddress.IPv4Network = Field(
        description="Private address range of the site's network (RFC 1918 or 100.64/10), /16 to /20."
    )
    api_allowlist: tuple[ipaddress.IPv4Network, ...] = Field(
        default=(),
        description=(
            "CIDRs allowed to reach the Kubernetes API endpoint from the internet. "
            "Empty (the default) keeps the endpoint private to the network."
        ),
    )

    @field_validator("cidr")
    @classmethod
    def _private_and_sized(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not any(cidr.subnet_of(r) for r in _PRIVATE_RANGES):
            raise ValueError(
                f"{cidr} is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
            )
        if not 16 <= cidr.prefixlen <= 20:
            raise ValueError(f"{cidr} must be between /16 and /20 to hold node and pod subnets in two zones")
        return cidr

    @field_validator("api_allowlist")
    @classmethod
    def _no_open_allowlist(
        cls, cidrs: tuple[ipaddress.IPv4Network, ...]
    ) -> tuple[ipaddress.IPv4Network, ...]:
        for cidr in cidrs:
            if cidr.prefixlen == 0:
                raise ValueError(
                    "0.0.0.0/0 would make the API public to everyone; list the CIDRs that need access"
                )
        return cidrs


def check_node_range(min_nodes: int, max_nodes: int) -> None:
    """The autoscaler's range must not be empty; the spec and every node-pool component check it."""
    if min_nodes > max_nodes:
        raise ValueError(f"min_nodes ({min_nodes}) must not exceed max_nodes ({max_nodes})")


class NodeRange(SpecModel):
    min_nodes: int = Field(ge=0, le=1000, description="Fewest nodes the autoscaler keeps.")
    max_nodes: int = Field(ge=1, le=1000, description="Most nodes the autoscaler may add.")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> NodeRange:
        check_node_range(self.min_nodes, self.max_nodes)
        return self


class SystemPoolSpec(NodeRange):
    instance_type: str = Field(description="Instance / VM type for the system pool (CPU only).")
    min_nodes: int = Field(default=2, ge=1, le=100, description="Fewest system nodes; at least 1.")
    max_nodes: int = Field(default=4, ge=1, le=100, description="Most system nodes.")
    disk_gib: int = Field(default=100, ge=20, le=16384, description="Encrypted root/OS disk size in GiB.")


class GpuPoolSpec(NodeRange):
    name: DnsLabel = Field(description="Pool name, unique within its site; becomes the node label value.")
    accelerator: Accelerator = Field(description="GPU model of the pool's nodes.")
    instance_type: str | None = Field(
        default=None,
        description="Instance / VM type; defaults to the catalog's first type for the accelerator here.",
    )
    min_nodes: int = Field(
        default=0, ge=0, le=1000, description="Fewest nodes; 0 lets the pool scale to zero."
    )
    max_nodes: int = Field(ge=1, le=1000, description="Most nodes the autoscaler may add.")
    spot: bool = Field(default=False, description="Use spot / preemptible capacity.")
    disk_gib: int = Field(default=200, ge=50, le=16384, description="Encrypted root/OS disk size in GiB.")


class ManagedSiteSpec(SpecModel):
    """Fields every cloud-managed Kubernetes site has."""

    name: DnsLabel = Field(description="Site name, unique in the platform; prefixes the site's resources.")
    region: str = Field(min_length=2, max_length=32, description="The cloud's region name.")
    kubernetes_version: KubernetesVersion = Field(
        description=f"Pinned Kubernetes minor version; one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}."
    )
    network: NetworkSpec = Field(description="Virtual network and API endpoint exposure.")
    system_pool: SystemPoolSpec = Field(description="CPU node pool for cluster add-ons and controllers.")
    gpu_pools: tuple[GpuPoolSpec, ...] = Field(
        default=(), description="GPU node pools, one per accelerator need."
    )
    protect_stateful: bool = Field(
        default=True,
        description="Protect keys, buckets and registries from deletion by `pulumi destroy` (recommended).",
    )
    repositories: tuple[DnsLabel, ...] = Field(
        default=("train", "serve"),
        description="Container image repositories to create in the site's registry.",
    )
