"""Amazon ECR: immutable tags, scan on push, our KMS key, never public."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.documents import public_grants
from lepton_infra.policies.rule import Outcome, Subject, checkov, cis_eks, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, document_at, get, is_set, is_true

REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"
PUBLIC_REPOSITORY_POLICY = "aws:ecrpublic/repositoryPolicy:RepositoryPolicy"


@resource_policy(
    name="aws-ecr-repository-immutable-tags",
    types=(REPOSITORY,),
    severity="medium",
    description="ECR tags must be immutable, so a tag always names the image that was scanned and deployed.",
    remediation="Set `imageTagMutability: IMMUTABLE`.",
    controls=checkov("CKV_AWS_51"),
)
def immutable_tags(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not str(get(r.props, "imageTagMutability", default="MUTABLE")).startswith("IMMUTABLE"):
        yield "image tags are mutable"


@resource_policy(
    name="aws-ecr-repository-scan-on-push",
    types=(REPOSITORY,),
    severity="medium",
    description="ECR must scan every image for vulnerabilities when it is pushed.",
    remediation="Set `imageScanningConfiguration: {scanOnPush: true}`.",
    controls=(*cis_eks("5.1.1"), *checkov("CKV_AWS_163")),
)
def scan_on_push(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not is_true(get(r.props, "imageScanningConfiguration", "scanOnPush")):
        yield "images are not scanned on push"


@resource_policy(
    name="aws-ecr-repository-customer-key",
    types=(REPOSITORY,),
    severity="medium",
    description="ECR repositories must be encrypted with a customer-managed KMS key.",
    remediation="Set `encryptionConfigurations: [{encryptionType: KMS, kmsKey: <key ARN>}]`.",
    controls=checkov("CKV_AWS_136"),
)
def customer_key(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    configs = as_list(get(r.props, "encryptionConfigurations"))
    if not configs or get(configs[0], "encryptionType") != "KMS" or not is_set(configs[0], "kmsKey"):
        yield "the repository is not encrypted with a customer-managed KMS key"


@resource_policy(
    name="aws-ecr-repository-disallow-public",
    types=(PUBLIC_REPOSITORY, REPOSITORY_POLICY, PUBLIC_REPOSITORY_POLICY),
    severity="critical",
    description=(
        "Container images must not be public: no ECR Public repositories, no repository policy for '*'."
    ),
    remediation="Use a private `aws.ecr.Repository`; grant pulls to named account or role ARNs only.",
    controls=checkov("CKV_AWS_32"),
)
def disallow_public(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if r.type == PUBLIC_REPOSITORY:
        yield "ECR Public repositories are readable by anyone"
        return
    yield from public_grants(document_at(r.props, "policy"), principal_kinds=("AWS",))


POLICIES = (immutable_tags, scan_on_push, customer_key, disallow_public)
