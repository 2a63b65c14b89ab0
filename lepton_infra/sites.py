"""Choosing a site builder by cloud: the one place that branches on a site's ``cloud``.

Builders are imported on use, so a single-cloud stack never imports the other clouds' SDKs.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import pulumi

from lepton_infra.blueprint import PlatformSpec, SiteSpec
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.site_kit import SecretLookup

_BUILDERS: dict[str, str] = {
    "aws": "lepton_infra.components.aws.site",
    "azure": "lepton_infra.components.azure.site",
    "alicloud": "lepton_infra.components.alicloud.site",
    "existing": "lepton_infra.components.existing.site",
}


class SiteBuilder(Protocol):
    """A cloud module's ``build_site``: given everything it needs (it reads no config), it builds the site
    and returns the handle the Kubernetes layer deploys through."""

    def __call__(
        self,
        site: SiteSpec,
        platform: PlatformSpec,
        opts: pulumi.ResourceOptions,
        secrets: SecretLookup | None = None,
    ) -> ClusterHandle: ...


def build_site(
    site: SiteSpec,
    platform: PlatformSpec,
    opts: pulumi.ResourceOptions,
    secrets: SecretLookup | None = None,
) -> ClusterHandle:
    """The site's handle; ``secrets`` reads secret config values the site's spec names (by key)."""
    module = importlib.import_module(_BUILDERS[site.cloud])
    builder: SiteBuilder = module.build_site
    return builder(site, platform, opts, secrets)
