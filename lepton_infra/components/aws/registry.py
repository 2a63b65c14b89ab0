"""AwsEcrRepository: a private image repository that keeps what was pushed immutable and scanned."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import at, at_least, ecr_repository_name


@dataclass(frozen=True)
class AwsEcrRepositoryArgs:
    """The inputs of an AwsEcrRepository."""

    kms_key_arn: pulumi.Input[str]
    """ARN of the KMS key the repository's image layers are encrypted with, e.g. an AwsKmsKey's ``arn``.
    Fixed at creation: ECR cannot re-encrypt a repository, so changing it replaces the repository."""
    repository_name: str | None = None
    """The repository's name, e.g. ``lepton/train``: lowercase letters, digits and ``. _ - /``, 2 to 256
    characters. None takes the component's name."""
    keep_tagged_images: int = 100
    """Tagged images kept; the lifecycle policy expires older ones. Pin what you run by digest, or re-tag an
    old image you still need, before it falls out of this window."""
    untagged_expiry_days: int = 14
    """Days after its push an untagged image (a tag moved away from it) is expired."""
    protect: bool = True
    """Protect the repository from deletion by Pulumi (ECR also refuses to delete one that holds images:
    ``force_delete`` is off)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the repository, besides the provider's default tags."""

    def __post_init__(self) -> None:
        # ECR lifecycle rules count from 1 ("countNumber ... Minimum value of 1", ECR lifecycle policy
        # parameters).
        refuse_args(
            self,
            [
                *at("repository_name", ecr_repository_name(self.repository_name)),
                *at("keep_tagged_images", at_least(self.keep_tagged_images, 1, "image")),
                *at("untagged_expiry_days", at_least(self.untagged_expiry_days, 1, "day")),
            ],
        )


def lifecycle_policy(keep_tagged_images: int, untagged_expiry_days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {untagged_expiry_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expiry_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the newest {keep_tagged_images} tagged images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_tagged_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        }
    )


class AwsEcrRepository(pulumi.ComponentResource):
    """An ECR repository with immutable tags, scan on push, KMS encryption and a lifecycle policy."""

    arn: pulumi.Output[str]
    """ARN of the repository: what a workload role's pull permission names."""
    repository_url: pulumi.Output[str]
    """Where images are pushed and pulled: ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``."""
    registry_id: pulumi.Output[str]
    """The account ID of the registry that holds the repository."""

    def __init__(
        self, name: str, args: AwsEcrRepositoryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:EcrRepository", name, None, opts)
        repository = aws.ecr.Repository(
            f"{name}-repo",
            aws.ecr.RepositoryArgs(
                name=args.repository_name or name,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=args.kms_key_arn
                    )
                ],
                force_delete=False,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            aws.ecr.LifecyclePolicyArgs(
                repository=repository.name,
                policy=lifecycle_policy(args.keep_tagged_images, args.untagged_expiry_days),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = repository.arn
        self.repository_url = repository.repository_url
        self.registry_id = repository.registry_id
        self.register_outputs({"arn": self.arn, "repository_url": self.repository_url})
