"""The site of ``cloud: existing``: a cluster built elsewhere, reached through a kubeconfig.

Creates no cluster and no cloud identity; it hands the Kubernetes layer the facts the spec states about the
cluster (kubeconfig, registry, bucket, GPU pools with their labels and taints, add-ons with the GPU
Operator's values from ``gpu_operator``), and the platform puts the cluster's Kubernetes provider under it.
It has no cloud layer: the stack that deploys its Kubernetes layer builds it. It reads no config: a
kubeconfig kept in secret config comes through the ``secrets`` lookup the program passes.
"""

from __future__ import annotations

import pulumi

from lepton_infra.blueprint import ExistingGpuPoolSpec, ExistingSiteSpec, PlatformSpec
from lepton_infra.components.existing.gpu_operator import existing_operator_values
from lepton_infra.components.handle import (
    ClusterAddons,
    GpuStack,
    NodePlacement,
    ServiceAccountBinding,
    Toleration,
)
from lepton_infra.components.site_kit import BuiltSite, SecretLookup, site_component_name


def _placement(pool: ExistingGpuPoolSpec) -> NodePlacement:
    return NodePlacement(
        pool=pool.name,
        accelerator=pool.accelerator.value,
        gpus_per_node=pool.gpus_per_node,
        node_selector=dict(pool.node_labels),
        tolerations=tuple(
            Toleration(
                key=t.key,
                operator="Equal" if t.value is not None else "Exists",
                value=t.value,
                effect=t.effect,
            )
            for t in pool.taints
        ),
    )


class ExistingSite(pulumi.ComponentResource):
    """An existing cluster's facts, as its spec states them; its Kubernetes provider hangs under it."""

    built: BuiltSite

    def __init__(
        self,
        name: str,
        site: ExistingSiteSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        # Reads the secret config value that holds the kubeconfig, when the spec names one.
        secrets: SecretLookup | None = None,
    ) -> None:
        # Its type was `lepton:kubernetes:ExistingSite` while it lived in the Kubernetes layer; the alias
        # keeps stacks made then from replacing the provider and every Kubernetes object under it.
        renamed = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="lepton:kubernetes:ExistingSite")])
        kubeconfig = _kubeconfig(site, secrets)
        super().__init__("lepton:existing:Site", name, None, pulumi.ResourceOptions.merge(opts, renamed))
        binding = ServiceAccountBinding(annotations=dict(site.service_account_annotations))
        self.built = BuiltSite(
            site=site.name,
            kubeconfig=kubeconfig,
            kubeconfig_context=site.kubeconfig.context,
            registry=pulumi.Output.from_input(site.registry),
            artifact_bucket_uri=pulumi.Output.from_input(site.artifact_bucket_uri or ""),
            artifact_env=dict(site.artifact_env),
            bind_service_account=lambda namespace, service_account: binding,
            gpu_pools=tuple(_placement(p) for p in site.gpu_pools),
            parent=self,
            addons=ClusterAddons(
                gpu_stack=GpuStack(site.gpu_stack),
                gpu_operator_values=(
                    existing_operator_values(site.gpu_operator) if site.gpu_operator is not None else {}
                ),
                prometheus_operator=site.prometheus_operator,
                monitoring_namespace=site.monitoring_namespace,
                prometheus_url=site.prometheus_url,
            ),
        )
        self.register_outputs({"registry": site.registry})


def _kubeconfig(site: ExistingSiteSpec, secrets: SecretLookup | None) -> pulumi.Output[str]:
    """The file's path, or the secret's content: the provider takes either, and a secret stays one."""
    source = site.kubeconfig
    if source.secret_config_key is None:
        return pulumi.Output.from_input(source.path or "")
    if secrets is None:
        raise ValueError(
            f"site {site.name!r} keeps its kubeconfig in secret config ({source.secret_config_key!r}): "
            "pass secrets=pulumi.Config(<namespace>).require_secret to read it"
        )
    return secrets(source.secret_config_key)


def build_site(
    site: ExistingSiteSpec,
    platform: PlatformSpec,
    opts: pulumi.ResourceOptions,
    secrets: SecretLookup | None = None,
) -> BuiltSite:
    return ExistingSite(site_component_name(site, platform), site, opts, secrets=secrets).built
