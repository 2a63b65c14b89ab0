"""The explicit AWS provider every resource of a site uses: region and default tags, nothing ambient."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def aws_provider(name: str, region: str, tags: Mapping[str, str], parent: pulumi.Resource) -> aws.Provider:
    return aws.Provider(
        name,
        aws.ProviderArgs(
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)),
            skip_credentials_validation=False,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
