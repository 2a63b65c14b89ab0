"""Deployability: the first `pulumi up` can reach what it deploys to, never waits on what cannot finish,
and names nothing the cloud will refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lepton_infra import validation
from lepton_infra.catalog import cluster_services as svc
from lepton_infra.catalog.names import NameRule, name_rule
from lepton_infra.catalog.types import Cloud
from lepton_infra.policies.kubernetes.workloads import DEPLOYMENT, JOB
from lepton_infra.policies.operability.topology import Cluster, topology
from lepton_infra.policies.rule import view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, is_true, is_unknown, known
from lepton_infra.policies.view import Finding, Resource, Stack

FAMILY = "operability-deployability"
SKIP_AWAIT = "pulumi.com/skipAwait"
WAIT_FOR = "pulumi.com/waitFor"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"
# The component that records how a stack's run reaches each site (lepton_infra/layers.py access_record).
SITE_WORKLOADS = "lepton:kubernetes:SiteWorkloads"


# --- Reaching the API server -----------------------------------------------------------------------------
def _private_endpoint(cluster: Cluster) -> bool:
    resource = cluster.resource
    if resource is None:
        return False
    if cluster.cloud is Cloud.AWS:
        # EKS's default is a public endpoint (VpcConfigRequest: endpointPublicAccess defaults to true).
        return resource.get("vpcConfig", "endpointPublicAccess") is False
    if cluster.cloud is Cloud.AZURE:
        return is_true(resource.get("apiServerAccessProfile", "enablePrivateCluster"))
    if cluster.cloud is Cloud.ALICLOUD:
        return resource.get("slbInternetEnabled") is False
    return False


@view_policy(
    name="kubernetes-api-reachable",
    family=FAMILY,
    severity="critical",
    description=(
        "A stack that creates a cluster with a private API endpoint must not also deploy Kubernetes objects "
        "to it in the same run: the runner of the first `pulumi up` is outside the network that does not "
        "exist yet, and every Kubernetes resource fails with 'cluster is unreachable'."
    ),
    remediation=(
        "Split the platform into a cloud layer and a Kubernetes layer (two stacks joined by a "
        "StackReference, the Kubernetes layer run from inside the network), or declare an allowlisted way "
        "in (public endpoint restricted to the runner's CIDR) for the run."
    ),
)
def kubernetes_api_reachable(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    """Judged two ways. A stack that creates a private cluster and deploys to it through a provider built
    from its kubeconfig fails as pulumi/pulumi-eks#1134 reports, whatever it declares. And where the
    platform records how its run reaches a site (SiteWorkloads' ``access``: the endpoint as the cloud layer
    made it, the runner as this stack declares it), the two must agree: in a Kubernetes layer the endpoint
    comes from the cloud stack's outputs, so a cloud layer deployed private, or with another allowlist,
    than this stack's copy of the spec says is caught here, before the run times out.
    """
    for cluster in topology(stack).clusters:
        if not cluster.objects or not _private_endpoint(cluster) or cluster.cloud is None:
            continue
        assert cluster.resource is not None
        fact = svc.PRIVATE_ENDPOINT[cluster.cloud]
        yield Finding(
            f"{cluster.describe()} has only a private API endpoint, yet this stack also deploys "
            f"{len(cluster.objects)} Kubernetes objects to it through a provider built from its kubeconfig: "
            f"{fact.statement} ({fact.source}). The first `pulumi up` from outside the network fails on "
            f"every one of them. Fix: deploy the Kubernetes layer as its own stack from inside the network.",
            cluster.resource.urn,
        )
    for workloads in stack.of_type(SITE_WORKLOADS):
        access = workloads.get("access")
        if hasattr(access, "get"):
            site = workloads.get("site", default=workloads.name)
            for problem in _unreachable(access):
                yield Finding(f"site {site!r}: {problem}", workloads.urn)


def _unreachable(access: Any) -> Iterator[str]:
    """What keeps the declared runner from the recorded endpoint (an existing cluster records none)."""
    # An unknown runner or CIDR is undecided: read as absent, it gave a false "does not say where".
    endpoint, runner = access.get("endpoint"), known(access, "runner")
    if not hasattr(endpoint, "get") or is_unknown(endpoint.get("public")):
        return
    public, allowlist = endpoint.get("public") is True, endpoint.get("allowlist") or []
    location = known(runner, "location") if hasattr(runner, "get") else None
    if location == "allowlisted" and not public:
        yield (
            "the runner is declared `allowlisted` (it comes through the public endpoint), but the cluster's "
            "endpoint is private; run this stack from inside the network (`in-network`) or give the cloud "
            "layer an api_allowlist with the runner's egress CIDR"
        )
    elif location == "allowlisted" and allowlist and not is_unknown(allowlist):
        for cidr in (known(c) for c in as_list(known(runner, "cidrs"))):
            if not validation.admitted(cidr, allowlist):
                yield (
                    f"the runner's {cidr} is not admitted by the endpoint's allowlist "
                    f"({', '.join(map(str, allowlist))}): every Kubernetes resource would time out"
                )
    elif location is None and not public:
        yield (
            "the cluster's endpoint is private and this stack does not say where `pulumi up` runs: declare "
            "kubernetes_runner (in-network) and run it from inside the network"
        )


# --- Waiting on what cannot finish ------------------------------------------------------------------------
def _annotations(resource: Resource) -> dict[str, Any]:
    found = resource.known("metadata", "annotations", default={})
    return dict(found) if hasattr(found, "items") else {}


def _timeout_set(resource: Resource) -> bool:
    return bool(resource.option("customTimeouts")) or TIMEOUT_SECONDS in _annotations(resource)


def _awaited(resource: Resource) -> bool:
    annotations = _annotations(resource)
    skip = known(annotations, SKIP_AWAIT)  # unknown: whether `pulumi up` waits is too
    return not is_true(skip) and WAIT_FOR not in annotations


@view_policy(
    name="kubernetes-await-can-finish",
    family=FAMILY,
    severity="high",
    description=(
        "No Kubernetes resource may make `pulumi up` wait for something that cannot finish during the "
        "update: a batch/v1 Job is awaited until it completes (10 minutes, then the update fails and every "
        "later update waits again), a Deployment until its pods are ready."
    ),
    remediation=(
        'Annotate long-running Jobs with pulumi.com/skipAwait: "true" (or pulumi.com/waitFor a condition '
        "reached at start); for a Deployment whose pods wait for a node from a pool at zero, skipAwait or "
        "customTimeouts long enough for the scale-up."
    ),
)
def kubernetes_await_can_finish(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    """pulumi-kubernetes awaits a Job's Complete condition and a Deployment's Available one (registry docs
    of kubernetes.batch/v1.Job and apps/v1.Deployment); ``skipAwait`` or ``waitFor`` replace that.

    A Deployment is judged unable to become ready at first deploy when every pool its pods can land on
    starts at zero nodes: the scale-up (a GPU node's boot, driver and image pull) routinely outlasts the
    10-minute default. Readiness that waits on data (a first checkpoint) cannot be seen in a plan.
    """
    tops = topology(stack)
    for job in stack.of_type(JOB):
        if _awaited(job):
            name = str(job.get("metadata", "name", default=job.name))
            yield Finding(
                f"{name}: `pulumi up` waits for the Job to complete (10 minutes by default, then the update "
                f"fails, and every later update waits on it again); a training run takes hours. Fix: "
                f'annotate it {SKIP_AWAIT}: "true".',
                job.urn,
            )
    for deployment in stack.of_type(DEPLOYMENT):
        cluster = tops.cluster_of(deployment)
        if cluster is None or not _awaited(deployment) or _timeout_set(deployment):
            continue
        workload = cluster.workload_of(deployment)
        pools = cluster.landing_pools(workload) if workload is not None else []
        if pools and all(p.min_nodes == 0 for p in pools):
            names = ", ".join(p.label for p in pools)
            yield Finding(
                f"{workload.name if workload else deployment.name}: `pulumi up` waits for the Deployment's "
                f"pods to be ready, but they first need a node from a pool at zero ({names}); a GPU node's "
                f"scale-up outlasts the 10-minute default and the update fails. Fix: annotate it "
                f'{SKIP_AWAIT}: "true" or give it customTimeouts.',
                deployment.urn,
            )


# --- Names -------------------------------------------------------------------------------------------------
def _name_problems(resource: Resource, rule: NameRule) -> tuple[str, list[str]] | None:
    value = resource.get(*rule.prop.split("."))
    if is_unknown(value):
        return None
    if isinstance(value, str) and value:
        return value, rule.problems(value)
    if rule.prefix_prop is not None:
        prefix = resource.get(rule.prefix_prop)
        if isinstance(prefix, str) and not is_unknown(prefix):
            limit = rule.prefix_max_length or rule.max_length
            return prefix, [f"prefix of {len(prefix)} characters, more than {limit}"] if len(
                prefix
            ) > limit else []
    # Auto-named: the logical name plus Pulumi's suffix.
    shown = f"{resource.name}<{len(rule.auto_suffix)}-character auto-name suffix>"
    return shown, rule.problems(rule.auto_name(resource.name))


@view_policy(
    name="cloud-names-fit-limits",
    family=FAMILY,
    severity="high",
    description=(
        "Physical names must fit each cloud's length and character rules (IAM role 64, EKS node group 63, "
        "AKS node pool 12, ACR 5-50 alphanumerics, storage account 24, OSS bucket 3-63, ACK node pool 63, "
        "Kubernetes DNS-1123 names), with Pulumi's auto-name suffix counted where the name is auto-named."
    ),
    remediation=(
        "Shorten the platform, site or pool name in the stack file (names derive from them), or set an "
        "explicit name that fits."
    ),
)
def cloud_names_fit_limits(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for resource in stack.resources:
        if not resource.custom:
            continue
        rule = name_rule(resource.type)
        if rule is None:
            continue
        checked = _name_problems(resource, rule)
        if checked is None or not checked[1]:
            continue
        name, problems = checked
        kind = resource.type.rsplit(":", 1)[-1]
        yield Finding(
            f"{kind} name {name!r}: {'; '.join(problems)} ({rule.source}); the create call is refused. "
            f"Fix: a shorter name of {rule.charset}.",
            resource.urn,
        )


POLICIES = (kubernetes_api_reachable, kubernetes_await_can_finish, cloud_names_fit_limits)
