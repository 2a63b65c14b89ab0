"""The explicit Alibaba Cloud provider every resource of a site uses: its region, over HTTPS."""

from __future__ import annotations

import pulumi
import pulumi_alicloud as alicloud


def alicloud_provider(name: str, region: str, parent: pulumi.Resource) -> alicloud.Provider:
    # pulumi-alicloud has no default tags: each component puts the site's tags on its resources itself.
    return alicloud.Provider(
        name,
        alicloud.ProviderArgs(region=region, protocol="HTTPS", skip_region_validation=False),
        opts=pulumi.ResourceOptions(parent=parent),
    )
