"""The whole platform as one component of the package: the stack file's spec in, every site and workload out.

Its spec is one object input, exactly the value of ``lepton-infra:platform`` in a stack file, validated by the
spec's own pydantic models when the component is constructed: one schema to keep, not a second one in the
package's types (``lepton-infra schema`` prints its JSON Schema). Read by Pulumi's analyzer: no ``from
__future__ import annotations`` here.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import ordered, validated
from lepton_infra.platform import Platform as SpecPlatform
from lepton_infra.validation import Problem, refuse


class PlatformArgs(TypedDict):
    platform: dict[str, Any]
    """The platform spec: sites (clouds, regions, networks, GPU pools, budgets, where each Kubernetes layer's
    runner is), teams with their GPU quotas, queueing (over-commit, MultiKueue), workloads (our trainer and
    server, your own training command, vLLM or your own server) and the layer this stack deploys
    (deployment), exactly as the value of ``lepton-infra:platform`` in a stack file, with its snake_case
    keys. ``lepton-infra schema`` prints its JSON Schema; every problem is reported with its path when the
    component is constructed."""
    secrets: NotRequired[pulumi.Input[dict[str, pulumi.Input[str]]]]
    """Secret values the spec names by key, e.g. an existing cluster's kubeconfig
    (``kubeconfig.secret_config_key``); each stays a secret."""


class Platform(PackageComponent):
    """Every site of the spec (network, keys, registry, storage, cluster and node pools, its cost budget, each
    through its own explicit cloud provider for its region) and the Kubernetes layer on each: the GPU runtime
    and cluster services (prometheus-adapter where a server scales on its own metric), Kueue with each team's
    queues and quotas, a namespace per team with its quota, and every training job and model server placed
    there; MultiKueue between sites where the spec asks for it.

    Or one layer of it, as the spec's ``deployment`` says: a cloud layer (``layer: cloud``) builds the
    clusters and the workloads' identities and no Kubernetes object; export its ``kubeconfigs`` and
    ``clusterFacts`` under the stack output names ``kubeconfigs`` and ``cluster_facts``, which a Kubernetes
    layer (``layer: kubernetes``, ``cloud_stack`` naming that stack) reads through a stack reference,
    whichever language either program is written in."""

    kubeconfigs: pulumi.Output[dict[str, str]]
    """Each site's kubeconfig by site name (secret)."""
    registries: pulumi.Output[dict[str, str]]
    """Each site's registry host by site name."""
    artifact_buckets: pulumi.Output[dict[str, str]]
    """Each site's artifact bucket URI by site name."""
    cluster_facts: pulumi.Output[dict[str, Any]]
    """A cloud layer's facts of each cluster it built (registry, bucket, GPU pools, add-ons, the workloads'
    identities; lepton_infra/layers.py), to export as the stack output ``cluster_facts`` for its Kubernetes
    layer; empty in the other layers."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec, secrets = self.prepare(args)
        child = self.start(name, opts)
        platform = SpecPlatform(name, spec, child, secrets=lambda key: _secret(secrets, key))
        self.kubeconfigs = platform.kubeconfigs
        self.registries = pulumi.Output.all(**platform.registries)
        self.artifact_buckets = pulumi.Output.all(**platform.artifact_buckets)
        self.cluster_facts = pulumi.Output.from_input(platform.cloud_facts)
        self.register_outputs(
            {
                "kubeconfigs": self.kubeconfigs,
                "registries": self.registries,
                "artifact_buckets": self.artifact_buckets,
                "cluster_facts": self.cluster_facts,
            }
        )

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        # A map from the wire has no order of its own; sorted, the same program builds the same inputs each
        # run (the spec's tags become a provider's default tags, a JSON string: order changes it).
        spec = validated(PlatformSpec, ordered(values["platform"]), ["platform"], schema_names=False)
        secrets = values.get("secrets", {})
        named = {
            k
            for site in spec.sites
            if isinstance(site, ExistingSiteSpec)
            for k in [site.kubeconfig.secret_config_key]
            if k
        }
        if not isinstance(
            secrets, pulumi.Output
        ):  # a map sent as one secret value is checked when it resolves
            refuse(
                Problem("secrets", f"{key!r} is named by the platform spec but not given")
                for key in sorted(named - set(secrets))
            )
        return spec, secrets


def _secret(secrets: pulumi.Input[Mapping[str, pulumi.Input[str]]], key: str) -> pulumi.Output[str]:
    """The secret value named ``key``, still a secret."""

    def lookup(given: Mapping[str, Any]) -> Any:
        if key not in given:
            raise ValueError(f"secrets: {key!r} is named by the platform spec but not given")
        return given[key]

    return pulumi.Output.secret(pulumi.Output.from_input(secrets).apply(lookup))


COMPONENTS: list[type[pulumi.ComponentResource]] = [Platform]
