"""Sites: where a platform runs. One model per cloud, told apart by ``cloud``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lepton_infra.blueprint.site_alicloud import AlicloudSiteSpec
from lepton_infra.blueprint.site_aws import AwsSiteSpec
from lepton_infra.blueprint.site_azure import AzureSiteSpec
from lepton_infra.blueprint.site_base import (
    GpuPoolSpec,
    ManagedSiteSpec,
    NetworkSpec,
    NodeRange,
    SystemPoolSpec,
)
from lepton_infra.blueprint.site_existing import ExistingSiteSpec

SiteSpec = Annotated[
    AwsSiteSpec | AzureSiteSpec | AlicloudSiteSpec | ExistingSiteSpec, Field(discriminator="cloud")
]

__all__ = [
    "AlicloudSiteSpec",
    "AwsSiteSpec",
    "AzureSiteSpec",
    "ExistingSiteSpec",
    "GpuPoolSpec",
    "ManagedSiteSpec",
    "NetworkSpec",
    "NodeRange",
    "SiteSpec",
    "SystemPoolSpec",
]
