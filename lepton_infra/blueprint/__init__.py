"""The platform spec: pydantic v2 models of everything a stack file says. Knows nothing of Pulumi."""

from lepton_infra.blueprint.base import SUPPORTED_KUBERNETES_VERSIONS
from lepton_infra.blueprint.platform import PlatformSpec, gpus_per_node
from lepton_infra.blueprint.site_existing import ExistingGpuPoolSpec, ExistingSiteSpec
from lepton_infra.blueprint.sites import (
    AwsSiteSpec,
    GpuPoolSpec,
    ManagedSiteSpec,
    NetworkSpec,
    SiteSpec,
    SystemPoolSpec,
)
from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec, WorkloadSpec

__all__ = [
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AwsSiteSpec",
    "ExistingGpuPoolSpec",
    "ExistingSiteSpec",
    "GpuPoolSpec",
    "InferenceWorkloadSpec",
    "ManagedSiteSpec",
    "NetworkSpec",
    "PlatformSpec",
    "SiteSpec",
    "SystemPoolSpec",
    "TrainingWorkloadSpec",
    "WorkloadSpec",
    "gpus_per_node",
]
