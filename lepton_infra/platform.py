"""Platform: the component that turns a PlatformSpec into sites (clusters) and the workloads on them."""

from __future__ import annotations

import pulumi

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.queueing import dispatch_namespaces, site_queues
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.multikueue import connect_sites
from lepton_infra.components.kubernetes.site_workloads import deploy_workloads
from lepton_infra.components.site_kit import SecretLookup
from lepton_infra.sites import build_site


class Platform(pulumi.ComponentResource):
    """Every site of the spec, each with its own explicit cloud provider, and the workloads placed on them.

    ``handles`` maps each site name to the ClusterHandle the Kubernetes layer deploys through. Nothing
    here reads config: ``secrets`` reads the secret values the spec names by key (an existing cluster's
    kubeconfig), e.g. ``pulumi.Config("lepton-infra").require_secret``.
    """

    handles: dict[str, ClusterHandle]
    kubeconfigs: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        spec: PlatformSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secrets: SecretLookup | None = None,
    ) -> None:
        super().__init__("lepton:index:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.handles = {site.name: build_site(site, spec, child, secrets) for site in spec.sites}
        # Each site's Kubernetes layer: its GPU runtime, Kueue for the teams, every workload naming the site.
        layers = {
            site_name: deploy_workloads(
                handle,
                spec.workloads_on(site_name),
                child,
                queues=site_queues(spec, site_name),
                extra_namespaces=dispatch_namespaces(spec, site_name),
            )
            for site_name, handle in self.handles.items()
        }
        connect_sites(spec, self.handles, layers, child)
        self.kubeconfigs = pulumi.Output.secret(
            pulumi.Output.all(**{n: h.kubeconfig for n, h in self.handles.items()})
        )
        self.register_outputs(
            {
                "kubeconfigs": self.kubeconfigs,
                "registries": {n: h.registry for n, h in self.handles.items()},
                "artifact_buckets": {n: h.artifact_bucket_uri for n, h in self.handles.items()},
            }
        )
