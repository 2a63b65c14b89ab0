"""Which layer of the platform a stack deploys, and where each site's Kubernetes layer runs from.

A private cluster's API endpoint cannot be reached from a laptop or a CI runner outside its network, and
on a new platform that network does not exist before the first `pulumi up`. So one platform can be
deployed as two stacks of this project: the **cloud layer** (networks, keys, registries, clusters, node
pools, workload identities), run from anywhere the cloud's API is, and the **Kubernetes layer** (cluster
services, GPU runtime, namespaces, workloads), run from where each cluster's API endpoint is reachable. The
Kubernetes layer reads the cloud layer's outputs through a stack reference. ``layer: all`` keeps both in
one stack, for sites whose endpoint the runner reaches from the start (an allowlisted public endpoint).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints

from lepton_infra import validation
from lepton_infra.blueprint.base import DnsLabel, SpecModel
from lepton_infra.blueprint.site_existing import ExistingSiteSpec

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec

# A fully qualified stack name as `pulumi.StackReference` takes it: <organization>/<project>/<stack> (a
# self-managed backend's organization is the literal `organization`).
StackName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
]


class Layer(StrEnum):
    ALL = "all"
    CLOUD = "cloud"
    KUBERNETES = "kubernetes"


class RunnerLocation(StrEnum):
    # Inside the site's network, or in one connected to it (peering, VPN, transit gateway, CEN).
    IN_NETWORK = "in-network"
    # Anywhere on the internet whose egress address is in the site's `network.api_allowlist`.
    ALLOWLISTED = "allowlisted"


class KubernetesRunnerSpec(SpecModel):
    """Where the `pulumi up` that deploys a site's Kubernetes layer runs, so it can reach the cluster."""

    location: RunnerLocation = Field(
        description=(
            "`in-network`: a runner inside the site's network or a network connected to it reaches the "
            "private endpoint; `allowlisted`: a runner whose egress address is in network.api_allowlist "
            "reaches the public endpoint."
        )
    )
    cidrs: tuple[ipaddress.IPv4Network, ...] = Field(
        default=(),
        description=(
            "Addresses the runner connects from. `in-network`: private ranges outside the site's own network "
            "(a peered network, a VPN), or empty for a runner inside it; on AWS each range (or the site's "
            "network) gets an HTTPS rule on the cluster security group. `allowlisted`: the runner's public "
            "egress ranges, each within network.api_allowlist."
        ),
    )


class DeploymentSpec(SpecModel):
    """Which layer of the platform this stack deploys."""

    layer: Layer = Field(
        default=Layer.ALL,
        description=(
            "`all`: cloud and Kubernetes layers in one `pulumi up`; `cloud`: networks, keys, registries, "
            "clusters, node pools and workload identities, exported for a Kubernetes layer; `kubernetes`: "
            "cluster services and workloads on the clusters `cloud_stack` built."
        ),
    )
    cloud_stack: StackName | None = Field(
        default=None,
        description=(
            "The cloud layer a Kubernetes layer deploys onto, as <organization>/<project>/<stack> "
            "(`organization` on a self-managed backend); required with layer: kubernetes."
        ),
    )
    sites: tuple[DnsLabel, ...] = Field(
        default=(),
        description=(
            "With layer: kubernetes, the sites whose Kubernetes layer this stack deploys (each where its "
            "runner reaches it); empty deploys every site."
        ),
    )


def private_api_sources(
    runner: KubernetesRunnerSpec | None, network: ipaddress.IPv4Network
) -> tuple[ipaddress.IPv4Network, ...]:
    """The ranges a site's private API endpoint must admit for its runner: the ranges declared, or the
    site's own network for a runner inside it; none for a runner that comes through the public endpoint."""
    if runner is None or runner.location is not RunnerLocation.IN_NETWORK:
        return ()
    return runner.cidrs or (network,)


def kubernetes_sites(deployment: DeploymentSpec, site_names: Sequence[str]) -> tuple[str, ...]:
    """The sites whose Kubernetes layer a stack deploys, in spec order."""
    if deployment.layer is Layer.CLOUD:
        return ()
    if deployment.layer is Layer.KUBERNETES and deployment.sites:
        return tuple(name for name in site_names if name in deployment.sites)
    return tuple(site_names)


def deployment_issues(spec: PlatformSpec) -> list[tuple[str, str]]:
    """What keeps ``spec.deployment`` from working: ``(path, message)`` pairs, every one found."""
    deployment = spec.deployment
    names = [site.name for site in spec.sites]
    issues = _layer_issues(deployment, names)
    if deployment.layer is Layer.CLOUD and all(isinstance(site, ExistingSiteSpec) for site in spec.sites):
        issues.append(
            (
                "deployment.layer",
                "an existing cluster has no cloud layer: deploy it with layer: all or layer: kubernetes",
            )
        )
    deployed = set(kubernetes_sites(deployment, names))
    multikueue = spec.queueing.multikueue
    if multikueue is not None and deployed:
        apart = sorted({multikueue.manager, *multikueue.worker_sites} - deployed)
        if apart:
            issues.append(
                (
                    "deployment.sites",
                    "MultiKueue connects its manager and workers in one `pulumi up`: list "
                    f"{', '.join(apart)} too, or deploy those sites' Kubernetes layers with the manager's",
                )
            )
    for i, site in enumerate(spec.sites):
        if not isinstance(site, ExistingSiteSpec):
            issues += _runner_issues(
                f"sites[{i}]", site.kubernetes_runner, site.network.api_allowlist, site.name in deployed
            )
    return issues


def _layer_issues(deployment: DeploymentSpec, names: Sequence[str]) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    kubernetes = deployment.layer is Layer.KUBERNETES
    if kubernetes and deployment.cloud_stack is None:
        issues.append(
            (
                "deployment.cloud_stack",
                "a Kubernetes layer deploys onto the clusters of a cloud layer: name that stack, "
                "e.g. organization/lepton-infra/aws-prod",
            )
        )
    if not kubernetes and deployment.cloud_stack is not None:
        issues.append(
            ("deployment.cloud_stack", "only a Kubernetes layer reads a cloud stack; set layer: kubernetes")
        )
    if not kubernetes and deployment.sites:
        issues.append(
            (
                "deployment.sites",
                "only a Kubernetes layer deploys a subset of sites; a cloud layer builds every site and "
                "layer: all deploys every site",
            )
        )
    for k, name in enumerate(deployment.sites):
        if name not in names:
            issues.append((f"deployment.sites[{k}]", f"no site named {name!r}; sites: {', '.join(names)}"))
        elif name in deployment.sites[:k]:
            issues.append((f"deployment.sites[{k}]", f"site {name!r} is listed more than once"))
    return issues


def _runner_issues(
    path: str,
    runner: KubernetesRunnerSpec | None,
    api_allowlist: Sequence[ipaddress.IPv4Network],
    deploys_kubernetes: bool,
) -> list[tuple[str, str]]:
    """Whether the runner a managed site declares can reach its API endpoint (paths below ``path``)."""
    if runner is None:
        if deploys_kubernetes and not api_allowlist:
            return [
                (
                    f"{path}.kubernetes_runner",
                    "the API endpoint is private (network.api_allowlist is empty) and this stack deploys "
                    "the site's Kubernetes layer: declare where `pulumi up` runs (kubernetes_runner: "
                    "{location: in-network}), or list the runner's egress CIDR in network.api_allowlist, "
                    "or deploy the cloud layer alone first (deployment.layer: cloud)",
                )
            ]
        return []
    issues: list[tuple[str, str]] = []
    cidrs_path = f"{path}.kubernetes_runner.cidrs"
    if runner.location is RunnerLocation.ALLOWLISTED:
        if not api_allowlist:
            issues.append(
                (
                    f"{path}.kubernetes_runner.location",
                    "`allowlisted` reaches the public endpoint, but network.api_allowlist is empty (the "
                    "endpoint is private): list the runner's egress CIDR there, or use `in-network`",
                )
            )
        for i, cidr in enumerate(runner.cidrs):
            if api_allowlist and not validation.admitted(cidr, api_allowlist):
                issues.append((f"{cidrs_path}[{i}]", f"{cidr} is not within network.api_allowlist"))
    else:
        for i, cidr in enumerate(runner.cidrs):
            if not any(cidr.subnet_of(private) for private in validation.PRIVATE_RANGES):
                issues.append(
                    (
                        f"{cidrs_path}[{i}]",
                        f"{cidr} is not a private range; a runner on the internet is `allowlisted`",
                    )
                )
    return issues
