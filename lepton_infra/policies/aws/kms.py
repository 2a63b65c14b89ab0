"""AWS KMS keys: rotate yearly (or faster) and cannot be deleted by accident."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.documents import public_grants
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import document_at, get, is_true

KEY = "aws:kms/key:Key"
# AWS's maximum waiting period; a shorter one leaves less time to notice a scheduled deletion.
MIN_DELETION_WINDOW_DAYS = 30


@resource_policy(
    name="aws-kms-key-rotation-enabled",
    types=(KEY,),
    severity="high",
    description="Symmetric KMS keys must rotate their key material automatically.",
    remediation="Set `enableKeyRotation: true` (optionally `rotationPeriodInDays`).",
    controls=checkov("CKV_AWS_7"),
)
def rotation_enabled(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    # Only symmetric encryption keys support automatic rotation.
    if get(r.props, "customerMasterKeySpec", default="SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return
    if not is_true(get(r.props, "enableKeyRotation")):
        yield "automatic key rotation is off"


@resource_policy(
    name="aws-kms-key-deletion-protected",
    types=(KEY,),
    severity="high",
    description=(
        "KMS keys must be protected from deletion: `protect` in Pulumi and the longest deletion window."
    ),
    remediation="Create the key with `ResourceOptions(protect=True)` and leave `deletionWindowInDays` at 30.",
)
def deletion_protected(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not r.protect:
        yield "the key is not protected (`protect=True`) against deletion"
    window = get(r.props, "deletionWindowInDays")
    if window is not None and float(window) < MIN_DELETION_WINDOW_DAYS:
        yield f"deletionWindowInDays is {float(window):g}, below {MIN_DELETION_WINDOW_DAYS}"


@resource_policy(
    name="aws-kms-key-policy-restricted",
    types=(KEY,),
    severity="critical",
    description=(
        "KMS key policies must not grant any principal ('*') without a condition, nor skip the lockout "
        "safety check."
    ),
    remediation=(
        "Name the account root and the roles that use the key as principals (or add a condition such as "
        "`kms:CallerAccount`); remove `bypassPolicyLockoutSafetyCheck`."
    ),
    controls=checkov("CKV_AWS_33"),
)
def key_policy_restricted(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    if is_true(get(r.props, "bypassPolicyLockoutSafetyCheck")):
        yield "the key skips KMS's policy lockout safety check (bypassPolicyLockoutSafetyCheck)"
    yield from public_grants(document_at(r.props, "policy"), principal_kinds=("AWS",))


POLICIES = (rotation_enabled, deletion_protected, key_policy_restricted)
