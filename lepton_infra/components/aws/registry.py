"""AwsEcrRepository: a private image repository that keeps what was pushed immutable and scanned."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsEcrRepositoryArgs:
    kms_key_arn: pulumi.Input[str]
    # ECR name, e.g. "lepton/train"; defaults to the component's name.
    repository_name: str | None = None
    # Tagged images kept per repository; older ones expire (digests in use should be re-tagged or pinned).
    keep_tagged_images: int = 100
    untagged_expiry_days: int = 14
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


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
    repository_url: pulumi.Output[str]
    registry_id: pulumi.Output[str]

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
