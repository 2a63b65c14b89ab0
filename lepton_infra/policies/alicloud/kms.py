"""Alibaba Cloud KMS keys: automatic rotation and deletion protection."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import get

KEY = "alicloud:kms/key:Key"


@resource_policy(
    name="alicloud-kms-key-rotation-enabled",
    types=(KEY,),
    severity="high",
    description="KMS keys must rotate automatically.",
    remediation="Set `automaticRotation: Enabled` and `rotationInterval` (e.g. 365d).",
    controls=checkov("CKV_ALI_27"),
)
def rotation_enabled(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "automaticRotation") != "Enabled":
        yield "automatic key rotation is off"


@resource_policy(
    name="alicloud-kms-key-deletion-protected",
    types=(KEY,),
    severity="high",
    description="KMS keys must be protected from deletion, in Alibaba Cloud and in Pulumi.",
    remediation="Set `deletionProtection: Enabled` and create the key with `ResourceOptions(protect=True)`.",
)
def deletion_protected(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "deletionProtection") != "Enabled":
        yield "deletion protection is off"
    if not r.protect:
        yield "the key is not protected (`protect=True`) against deletion"


POLICIES = (rotation_enabled, deletion_protected)
