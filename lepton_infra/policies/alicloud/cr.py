"""Alibaba Cloud Container Registry: private repositories, immutable tags, images scanned."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.rule import Outcome, Subject, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import get, is_set, is_true

PERSONAL_REPO = "alicloud:cr/repo:Repo"
ENTERPRISE_REPO = "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo"
ENTERPRISE_INSTANCE = "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance"


@resource_policy(
    name="alicloud-cr-repository-disallow-public",
    types=(PERSONAL_REPO, ENTERPRISE_REPO),
    severity="critical",
    description="Container Registry repositories must be private.",
    remediation="Set `repoType: PRIVATE`.",
)
def disallow_public(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if str(get(r.props, "repoType", default="")).upper() != "PRIVATE":
        yield f"the repository is {get(r.props, 'repoType') or 'of unset type'}, not PRIVATE"


@resource_policy(
    name="alicloud-cr-repository-immutable-tags",
    types=(ENTERPRISE_REPO,),
    severity="medium",
    description="Enterprise registry repositories must make tags immutable.",
    remediation="Set `tagImmutability: true`.",
)
def immutable_tags(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not is_true(get(r.props, "tagImmutability")):
        yield "image tags are mutable"


@resource_policy(
    name="alicloud-cr-instance-scan-images",
    types=(ENTERPRISE_INSTANCE,),
    severity="medium",
    description="The enterprise registry instance must scan images for vulnerabilities.",
    remediation=(
        "Set `imageScanner: ACR` (or SAS) on the instance and add a `cr.ScanRule` with `triggerType: AUTO`."
    ),
)
def scan_images(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not is_set(r.props, "imageScanner"):
        yield "no image scanner is configured"


POLICIES = (disallow_public, immutable_tags, scan_images)
