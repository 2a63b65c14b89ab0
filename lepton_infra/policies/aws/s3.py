"""S3 buckets, joined with their separate configuration resources (pulumi-aws 7 and the V2 names)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lepton_infra.policies.documents import grants_service, public_grants, tls_only_problems
from lepton_infra.policies.joins import owners_with_parts, per_owner
from lepton_infra.policies.log_targets import LogTargets, log_targets
from lepton_infra.policies.rule import Outcome, Undecided, checkov, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, document_at, get, is_set, is_true
from lepton_infra.policies.view import Finding, Resource, Stack

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
# The service principal that writes server access logs (Amazon S3 user guide, Enabling server access logging).
LOG_DELIVERY = "logging.s3.amazonaws.com"
_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _per_bucket(
    stack: Stack, parts: tuple[str, ...], rule: Callable[[Resource, list[Resource]], Iterator[Outcome]]
) -> Iterator[Finding]:
    return per_owner(stack, BUCKETS, parts, "bucket", rule)


def _log_targets(stack: Stack) -> LogTargets:
    return stack.memo("s3-log-targets", lambda s: log_targets(s, BUCKETS, LOGGING))


def _undeliverable(stack: Stack) -> dict[str, str]:
    """Why S3 would not deliver server access logs into a bucket, by the bucket's URN (where it would not).

    "The destination bucket must not have a default retention period configuration", and default SSE-KMS
    "is not supported" there (Amazon S3 user guide, Enabling server access logging): logging accepts the
    configuration and delivers nothing, so a log bucket set up that way is no logging at all. So does an
    owner-enforced target whose policy does not let ``logging.s3.amazonaws.com`` write: with ACLs off
    "you must update the bucket policy for the destination bucket to grant access to the logging service
    principal" (same page); without it "nothing is actually logged" (runs-on/runs-on#241)."""

    def build(s: Stack) -> dict[str, str]:
        found: dict[str, str] = {}
        parts_of = (*ENCRYPTION, *OBJECT_LOCK, *OWNERSHIP, *POLICY)
        for bucket, parts in owners_with_parts(s, BUCKETS, parts_of, "bucket"):
            reasons = []
            configs = [p for p in parts if p.type in ENCRYPTION]
            algorithms = [
                get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                for r in _kms_rules(bucket, configs)
            ]
            if any(str(a).startswith("aws:kms") for a in algorithms):
                reasons.append("its default encryption is SSE-KMS")
            locks = [
                bucket.props.get("objectLockConfiguration"),
                *(p.props for p in parts if p.type in OBJECT_LOCK),
            ]
            if any(is_set(get(lock, "rule"), "defaultRetention") for lock in locks if lock):
                reasons.append("it has an Object Lock default retention")
            if _acls_off(parts) and not _lets_log_delivery_write(bucket, parts):
                reasons.append(f"its ACLs are off and no bucket policy lets {LOG_DELIVERY} put objects")
            if reasons:
                found[bucket.urn] = f"{bucket.name}, where S3 does not deliver them ({' and '.join(reasons)})"
        return found

    return stack.memo("s3-undeliverable-log-targets", build)


def _acls_off(parts: list[Resource]) -> bool:
    return any(
        get(p.props, "rule", "objectOwnership") == "BucketOwnerEnforced" for p in parts if p.type in OWNERSHIP
    )


def _lets_log_delivery_write(bucket: Resource, parts: list[Resource]) -> bool:
    """True unless every policy of the bucket is readable and none grants log delivery ``s3:PutObject``."""
    documents = [
        document_at(bucket.props, "policy"),
        *(document_at(p.props, "policy") for p in parts if p.type in POLICY),
    ]
    grants = [grants_service(d, LOG_DELIVERY, "s3:PutObject") for d in documents if d is not None]
    return any(g is not False for g in grants)


def _kms_rules(bucket: Resource, configs: list[Resource]) -> list[object]:
    # The deprecated inline block on the bucket still counts, for programs that use it.
    inline = get(bucket.props, "serverSideEncryptionConfiguration", "rule")
    return [*as_list(inline), *(rule for c in configs for rule in as_list(get(c.props, "rules")))]


def _encrypted(bucket: Resource, configs: list[Resource], targets: LogTargets) -> Iterator[Outcome]:
    defaults = [
        get(rule, "applyServerSideEncryptionByDefault", default={}) for rule in _kms_rules(bucket, configs)
    ]
    if any(
        str(get(d, "sseAlgorithm")).startswith("aws:kms") and is_set(d, "kmsMasterKeyId") for d in defaults
    ):
        return
    # A log bucket cannot take a KMS key: "You can use default bucket encryption on the destination bucket
    # only if you use server-side encryption with Amazon S3 managed keys (SSE-S3) ... Default server-side
    # encryption with AWS KMS keys (SSE-KMS) is not supported" (Amazon S3 user guide, Enabling server
    # access logging). SSE-S3 is what it can have, and what it must have.
    sse_s3 = any(get(d, "sseAlgorithm") == "AES256" for d in defaults)
    if targets.is_log_bucket(bucket.urn):
        if not sse_s3:
            yield (
                "the log bucket is not encrypted with SSE-S3 (sseAlgorithm AES256), the only default "
                "encryption S3 server access logging delivers to"
            )
        return
    if sse_s3 and (reason := targets.undecided(bucket.urn)):
        yield Undecided(reason)
        return
    yield "the bucket is not encrypted with a customer KMS key (no aws:kms rule with kmsMasterKeyId)"


@view_policy(
    name="aws-s3-bucket-encrypted-with-customer-key",
    severity="high",
    description=(
        "S3 buckets must default-encrypt with a customer-managed KMS key (a dedicated server access log "
        "bucket with SSE-S3, the only default encryption log delivery accepts)."
    ),
    remediation=(
        "Add an `aws.s3.BucketServerSideEncryptionConfiguration` with `sseAlgorithm: aws:kms` and "
        "`kmsMasterKeyId` for the bucket (`sseAlgorithm: AES256` for a log bucket)."
    ),
    controls=checkov("CKV_AWS_145"),
)
def encrypted_with_customer_key(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    targets = _log_targets(stack)
    return _per_bucket(
        stack,
        ENCRYPTION,
        lambda bucket, configs: _encrypted(bucket, configs, targets),
    )


def _public_access(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    blocks = [p for p in parts if p.type in PUBLIC_ACCESS_BLOCK]
    if not blocks:
        yield "the bucket has no public access block"
    for block in blocks:
        off = [flag for flag in _BLOCK_FLAGS if not is_true(get(block.props, flag))]
        if off:
            yield f"the public access block leaves {', '.join(off)} off"
    acls = [get(bucket.props, "acl"), *(get(p.props, "acl") for p in parts if p.type in ACL)]
    for acl in acls:
        if acl in _PUBLIC_ACLS:
            yield f"the bucket ACL is {acl}"
    for document in [
        document_at(bucket.props, "policy"),
        *(document_at(p.props, "policy") for p in parts if p.type in POLICY),
    ]:
        yield from public_grants(document, principal_kinds=("AWS",))


@view_policy(
    name="aws-s3-bucket-public-access-blocked",
    severity="critical",
    description="S3 buckets must block every form of public access.",
    remediation=(
        "Add an `aws.s3.BucketPublicAccessBlock` with all four flags true; drop public ACLs and '*' "
        "policy grants."
    ),
    controls=checkov("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_20"),
)
def public_access_blocked(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, (*PUBLIC_ACCESS_BLOCK, *ACL, *POLICY), _public_access)


def _versioned(bucket: Resource, parts: list[Resource]) -> Iterator[Outcome]:
    inline = is_true(get(bucket.props, "versioning", "enabled"))
    if not inline and not any(get(p.props, "versioningConfiguration", "status") == "Enabled" for p in parts):
        yield "versioning is not enabled"


@view_policy(
    name="aws-s3-bucket-versioning-enabled",
    severity="medium",
    description="S3 buckets must keep object versions, so an overwrite or delete can be undone.",
    remediation=(
        "Add an `aws.s3.BucketVersioning` with `versioningConfiguration: {status: Enabled}` for the bucket."
    ),
    controls=checkov("CKV_AWS_21"),
)
def versioning_enabled(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, VERSIONING, _versioned)


def _tls_only(bucket: Resource, policies: list[Resource]) -> Iterator[Outcome]:
    documents = [document_at(bucket.props, "policy"), *(document_at(p.props, "policy") for p in policies)]
    return tls_only_problems(documents, "aws:SecureTransport")


@view_policy(
    name="aws-s3-bucket-tls-only",
    severity="medium",
    description="S3 buckets must refuse requests that do not use TLS.",
    remediation=(
        "Add an `aws.s3.BucketPolicy` with a Deny statement on `aws:SecureTransport: false` for the "
        "bucket and its objects."
    ),
)
def tls_only(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    return _per_bucket(stack, POLICY, _tls_only)


def _logged(
    bucket: Resource, parts: list[Resource], targets: LogTargets, undeliverable: dict[str, str]
) -> Iterator[Outcome]:
    # pulumi-aws 7 keeps the deprecated inline `logging` (v6: `loggings`) next to the BucketLogging resource.
    inline = get(bucket.props, "logging") or get(bucket.props, "loggings")
    if inline or any(is_set(p.props, "targetBucket") for p in parts):
        target = targets.target_of.get(bucket.urn)
        if target in undeliverable:
            yield f"server access logs go to {undeliverable[target]}"
        if bucket.urn in targets.into_itself:
            # S3: "Your target bucket should not have server access logging enabled"; a bucket that logs
            # into itself logs every delivery of its own logs (Amazon S3 user guide, Enabling server
            # access logging).
            yield "server access logs go into the bucket itself, which logs each delivery in a loop"
        return
    if targets.is_log_bucket(bucket.urn):
        return  # a target should not log itself (same page); its sources' logs are the record
    if reason := targets.undecided(bucket.urn):
        yield Undecided(reason)
        return
    yield "server access logging is off (no BucketLogging names a target bucket)"


@view_policy(
    name="aws-s3-bucket-access-logging",
    severity="medium",
    description=(
        "S3 buckets must log server access to another bucket, so who read or changed an object can be "
        "traced (a dedicated log bucket logs nothing itself)."
    ),
    remediation=(
        "Add an `aws.s3.BucketLogging` for the bucket with `targetBucket` (a log bucket of the site) and "
        "`targetPrefix`."
    ),
    controls=checkov("CKV_AWS_18"),
)
def access_logging(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    targets, undeliverable = _log_targets(stack), _undeliverable(stack)
    return _per_bucket(stack, LOGGING, lambda bucket, parts: _logged(bucket, parts, targets, undeliverable))


POLICIES = (encrypted_with_customer_key, public_access_blocked, versioning_enabled, tls_only, access_logging)
