"""Alibaba Cloud OSS buckets, joined with their separate ACL, encryption, versioning, policy and
public-access-block resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lepton_infra.policies.documents import public_grants, tls_only_problems
from lepton_infra.policies.joins import per_owner
from lepton_infra.policies.log_targets import LogTargets, log_targets
from lepton_infra.policies.rule import Outcome, Undecided, checkov, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import document_at, get, is_set, is_true
from lepton_infra.policies.view import Finding, Resource, Stack

BUCKET = "alicloud:oss/bucket:Bucket"
ACL = "alicloud:oss/bucketAcl:BucketAcl"
PUBLIC_ACCESS_BLOCK = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption"
VERSIONING = "alicloud:oss/bucketVersioning:BucketVersioning"
POLICY = "alicloud:oss/bucketPolicy:BucketPolicy"
LOGGING = "alicloud:oss/bucketLogging:BucketLogging"
_PARTS = (ACL, PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING, POLICY, LOGGING)


def _per_bucket(
    stack: Stack, rule: Callable[[Resource, list[Resource]], Iterator[Outcome]]
) -> Iterator[Finding]:
    return per_owner(stack, (BUCKET,), _PARTS, "bucket", rule)


def _log_targets(stack: Stack) -> LogTargets:
    return stack.memo("oss-log-targets", lambda s: log_targets(s, (BUCKET,), (LOGGING,)))


def _of(parts: list[Resource], resource_type: str) -> list[Resource]:
    return [p for p in parts if p.type == resource_type]


def _policies(bucket: Resource, parts: list[Resource]) -> list[Any]:
    """The bucket's policy documents as the plan holds them (a secret one stays readable as a secret)."""
    return [
        document_at(bucket.props, "policy"),
        *(document_at(p.props, "policy") for p in _of(parts, POLICY)),
    ]


def _public_access(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    for acl in [get(bucket.props, "acl"), *(get(p.props, "acl") for p in _of(parts, ACL))]:
        if acl not in (None, "private"):
            yield f"the bucket ACL is {acl}"
    if not any(is_true(get(p.props, "blockPublicAccess")) for p in _of(parts, PUBLIC_ACCESS_BLOCK)):
        yield "the bucket does not block public access (BucketPublicAccessBlock)"
    for document in _policies(bucket, parts):
        yield from public_grants(document, principal_kinds=("RAM",))


@view_policy(
    name="alicloud-oss-bucket-disallow-public-access",
    severity="critical",
    description="OSS buckets must be private and block public access.",
    remediation=(
        "Keep the ACL `private` and add an `oss.BucketPublicAccessBlock` with `blockPublicAccess: true`."
    ),
)
def disallow_public_access(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, _public_access)


def _encrypted(bucket: Resource, parts: list[Resource], targets: LogTargets) -> Iterator[Outcome]:
    rules = [
        rule
        for rule in [
            get(bucket.props, "serverSideEncryptionRule"),
            *(p.props for p in _of(parts, ENCRYPTION)),
        ]
        if rule
    ]
    if any(get(rule, "sseAlgorithm") == "KMS" and is_set(rule, "kmsMasterKeyId") for rule in rules):
        return
    # OSS writes access logs itself; into a KMS-encrypted target only through a logging role allowed to use
    # the key (PutBucketLogging's LoggingRole), else delivery fails silently. A dedicated log bucket may
    # therefore use OSS-managed keys, and must use some encryption.
    encrypted = any(get(rule, "sseAlgorithm") in ("AES256", "KMS") for rule in rules)
    if targets.is_log_bucket(bucket.urn):
        if not encrypted:
            yield "the log bucket is not encrypted (set sseAlgorithm AES256, OSS-managed keys)"
        return
    if encrypted and (reason := targets.undecided(bucket.urn)):
        yield Undecided(reason)
        return
    yield "the bucket is not encrypted with a customer KMS key (sseAlgorithm KMS with kmsMasterKeyId)"


@view_policy(
    name="alicloud-oss-bucket-encrypted-with-customer-key",
    severity="high",
    controls=checkov("CKV_ALI_6"),
    description=(
        "OSS buckets must encrypt with a customer KMS key (a dedicated access log bucket at least with "
        "OSS-managed keys)."
    ),
    remediation=(
        "Add an `oss.BucketServerSideEncryption` with `sseAlgorithm: KMS` and `kmsMasterKeyId` "
        "(`sseAlgorithm: AES256` for a log bucket)."
    ),
)
def encrypted_with_customer_key(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    targets = _log_targets(stack)
    return _per_bucket(stack, lambda bucket, parts: _encrypted(bucket, parts, targets))


def _versioned(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    statuses = [
        get(bucket.props, "versioning", "status"),
        *(get(p.props, "status") for p in _of(parts, VERSIONING)),
    ]
    if "Enabled" not in statuses:
        yield "versioning is not enabled"


@view_policy(
    name="alicloud-oss-bucket-versioning-enabled",
    severity="medium",
    controls=checkov("CKV_ALI_10"),
    description="OSS buckets must keep object versions.",
    remediation="Add an `oss.BucketVersioning` with `status: Enabled`.",
)
def versioning_enabled(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, _versioned)


def _tls_only(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    return tls_only_problems(_policies(bucket, parts), "acs:SecureTransport")


@view_policy(
    name="alicloud-oss-bucket-tls-only",
    severity="medium",
    description="OSS buckets must refuse requests that do not use TLS.",
    remediation="Add an `oss.BucketPolicy` with a Deny statement on `acs:SecureTransport: false`.",
)
def tls_only(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, _tls_only)


def _logged(bucket: Resource, parts: list[Resource], targets: LogTargets) -> Iterator[Outcome]:
    inline = get(bucket.props, "logging")
    if is_set(inline, "targetBucket") or any(is_set(p.props, "targetBucket") for p in _of(parts, LOGGING)):
        if bucket.urn in targets.into_itself:
            # "If the source and target buckets are the same, the log storage feature records and pushes
            # these new logs. This causes a logging loop." (OSS user guide, Log storage)
            yield "access logs go into the bucket itself, which logs each delivery in a loop"
        return
    if targets.is_log_bucket(bucket.urn):
        return  # a log bucket that logged its own access would loop the same way (same page)
    if reason := targets.undecided(bucket.urn):
        yield Undecided(reason)
        return
    yield "access logging is off (no BucketLogging names a target bucket)"


@view_policy(
    name="alicloud-oss-bucket-access-logging",
    severity="medium",
    description=(
        "OSS buckets must log access to another bucket, so who read or changed an object can be traced "
        "(a dedicated log bucket logs nothing itself)."
    ),
    remediation="Add an `oss.BucketLogging` for the bucket with `targetBucket` and `targetPrefix`.",
    controls=checkov("CKV_ALI_12"),
)
def access_logging(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    targets = _log_targets(stack)
    return _per_bucket(stack, lambda bucket, parts: _logged(bucket, parts, targets))


POLICIES = (disallow_public_access, encrypted_with_customer_key, versioning_enabled, tls_only, access_logging)
