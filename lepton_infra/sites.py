"""Sites by cloud (the one place that branches on a site's ``cloud``), and a site's facts made a handle.

Builders are imported on use, so a single-cloud stack never imports the other clouds' SDKs.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from typing import Protocol

import pulumi

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec, SiteSpec
from lepton_infra.components.handle import (
    ApiEndpoint,
    ClusterFacts,
    ClusterHandle,
    ServiceAccountBinder,
    ServiceAccountBinding,
    service_account_key,
)
from lepton_infra.components.kubernetes.tenancy import workload_account
from lepton_infra.components.site_kit import BuiltSite, SecretLookup, kubernetes_provider

_BUILDERS: dict[str, str] = {
    "aws": "lepton_infra.components.aws.site",
    "azure": "lepton_infra.components.azure.site",
    "alicloud": "lepton_infra.components.alicloud.site",
    "existing": "lepton_infra.components.existing.site",
}


class SiteBuilder(Protocol):
    """A cloud module's ``build_site``: given everything it needs (it reads no config), it builds the site
    and states the facts its Kubernetes layer needs."""

    def __call__(
        self,
        site: SiteSpec,
        platform: PlatformSpec,
        opts: pulumi.ResourceOptions,
        secrets: SecretLookup | None = None,
    ) -> BuiltSite: ...


def build_site(
    site: SiteSpec,
    platform: PlatformSpec,
    opts: pulumi.ResourceOptions,
    secrets: SecretLookup | None = None,
) -> BuiltSite:
    """The site built; ``secrets`` reads secret config values the site's spec names (by key)."""
    module = importlib.import_module(_BUILDERS[site.cloud])
    builder: SiteBuilder = module.build_site
    return builder(site, platform, opts, secrets)


def site_facts(
    site: SiteSpec,
    platform: PlatformSpec,
    opts: pulumi.ResourceOptions,
    secrets: SecretLookup | None = None,
) -> tuple[ClusterFacts, BuiltSite]:
    """Build ``site`` with the identities of the workloads placed on it; its facts, and what was built.

    Identities are cloud resources, so the stack that builds the site makes them, before any Kubernetes
    layer asks: that layer's runner then needs no cloud rights, and binds each workload ServiceAccount
    to the identity made for it.
    """
    built = build_site(site, platform, opts, secrets)
    accounts = [workload_account(w) for w in platform.workloads_on(site.name)]
    facts = built.with_identities(accounts)
    return dataclasses.replace(facts, api_endpoint=api_endpoint(site)), built


def api_endpoint(site: SiteSpec) -> ApiEndpoint | None:
    """How the site's cluster API is exposed; None for an existing cluster (the platform does not know)."""
    if isinstance(site, ExistingSiteSpec):
        return None
    allowlist = tuple(str(cidr) for cidr in site.network.api_allowlist)
    return ApiEndpoint(public=bool(allowlist), allowlist=allowlist)


def handle_from_facts(
    facts: ClusterFacts, name: str, parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()
) -> ClusterHandle:
    """A handle to deploy through: a Kubernetes provider from the facts' kubeconfig, made under ``parent``,
    named ``<name>-k8s`` and waiting for ``depends_on``, and a binder that looks each ServiceAccount up in
    the facts' identities."""
    provider = kubernetes_provider(
        name, facts.kubeconfig, parent, context=facts.kubeconfig_context, depends_on=depends_on
    )
    values = {f.name: getattr(facts, f.name) for f in dataclasses.fields(ClusterFacts)}
    return ClusterHandle(**values, provider=provider, bind_service_account=_lookup(facts), parent=parent)


class MissingIdentity(pulumi.RunError):
    """A workload's ServiceAccount has no identity in the facts: its cloud layer predates the workload."""


def _lookup(facts: ClusterFacts) -> ServiceAccountBinder:
    def bind(namespace: str, service_account: str) -> ServiceAccountBinding:
        binding = facts.service_accounts.get(service_account_key(namespace, service_account))
        if binding is None:
            raise MissingIdentity(
                f"workload {namespace}/{service_account} has no cloud identity on site {facts.site!r}: add "
                "the workload to the cloud layer's stack file and run that stack's `pulumi up` first (the "
                "cloud layer makes workload identities)"
            )
        return binding

    return bind
