"""The AWS site (EKS)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import rule_error
from lepton_infra.blueprint.site_base import GpuPoolSpec, ManagedSiteSpec
from lepton_infra.catalog import Cloud, offerings, pool_offering
from lepton_infra.catalog.aws_efa import efa_interfaces
from lepton_infra.validation import ROLE_ARN_PATTERN

RoleArn = Annotated[str, StringConstraints(pattern=ROLE_ARN_PATTERN)]
# An On-Demand Capacity Reservation or a Capacity Block, as EC2 names them (both are `cr-...`).
CapacityReservationId = Annotated[str, StringConstraints(pattern=r"^cr-[0-9a-f]{8,17}$")]


class AwsGpuPoolSpec(GpuPoolSpec):
    """A GPU pool of an EKS site: Karpenter grows it from zero; EFA and placement make it fit for
    multi-node training."""

    efa: bool = Field(
        default=False,
        description=(
            "Elastic Fabric Adapter on every node, so NCCL traffic between the nodes of a training job "
            "bypasses TCP. Needs an instance type with EFA (p5.48xlarge, p4d/p4de.24xlarge, g6e.12xlarge and "
            "larger ...) and keeps the pool in one zone (zone_index): EFA traffic does not cross subnets."
        ),
    )
    placement_group: bool = Field(
        default=False,
        description=(
            "Launch the pool's nodes into one cluster placement group (lowest latency between them). "
            "Keeps the pool in one zone. Cannot be combined with capacity_reservation_ids: a reservation "
            "made without this placement group then fails with InsufficientInstanceCapacity."
        ),
    )
    zone_index: int = Field(
        default=0,
        ge=0,
        le=2,
        description=(
            "Which of the site's zones (0 = the first) an efa or placement_group pool lives in; match it "
            "to the zone of your capacity reservation."
        ),
    )
    capacity_reservation_ids: tuple[CapacityReservationId, ...] = Field(
        default=(),
        description=(
            "On-Demand Capacity Reservations or Capacity Blocks (cr-...) the pool launches into, and only "
            "into (Karpenter does not use open reservations by itself). For p5 capacity you reserved."
        ),
    )

    fabric_hint: ClassVar[str] = (
        "set efa: true on a pool of an EFA type (p5.48xlarge, p4d.24xlarge ...), or run the job on one node"
    )

    @property
    def fabric(self) -> str | None:
        return "efa" if self.efa else None

    @property
    def single_zone(self) -> bool:
        """Whether the pool's nodes must share one zone (EFA, placement group)."""
        return self.efa or self.placement_group

    @model_validator(mode="after")
    def _combinations_that_cannot_launch(self) -> AwsGpuPoolSpec:
        issues = []
        if self.capacity_reservation_ids and self.placement_group:
            # terraform-aws-modules/terraform-aws-eks#3730, eksctl#7949: a cluster placement group the
            # reservation was not made with limits or fails the launches into it.
            issues.append(
                (
                    "placement_group",
                    "a capacity reservation not made with this placement group fails with "
                    "InsufficientInstanceCapacity; drop placement_group (the reservation's capacity is "
                    "already close together) or capacity_reservation_ids",
                )
            )
        if self.capacity_reservation_ids and self.spot:
            issues.append(("spot", "capacity reservations are on-demand capacity; set spot: false"))
        if self.capacity_reservation_ids and self.min_nodes > 0:
            issues.append(
                (
                    "min_nodes",
                    "a pool launching into capacity reservations grows from zero only (Karpenter launches "
                    "into the reservation); set min_nodes: 0",
                )
            )
        if self.zone_index and not self.single_zone:
            issues.append(("zone_index", "applies only to a pool with efa or placement_group"))
        if issues:
            raise rule_error(issues)
        return self


class AwsSiteSpec(ManagedSiteSpec):
    cloud: Literal["aws"] = Field(description="Amazon Web Services (EKS).")
    region: str = Field(
        pattern=r"^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d$",
        description="AWS region, e.g. us-west-2.",
    )
    availability_zones: int = Field(
        default=2, ge=2, le=3, description="How many availability zones the network and node pools span."
    )
    nat_gateway_per_zone: bool = Field(
        default=False,
        description="One NAT gateway per zone (zone-failure tolerant egress) instead of one shared.",
    )
    admin_role_arns: tuple[RoleArn, ...] = Field(
        default=(), description="IAM roles granted cluster-admin through EKS access entries."
    )
    gpu_pools: tuple[AwsGpuPoolSpec, ...] = Field(
        default=(), description="GPU node pools, one per accelerator need."
    )
    aws_profile: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description=(
            "Named AWS CLI profile the site's AWS provider uses; the kubeconfig's `aws eks get-token` uses "
            "the same one. Unset: the ambient credentials, for both."
        ),
    )
    assume_role_arn: RoleArn | None = Field(
        default=None,
        description=(
            "Role the site's AWS provider assumes to build the site; the kubeconfig's `aws eks get-token "
            "--role-arn` assumes the same one, so the cluster's creator (its first admin) is who deploys "
            "the Kubernetes layer."
        ),
    )
    create_service_linked_roles: bool = Field(
        default=False,
        description=(
            "Create the account's AutoScaling (and, with spot pools, EC2 Spot) service-linked roles. Only "
            "in an account that never had them: creating one that exists fails ('has been taken in this "
            "account'). Off (the default): run the one-time step in the README first, which works in "
            "both kinds of account."
        ),
    )
    gpu_node_ami_alias: Annotated[str, StringConstraints(pattern=r"^al2023@(latest|v\d{8})$")] = Field(
        default="al2023@latest",
        description=(
            "EKS-optimized Amazon Linux 2023 release for GPU nodes Karpenter launches (its NVIDIA variant "
            "on GPU types), e.g. al2023@v20260724. Pin a release in production: with `latest`, every new "
            "AMI release makes the pools' nodes drift (replaced only once empty)."
        ),
    )

    @model_validator(mode="after")
    def _pools_fit_the_site(self) -> AwsSiteSpec:
        issues = []
        for i, pool in enumerate(self.gpu_pools):
            path = f"gpu_pools[{i}]"
            if pool.single_zone and pool.zone_index >= self.availability_zones:
                issues.append(
                    (
                        f"{path}.zone_index",
                        f"the site spans {self.availability_zones} zones: 0 to {self.availability_zones - 1}",
                    )
                )
            if pool.efa:
                try:
                    instance_type = pool_offering(
                        Cloud.AWS, self.region, pool.accelerator, pool.instance_type
                    ).instance_type
                except LookupError:
                    continue  # the platform's offering check names the pool's unknown type
                if not efa_interfaces(instance_type):
                    capable = [
                        o.instance_type
                        for o in offerings(Cloud.AWS, pool.accelerator, self.region)
                        if efa_interfaces(o.instance_type)
                    ]
                    choice = (
                        f"{pool.accelerator.value} types with EFA: {', '.join(capable)}"
                        if capable
                        else f"no {pool.accelerator.value} type has EFA"
                    )
                    issues.append((f"{path}.efa", f"{instance_type} has no EFA interfaces; {choice}"))
        if issues:
            raise rule_error(issues)
        return self
