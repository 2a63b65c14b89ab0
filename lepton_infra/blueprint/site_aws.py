"""The AWS site (EKS)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lepton_infra.blueprint.site_base import ManagedSiteSpec


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
    admin_role_arns: tuple[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")], ...] = (
        Field(default=(), description="IAM roles granted cluster-admin through EKS access entries.")
    )
