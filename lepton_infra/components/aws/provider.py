"""The explicit AWS provider every resource of a site uses: region, default tags and identity, nothing ambient
beyond the credentials themselves."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def aws_provider(
    name: str,
    region: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    *,
    profile: str | None = None,
    assume_role_arn: str | None = None,
) -> aws.Provider:
    """The site's provider; ``profile`` and ``assume_role_arn`` pick its identity, and the cluster's
    kubeconfig is given the same two (``cluster.TokenIdentity``) so both act as one principal."""
    return aws.Provider(
        name,
        aws.ProviderArgs(
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)),
            skip_credentials_validation=False,
            profile=profile,
            assume_roles=(
                [aws.ProviderAssumeRoleArgs(role_arn=assume_role_arn, session_name=f"lepton-{name}")]
                if assume_role_arn
                else None
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
