"""Alibaba Cloud OSS buckets, joined with their separate ACL, encryption, versioning, policy and
public-access-block resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lepton_infra.policies.documents import public_grants, tls_only_problems
from lepton_infra.policies.joins import per_owner
from lepton_infra.policies.rule import Outcome, checkov, view_policy
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


def _encrypted(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    rules = [get(bucket.props, "serverSideEncryptionRule"), *(p.props for p in _of(parts, ENCRYPTION))]
    if not any(
        get(rule, "sseAlgorithm") == "KMS" and is_set(rule, "kmsMasterKeyId") for rule in rules if rule
    ):
        yield "the bucket is not encrypted with a customer KMS key (sseAlgorithm KMS with kmsMasterKeyId)"


@view_policy(
    name="alicloud-oss-bucket-encrypted-with-customer-key",
    severity="high",
    controls=checkov("CKV_ALI_6"),
    description="OSS buckets must encrypt with a customer KMS key.",
    remediation="Add an `oss.BucketServerSideEncryption` with `sseAlgorithm: KMS` and `kmsMasterKeyId`.",
)
def encrypted_with_customer_key(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, _encrypted)


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


def _logged(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    inline = get(bucket.props, "logging")
    if not is_set(inline, "targetBucket") and not any(
        is_set(p.props, "targetBucket") for p in _of(parts, LOGGING)
    ):
        yield "access logging is off (no BucketLogging names a target bucket)"


@view_policy(
    name="alicloud-oss-bucket-access-logging",
    severity="medium",
    description="OSS buckets must log access, so who read or changed an object can be traced.",
    remediation="Add an `oss.BucketLogging` for the bucket with `targetBucket` and `targetPrefix`.",
    controls=checkov("CKV_ALI_12"),
)
def access_logging(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, _logged)


POLICIES = (disallow_public_access, encrypted_with_customer_key, versioning_enabled, tls_only, access_logging)
