"""Platform: the component that turns a PlatformSpec into sites (clusters) and the workloads on them."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pulumi

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec, SiteSpec
from lepton_infra.blueprint.deployment import Layer, kubernetes_sites
from lepton_infra.blueprint.queueing import dispatch_namespaces, site_queues
from lepton_infra.components.handle import ClusterFacts, ClusterHandle
from lepton_infra.components.kubernetes.multikueue import connect_sites
from lepton_infra.components.kubernetes.site_workloads import SiteWorkloads, deploy_workloads
from lepton_infra.components.site_kit import SecretLookup, site_component_name
from lepton_infra.layers import ReferencedSite, access_record, cloud_layer_facts
from lepton_infra.sites import handle_from_facts, site_facts


class Platform(pulumi.ComponentResource):
    """The layer of the spec's platform this stack deploys (``spec.deployment``), site by site.

    - ``layer: all``: every site, each through its own explicit cloud provider, and its Kubernetes layer
      (GPU runtime, Kueue for the teams, the workloads placed on it), through a Kubernetes provider made
      from the site's facts in memory; then MultiKueue between the sites, where the spec asks for it.
    - ``layer: cloud``: every cluster the platform builds, with the identities of the workloads placed
      on it, and no Kubernetes object: ``cloud_facts`` is what the stack exports for its Kubernetes layer.
    - ``layer: kubernetes``: the workloads on the chosen sites, through providers made from the cloud
      stack's outputs (a stack reference); an existing cluster is reached through its own kubeconfig.

    ``handles`` maps each site deployed from facts in memory to its ClusterHandle. Nothing here reads
    config: ``secrets`` reads the secret values the spec names by key (an existing cluster's kubeconfig),
    e.g. ``pulumi.Config("lepton-infra").require_secret``.
    """

    handles: dict[str, ClusterHandle]
    kubeconfigs: pulumi.Output[dict[str, str]]
    registries: dict[str, pulumi.Output[str]]
    artifact_buckets: dict[str, pulumi.Output[str]]
    # The `cluster_facts` output of a cloud layer (empty in the other layers).
    cloud_facts: dict[str, Any]

    def __init__(
        self,
        name: str,
        spec: PlatformSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secrets: SecretLookup | None = None,
    ) -> None:
        deployment = spec.deployment
        # A stack of one layer says so in its inputs, where policies see it: a cloud layer's clusters get
        # their Kubernetes layer from another stack (layer: all records nothing, as before layers).
        layer = None if deployment.layer is Layer.ALL else {"layer": deployment.layer.value}
        super().__init__("lepton:index:Platform", name, layer, opts)
        child = pulumi.ResourceOptions(parent=self)
        deployed = kubernetes_sites(deployment, [s.name for s in spec.sites])
        self.handles = {}
        local: dict[str, tuple[SiteSpec, ClusterFacts]] = {}
        for site in spec.sites:
            if not _builds(deployment.layer, site, site.name in deployed):
                continue
            facts, built = site_facts(site, spec, child, secrets)
            local[site.name] = (site, facts)
            if site.name in deployed:
                name_ = site_component_name(site, spec)
                self.handles[site.name] = handle_from_facts(
                    facts, name_, built.parent, depends_on=built.ready
                )
        exported: dict[str, pulumi.Output[ClusterFacts]] = {}
        built_facts = {n: facts for n, (_, facts) in local.items()}
        referenced = [s for s in spec.sites if s.name in deployed and s.name not in local]
        if referenced and deployment.cloud_stack is not None:
            exported = self._deploy_referenced(spec, referenced, deployment.cloud_stack, built_facts, child)
        elif deployed:
            _deploy_kubernetes(spec, self.handles, built_facts, child)
        self.cloud_facts = cloud_layer_facts(local) if deployment.layer is Layer.CLOUD else {}
        kubeconfigs = {n: facts.kubeconfig for n, (_, facts) in local.items()}
        self.registries = {n: facts.registry for n, (_, facts) in local.items()}
        self.artifact_buckets = {n: facts.artifact_bucket_uri for n, (_, facts) in local.items()}
        for n, read in exported.items():
            kubeconfigs[n] = read.apply(_kubeconfig)
            self.registries[n] = read.apply(_registry)
            self.artifact_buckets[n] = read.apply(_bucket)
        self.kubeconfigs = pulumi.Output.secret(pulumi.Output.all(**kubeconfigs))
        self.register_outputs(
            {
                "kubeconfigs": self.kubeconfigs,
                "registries": self.registries,
                "artifact_buckets": self.artifact_buckets,
            }
        )

    def _deploy_referenced(
        self,
        spec: PlatformSpec,
        sites: list[SiteSpec],
        cloud_stack: str,
        built: dict[str, ClusterFacts],
        child: pulumi.ResourceOptions,
    ) -> dict[str, pulumi.Output[ClusterFacts]]:
        """The Kubernetes layer of ``sites`` onto the clusters ``cloud_stack`` built (read through one stack
        reference), with that of the sites this stack built (``self.handles``), once the facts are read."""
        reference = pulumi.StackReference(f"{spec.name}-cloud-layer", cloud_stack, opts=child)
        components = {
            site.name: ReferencedSite(site_component_name(site, spec), site, reference, cloud_stack, child)
            for site in sites
        }
        read = pulumi.Output.all(**{n: c.facts for n, c in components.items()})

        def deploy(facts: dict[str, ClusterFacts]) -> dict[str, ClusterFacts]:
            handles = dict(self.handles)
            for n, component in components.items():
                handles[n] = handle_from_facts(facts[n], site_component_name(spec.site(n), spec), component)
            _deploy_kubernetes(spec, handles, {**built, **facts}, child)
            return facts

        deployed = read.apply(deploy)
        return {n: deployed.apply(functools.partial(_facts_of, n)) for n in components}


def _deploy_kubernetes(
    spec: PlatformSpec,
    handles: dict[str, ClusterHandle],
    facts: Mapping[str, ClusterFacts],
    opts: pulumi.ResourceOptions,
) -> None:
    """Each site's Kubernetes layer (GPU runtime, Kueue for the teams, every workload naming the site),
    then MultiKueue between them, where the spec asks for it."""
    layers: dict[str, SiteWorkloads] = {}
    for site_name, handle in handles.items():
        layers[site_name] = deploy_workloads(
            handle,
            spec.workloads_on(site_name),
            opts,
            queues=site_queues(spec, site_name),
            extra_namespaces=dispatch_namespaces(spec, site_name),
            access=access_record(spec, spec.site(site_name), facts[site_name]),
        )
    connect_sites(spec, handles, layers, opts)


def _facts_of(site: str, facts: dict[str, ClusterFacts]) -> ClusterFacts:
    return facts[site]


def _kubeconfig(facts: ClusterFacts) -> pulumi.Output[str]:
    return facts.kubeconfig


def _registry(facts: ClusterFacts) -> pulumi.Output[str]:
    return facts.registry


def _bucket(facts: ClusterFacts) -> pulumi.Output[str]:
    return facts.artifact_bucket_uri


def _builds(layer: Layer, site: SiteSpec, deployed: bool) -> bool:
    """Whether a stack of ``layer`` builds ``site``: an existing cluster has no cloud layer, so the stack
    that deploys its Kubernetes layer builds it (its provider), and a cloud layer leaves it out."""
    if layer is Layer.ALL:
        return True
    if layer is Layer.CLOUD:
        return not isinstance(site, ExistingSiteSpec)
    return deployed and isinstance(site, ExistingSiteSpec)
