"""Alibaba Cloud OSS buckets, joined with their separate ACL, encryption, versioning, policy and
public-access-block resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from pulumi_policy import PolicyResource

from lepton_infra.policies.documents import denies_insecure_transport, public_grants
from lepton_infra.policies.joins import per_owner
from lepton_infra.policies.props import get, is_set, is_true
from lepton_infra.policies.rule import stack_policy
from lepton_infra.policies.settings import PolicySettings

BUCKET = "alicloud:oss/bucket:Bucket"
ACL = "alicloud:oss/bucketAcl:BucketAcl"
PUBLIC_ACCESS_BLOCK = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption"
VERSIONING = "alicloud:oss/bucketVersioning:BucketVersioning"
POLICY = "alicloud:oss/bucketPolicy:BucketPolicy"
_PARTS = (ACL, PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING, POLICY)


def _per_bucket(
    resources: Sequence[PolicyResource], rule: Callable[[PolicyResource, list[PolicyResource]], Iterator[str]]
) -> Iterator[tuple[str, str | None]]:
    return per_owner(resources, (BUCKET,), _PARTS, "bucket", rule)


def _of(parts: list[PolicyResource], resource_type: str) -> list[PolicyResource]:
    return [p for p in parts if p.resource_type == resource_type]


def _public_access(bucket: PolicyResource, parts: list[PolicyResource]) -> Iterator[str]:
    for acl in [get(bucket.props, "acl"), *(get(p.props, "acl") for p in _of(parts, ACL))]:
        if acl not in (None, "private"):
            yield f"the bucket ACL is {acl}"
    if not any(is_true(get(p.props, "blockPublicAccess")) for p in _of(parts, PUBLIC_ACCESS_BLOCK)):
        yield "the bucket does not block public access (BucketPublicAccessBlock)"
    for document in [get(bucket.props, "policy"), *(get(p.props, "policy") for p in _of(parts, POLICY))]:
        yield from public_grants(document, principal_kinds=("RAM",))


@stack_policy(
    name="alicloud-oss-bucket-disallow-public-access",
    severity="critical",
    description="OSS buckets must be private and block public access.",
    remediation=(
        "Keep the ACL `private` and add an `oss.BucketPublicAccessBlock` with `blockPublicAccess: true`."
    ),
)
def disallow_public_access(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    return _per_bucket(resources, _public_access)


def _encrypted(bucket: PolicyResource, parts: list[PolicyResource]) -> Iterator[str]:
    rules = [get(bucket.props, "serverSideEncryptionRule"), *(p.props for p in _of(parts, ENCRYPTION))]
    if not any(
        get(rule, "sseAlgorithm") == "KMS" and is_set(rule, "kmsMasterKeyId") for rule in rules if rule
    ):
        yield "the bucket is not encrypted with a customer KMS key (sseAlgorithm KMS with kmsMasterKeyId)"


@stack_policy(
    name="alicloud-oss-bucket-encrypted-with-customer-key",
    severity="high",
    description="OSS buckets must encrypt with a customer KMS key.",
    remediation="Add an `oss.BucketServerSideEncryption` with `sseAlgorithm: KMS` and `kmsMasterKeyId`.",
)
def encrypted_with_customer_key(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    return _per_bucket(resources, _encrypted)


def _versioned(bucket: PolicyResource, parts: list[PolicyResource]) -> Iterator[str]:
    statuses = [
        get(bucket.props, "versioning", "status"),
        *(get(p.props, "status") for p in _of(parts, VERSIONING)),
    ]
    if "Enabled" not in statuses:
        yield "versioning is not enabled"


@stack_policy(
    name="alicloud-oss-bucket-versioning-enabled",
    severity="medium",
    description="OSS buckets must keep object versions.",
    remediation="Add an `oss.BucketVersioning` with `status: Enabled`.",
)
def versioning_enabled(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    return _per_bucket(resources, _versioned)


def _tls_only(bucket: PolicyResource, parts: list[PolicyResource]) -> Iterator[str]:
    documents = [get(bucket.props, "policy"), *(get(p.props, "policy") for p in _of(parts, POLICY))]
    if not any(denies_insecure_transport(d, "acs:SecureTransport") for d in documents):
        yield "no bucket policy denies requests without TLS (acs:SecureTransport = false)"


@stack_policy(
    name="alicloud-oss-bucket-tls-only",
    severity="medium",
    description="OSS buckets must refuse requests that do not use TLS.",
    remediation="Add an `oss.BucketPolicy` with a Deny statement on `acs:SecureTransport: false`.",
)
def tls_only(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    return _per_bucket(resources, _tls_only)


POLICIES = (disallow_public_access, encrypted_with_customer_key, versioning_enabled, tls_only)
