"""What every site builder shares: what it is given, and the steps each takes the same way.

A site builder (``lepton_infra.sites``) gets its site's spec, the platform's spec and a way to read
secret config: it reads no config itself. It names its component ``<platform>-<site>``, runs each GPU
pool on the catalog's type, labelled and tainted the standard way (``gpu_nodes``), and reaches its
cluster through a Kubernetes provider with server-side apply (made by the platform from the site's facts,
so a cloud layer has none). Cloud-neutral: imports no cloud SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint import ExistingSiteSpec, GpuPoolSpec, ManagedSiteSpec, PlatformSpec
from lepton_infra.catalog import Cloud, InstanceOffering, Resources, node_room, pool_offering
from lepton_infra.components.gpu_nodes import gpu_node_labels
from lepton_infra.components.handle import (
    ClusterFacts,
    NodePlacement,
    ServiceAccountBinder,
    Toleration,
    service_account_key,
)

# Reads a secret config value by its key, e.g. ``pulumi.Config("lepton-infra").require_secret``: the
# program resolves config, so a site never reads ``pulumi.Config`` and the secret stays one in the state.
SecretLookup = Callable[[str], pulumi.Output[str]]


def site_component_name(site: ManagedSiteSpec | ExistingSiteSpec, platform: PlatformSpec) -> str:
    """The name of a site's component, and so the prefix of every resource in it."""
    return f"{platform.name}-{site.name}"


Managed = TypeVar("Managed", bound=ManagedSiteSpec)


@dataclass(frozen=True, kw_only=True)
class BuiltSite(ClusterFacts):
    """What a site builder made: the cluster's facts, how its cloud gives a workload ServiceAccount an
    identity of its own (a cloud resource: only the cloud layer calls it), and the site's component, under
    which the platform puts the site's Kubernetes provider."""

    bind_service_account: ServiceAccountBinder
    parent: pulumi.Resource
    # What the Kubernetes layer waits for in the cluster beyond its API server (nodes, DNS): in one stack
    # its provider depends on them; a Kubernetes layer of its own runs once the cloud layer is done.
    ready: Sequence[pulumi.Resource] = ()

    def with_identities(self, accounts: Iterable[tuple[str, str]]) -> ClusterFacts:
        """The facts, each ``(namespace, name)`` of ``accounts`` bound to its identity, made now."""
        bound = {service_account_key(ns, name): self.bind_service_account(ns, name) for ns, name in accounts}
        facts = {f.name: getattr(self, f.name) for f in fields(ClusterFacts)}
        return ClusterFacts(**{**facts, "service_accounts": {**self.service_accounts, **bound}})


class _Site(Protocol):
    @property
    def built(self) -> BuiltSite: ...


def managed_site_builder(
    component: Callable[[str, Managed, PlatformSpec, pulumi.ResourceOptions], _Site],
) -> Callable[[Managed, PlatformSpec, pulumi.ResourceOptions, SecretLookup | None], BuiltSite]:
    """The ``build_site`` of a cloud that builds its own cluster: its site ``component``, named
    ``<platform>-<site>``. Such a site reads no secret config, so it takes the lookup and leaves it."""

    def build_site(
        site: Managed, platform: PlatformSpec, opts: pulumi.ResourceOptions, secrets: SecretLookup | None
    ) -> BuiltSite:
        return component(site_component_name(site, platform), site, platform, opts).built

    return build_site


@dataclass(frozen=True)
class GpuPoolPlan:
    """One GPU pool of a site, resolved: the catalog type its nodes run and the labels they carry."""

    pool: GpuPoolSpec
    offering: InstanceOffering
    cloud: Cloud

    @property
    def labels(self) -> dict[str, str]:
        return gpu_node_labels(self.pool.name, self.pool.accelerator.value)

    @property
    def room(self) -> Resources:
        """What one node has for workload pods: the catalog's allocatable less the GPU-node DaemonSets."""
        return node_room(self.cloud, self.offering)

    def placement(self, *extra_tolerations: Toleration) -> NodePlacement:
        """How pods land on the pool; ``extra_tolerations`` for taints the cloud adds (AKS spot nodes)."""
        return NodePlacement.for_gpu_pool(
            self.pool.name,
            self.pool.accelerator.value,
            self.offering.gpus,
            *extra_tolerations,
            room=self.room,
        )


def gpu_pool_plans(cloud: Cloud, site: ManagedSiteSpec) -> list[GpuPoolPlan]:
    """Every GPU pool of ``site`` on the type it names, or the catalog's default for its accelerator."""
    return [
        GpuPoolPlan(pool, pool_offering(cloud, site.region, pool.accelerator, pool.instance_type), cloud)
        for pool in site.gpu_pools
    ]


def kubernetes_provider(
    name: str,
    kubeconfig: pulumi.Input[str],
    parent: pulumi.Resource,
    context: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.Provider:
    """The provider the site's Kubernetes layer deploys through, with server-side apply. It (and so every
    object deployed through it) waits for ``depends_on``: the nodes and DNS a cluster needs before the
    first pod can run, not only its API server."""
    return k8s.Provider(
        f"{name}-k8s",
        k8s.ProviderArgs(kubeconfig=kubeconfig, context=context, enable_server_side_apply=True),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
