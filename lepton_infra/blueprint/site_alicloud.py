"""A site of ``cloud: alicloud``: an ACK Pro cluster in one Alibaba Cloud region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from lepton_infra import validation
from lepton_infra.blueprint.base import rule_error
from lepton_infra.blueprint.site_base import GpuPoolSpec, ManagedSiteSpec

KmsInstanceId = Annotated[str, StringConstraints(pattern=r"^kst-[a-z0-9]+$", max_length=64)]
# Zone IDs append a letter to the region (cn-hangzhou-h) or to its number (ap-southeast-1a).
ZoneId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[a-z]+(-\d+)?-?[a-z]$", max_length=40)]


class AlicloudGpuPoolSpec(GpuPoolSpec):
    """A GPU pool of an ACK site. None of the catalog's types has a multi-node fabric ACK documents: its
    eRDMA guides (ack-erdma-controller) list gn8is, gn8v, ebmgn8v, ebmgn8is, ebmgn7v and later families,
    not gn7e, gn7, gn7i or gn6i, so NCCL between nodes runs over the VPC's TCP."""

    fabric_hint: ClassVar[str] = (
        "ACK documents eRDMA for none of the catalog's types (gn7e, gn7, gn7i, gn6i), so run the job on one "
        "node, or on a site whose pool has a fabric"
    )


class AlicloudSiteSpec(ManagedSiteSpec):
    cloud: Literal["alicloud"] = Field(description="Alibaba Cloud (ACK Pro).")
    region: str = Field(
        pattern=r"^(cn|ap|us|eu|me|na)-[a-z]+(-\d+)?$",
        description="Alibaba Cloud region ID, e.g. cn-hangzhou or ap-southeast-1.",
    )
    ack_version: str = Field(
        pattern=validation.ACK_VERSION_PATTERN,
        description=(
            "The ACK release the control plane is pinned to, e.g. 1.33.1-aliyun.1; "
            "its minor version must be kubernetes_version."
        ),
    )
    zone_ids: tuple[ZoneId, ...] = Field(
        default=(),
        max_length=3,
        description=(
            "Zones the vSwitches and node pools span, e.g. [cn-hangzhou-h, cn-hangzhou-i]; pick zones that "
            "stock the GPU types you need. Empty: the first `availability_zones` zones that offer vSwitches."
        ),
    )
    availability_zones: int = Field(
        default=2, ge=2, le=3, description="How many zones to span when zone_ids is empty."
    )
    registry_edition: Literal["Basic", "Standard", "Advanced"] = Field(
        default="Standard",
        description="Container Registry Enterprise Edition type (every type scans images).",
    )
    registry_subscription_months: int = Field(
        default=12,
        json_schema_extra={"enum": list(validation.CR_EE_SUBSCRIPTION_MONTHS)},
        description=(
            "Prepaid, auto-renewed term of the registry instance in months (no pay-as-you-go): 1, 2, 3 or 6 "
            "months, or whole years up to 5 (12, 24, 36, 48, 60), the terms Container Registry sells."
        ),
    )
    gpu_pools: tuple[AlicloudGpuPoolSpec, ...] = Field(
        default=(), description="GPU node pools, one per accelerator need."
    )
    kms_instance_id: KmsInstanceId | None = Field(
        default=None,
        description=(
            "A KMS instance (kst-...) to create the site key in. Without one the site creates its region's "
            "default key, and KMS allows one default key of the CMK type per region and account: a second "
            "site (or stack) in the same region needs a KMS instance."
        ),
    )
    control_plane_log_retention_days: int = Field(
        default=90,
        ge=validation.SLS_RETENTION_DAYS[0],
        le=validation.SLS_RETENTION_DAYS[1],
        description="Days SLS keeps control-plane and audit logs.",
    )

    @field_validator("registry_subscription_months")
    @classmethod
    def _a_term_that_is_sold(cls, months: int) -> int:
        validation.refuse(validation.cr_subscription_months(months))
        return months

    @model_validator(mode="after")
    def _alicloud_rules(self) -> AlicloudSiteSpec:
        issues: list[tuple[str, str]] = []
        minor = ".".join(self.ack_version.split(".")[:2])
        if minor != self.kubernetes_version:
            issues.append(
                ("ack_version", f"{self.ack_version} is Kubernetes {minor}, not {self.kubernetes_version}")
            )
        if self.zone_ids and len(set(self.zone_ids)) < 2:
            issues.append(("zone_ids", "list at least two different zones, or leave it empty"))
        for i, zone in enumerate(self.zone_ids):
            if not zone.startswith(self.region):
                issues.append((f"zone_ids[{i}]", f"{zone} is not a zone of {self.region}"))
        if self.network.api_allowlist:
            # ACK filters API clients on the listener of the API server's CLB, which the cluster owns and
            # pulumi-alicloud cannot manage: an allowlist here would silently open the API to everyone.
            issues.append(
                (
                    "network.api_allowlist",
                    "ACK sites keep the API server private; reach it from the VPC (VPN, bastion, CEN) "
                    "and leave api_allowlist empty",
                )
            )
        if issues:
            raise rule_error(issues)
        return self


def shared_default_keys(sites: Sequence[object]) -> list[tuple[str, str]]:
    """Alibaba sites of one platform that would each create their region's one default KMS key.

    "You can create only one default key of the CMK type in each region. If you need to create multiple
    keys, we recommend that you purchase a KMS instance." (KMS, "Manage keys",
    https://www.alibabacloud.com/help/en/kms/user-guide/manage-keys-2): the second such site's key fails.
    """
    issues: list[tuple[str, str]] = []
    first_in_region: dict[str, str] = {}
    for i, site in enumerate(sites):
        if not isinstance(site, AlicloudSiteSpec) or site.kms_instance_id is not None:
            continue
        if site.region in first_in_region:
            issues.append(
                (
                    f"sites[{i}].kms_instance_id",
                    f"site {first_in_region[site.region]!r} already creates the one default KMS key of "
                    f"{site.region}; give this site a KMS instance (kst-...) for its key",
                )
            )
        else:
            first_in_region[site.region] = site.name
    return issues
