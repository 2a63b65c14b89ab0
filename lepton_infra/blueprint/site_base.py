"""What every cloud-managed site has: network, node pools, protection. Per-cloud models extend it."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from lepton_infra import validation
from lepton_infra.blueprint.base import (
    SUPPORTED_KUBERNETES_VERSIONS,
    DnsLabel,
    KubernetesVersion,
    SpecModel,
    rule_error,
)
from lepton_infra.blueprint.deployment import KubernetesRunnerSpec
from lepton_infra.catalog import Accelerator, Cloud
from lepton_infra.catalog.regions import region_problem
from lepton_infra.catalog.system_types import SYSTEM_TYPES

# Where the node-range check lived before lepton_infra.validation owned it; kept for old imports.
check_node_range = validation.check_node_range


class NetworkSpec(SpecModel):
    cidr: ipaddress.IPv4Network = Field(
        description="Private address range of the site's network (RFC 1918 or 100.64/10), /16 to /20."
    )
    api_allowlist: tuple[ipaddress.IPv4Network, ...] = Field(
        default=(),
        description=(
            "CIDRs allowed to reach the Kubernetes API endpoint from the internet. "
            "Empty (the default) keeps the endpoint private to the network. Judged together, by address "
            "arithmetic: ranges that add up to every address (0.0.0.0/1 with 128.0.0.0/1 is 0.0.0.0/0) "
            f"or to more than {validation.DEFAULT_MAX_PUBLIC_IPV4:,} public addresses (a /8) are refused, "
            "and so are malformed ones (host bits set, a prefix with leading zeros, IPv4-mapped IPv6)."
        ),
    )

    @field_validator("cidr")
    @classmethod
    def _private_and_sized(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        validation.refuse(validation.network_cidr(cidr))
        return cidr

    @field_validator("api_allowlist", mode="before")
    @classmethod
    def _well_formed(cls, cidrs: object) -> object:
        # Explicit sentences for the forms ipaddress reads differently than a person would.
        if isinstance(cidrs, list | tuple):
            issues = [
                (f"[{i}]", found.problem)
                for i, cidr in enumerate(cidrs)
                if isinstance(cidr, str) and (found := validation.parse_range(cidr)).problem
            ]
            if issues:
                raise rule_error(issues)
        return cidrs

    @field_validator("api_allowlist")
    @classmethod
    def _no_open_allowlist(
        cls, cidrs: tuple[ipaddress.IPv4Network, ...]
    ) -> tuple[ipaddress.IPv4Network, ...]:
        validation.refuse(validation.api_allowlist(cidrs))
        return cidrs


class NodeRange(SpecModel):
    min_nodes: int = Field(ge=0, le=1000, description="Fewest nodes the autoscaler keeps.")
    max_nodes: int = Field(ge=1, le=1000, description="Most nodes the autoscaler may add.")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> NodeRange:
        validation.check_node_range(self.min_nodes, self.max_nodes)
        return self


class SystemPoolSpec(NodeRange):
    instance_type: str = Field(description="Instance / VM type for the system pool (CPU only).")
    min_nodes: int = Field(default=2, ge=1, le=100, description="Fewest system nodes; at least 1.")
    max_nodes: int = Field(default=4, ge=1, le=100, description="Most system nodes.")
    disk_gib: int = Field(default=100, ge=20, le=16384, description="Encrypted root/OS disk size in GiB.")
    instance_type_unlisted: bool = Field(
        default=False,
        description=(
            "Accept an instance_type the catalog does not list (lepton_infra/catalog/system_types.py: "
            "current general purpose, compute and memory families, large to 8xlarge or 2 to 32 vCPUs). "
            "For a size newer than the catalog or the cloud SDK's enum: the type then reaches the cloud "
            "unchecked, and a misspelling fails only when the nodes are created. Say why in a comment."
        ),
    )


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

    # What to do about multi-node training on a pool without a fabric: how this cloud's pools get one.
    fabric_hint: ClassVar[str] = "give the pool a multi-node fabric, or run the job on one node"

    @property
    def fabric(self) -> str | None:
        """The pool's multi-node network for NCCL (``efa`` ...), or None where pods talk over TCP."""
        return None


class ManagedSiteSpec(SpecModel):
    """Fields every cloud-managed Kubernetes site has."""

    name: DnsLabel = Field(description="Site name, unique in the platform; prefixes the site's resources.")
    region: str = Field(min_length=2, max_length=32, description="The cloud's region name.")
    kubernetes_version: KubernetesVersion = Field(
        description=f"Pinned Kubernetes minor version; one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}."
    )
    network: NetworkSpec = Field(description="Virtual network and API endpoint exposure.")
    kubernetes_runner: KubernetesRunnerSpec | None = Field(
        default=None,
        description=(
            "Where the `pulumi up` that deploys the site's Kubernetes layer runs: needed when the API "
            "endpoint is private (empty network.api_allowlist) and the stack deploys that layer."
        ),
    )
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
        description=(
            "Container image repositories to create in the site's registry; each name once (a name twice "
            "would be two resources with one URN)."
        ),
    )

    @model_validator(mode="after")
    def _what_the_cloud_accepts(self) -> ManagedSiteSpec:
        """Values the cloud would refuse only minutes into `pulumi up`: refused here, at validate time."""
        cloud = Cloud(getattr(self, "cloud"))  # noqa: B009 (declared by each concrete site, not here)
        issues = []
        if problem := region_problem(cloud, self.region):
            issues.append(("region", problem))
        pool = self.system_pool
        if pool.instance_type not in SYSTEM_TYPES[cloud] and not pool.instance_type_unlisted:
            issues.append(
                (
                    "system_pool.instance_type",
                    f"{pool.instance_type!r} is not in the catalog's {cloud.value} system types; check the "
                    "spelling, or set instance_type_unlisted: true for a type newer than the catalog",
                )
            )
        seen: set[str] = set()
        for i, repository in enumerate(self.repositories):
            if repository in seen:
                issues.append((f"repositories[{i}]", f"{repository!r} is listed twice"))
            seen.add(repository)
        if issues:
            raise rule_error(issues)
        return self
