"""Governance: who pays (tags and labels), where things run (regions), how many GPUs a stack may buy."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.catalog import Cloud, find_offering
from lepton_infra.policies.kubernetes.workloads import (
    DEPLOYMENT,
    NAMESPACE,
    SERVICE,
    STATEFUL_SET,
    WORKLOAD_TYPES,
    pod_gpus,
    pod_spec,
)
from lepton_infra.policies.rule import Outcome, Subject, Undecided, resource_policy, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import (
    UnknownRead,
    as_list,
    as_mapping,
    get,
    is_true,
    is_unknown,
    read,
    tags_of,
)
from lepton_infra.policies.view import Finding, Resource, Stack

# Cloud resources that cost money or hold data: the ones a bill or an audit must attribute to a team.
TAGGED_TYPES = frozenset(
    {
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:kms/key:Key",
        "aws:ecr/repository:Repository",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:iam/role:Role",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:keyvault:Vault",
        "azure-native:containerregistry:Registry",
        "azure-native:storage:StorageAccount",
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/nodePool:NodePool",
        "alicloud:kms/key:Key",
        "alicloud:oss/bucket:Bucket",
        "alicloud:vpc/network:Network",
        "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance",
    }
)
LABELLED_TYPES = WORKLOAD_TYPES | {SERVICE, NAMESPACE}
NODE_POOLS = {
    "aws:eks/nodeGroup:NodeGroup": Cloud.AWS,
    "azure-native:containerservice:AgentPool": Cloud.AZURE,
    "alicloud:cs/nodePool:NodePool": Cloud.ALICLOUD,
}
# Karpenter launches nodes for pending pods up to its NodePool's `limits` (karpenter.sh/v1 NodePool).
KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
_INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"


@resource_policy(
    name="governance-required-tags",
    types=TAGGED_TYPES,
    severity="medium",
    description=(
        "Cloud resources must carry the required tags (on the resource or through the provider's "
        "default tags)."
    ),
    remediation=(
        "Add the missing keys to the platform's `tags` (they become the provider's default tags) or "
        "to the resource's `tags`."
    ),
    config=("requiredTags",),
)
def required_tags(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    tags = _effective_tags(r.props, r.provider)
    missing = [t for t in settings.required_tags if t not in tags]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


@resource_policy(
    name="governance-required-labels",
    types=LABELLED_TYPES,
    severity="medium",
    description="Kubernetes workloads, Services and Namespaces must carry the required labels.",
    remediation="Add the missing keys to `metadata.labels`.",
    config=("requiredLabels",),
    unknowns="values",
)
def required_labels(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    found = read(r.props, "metadata", "labels")
    if is_unknown(found):
        yield Undecided("metadata.labels can't be known during preview")
        return
    labels = as_mapping(found)
    missing = [label for label in settings.required_labels if label not in labels]
    if missing:
        yield f"missing labels: {', '.join(missing)}"


def _effective_tags(props: Mapping[str, Any], provider: Mapping[str, Any] | None) -> dict[str, Any]:
    """The resource's tags over its provider's default tags: AWS applies provider default tags to every
    resource; the others only know the resource's own. Provider state keeps structured config as JSON text,
    so a saved plan may carry it either way."""
    default_tags = read(provider, "defaultTags")
    if is_unknown(default_tags):  # a secret or computed provider config: the tags can't be known
        raise UnknownRead(default_tags, ("defaultTags",))
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags or "{}")
    return {**dict(get(default_tags, "tags", default={})), **tags_of(props)}


def _region(r: Subject) -> str | None:
    for source in (r.props, r.provider):
        for key in ("region", "location"):
            value = get(source, key)
            if isinstance(value, str) and value:
                # Azure accepts display names ("West Europe") for the canonical "westeurope".
                return value.replace(" ", "").lower()
    return None


@resource_policy(
    name="governance-allowed-regions",
    types=None,
    severity="high",
    description="Cloud resources must live in an allowed region (any region while the allowlist is empty).",
    remediation="Move the site to an allowed region, or add the region to the pack config `allowed_regions`.",
    config=("allowedRegions",),
)
def allowed_regions(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    allowed = {a.replace(" ", "").lower() for a in settings.allowed_regions}
    if not allowed or r.type.startswith("kubernetes:"):
        return
    region = _region(r)
    if region is not None and region not in allowed:
        yield f"region {region} is not one of {', '.join(sorted(allowed))}"


def _pool_gpus(cloud: Cloud, instance_types: list[Any], nodes: Any) -> float:
    offering = next((o for t in instance_types if (o := find_offering(cloud, str(t))) is not None), None)
    return float(offering.gpus) * float(nodes or 0) if offering is not None else 0.0


def _karpenter_gpus(props: Mapping[str, Any]) -> float:
    """A NodePool's GPU limit; without one, unbounded unless it may launch only types without GPUs."""
    limit = get(props, "spec", "limits", "nvidia.com/gpu")
    if limit is not None:
        return float(limit)
    requirements = as_list(get(props, "spec", "template", "spec", "requirements"))
    types = [
        t
        for r in requirements
        if get(r, "key") == _INSTANCE_TYPE_LABEL and get(r, "operator") == "In"
        for t in as_list(get(r, "values"))
    ]
    if types and all(find_offering(Cloud.AWS, str(t)) is None for t in types):
        return 0.0
    return math.inf


def _capacity(resource: Resource) -> float:
    props: Mapping[str, Any] = resource.props
    if resource.type == KARPENTER_NODE_POOL:
        return _karpenter_gpus(props)
    if resource.type == "aws:eks/nodeGroup:NodeGroup":
        return _pool_gpus(
            Cloud.AWS, as_list(get(props, "instanceTypes")), get(props, "scalingConfig", "maxSize")
        )
    if resource.type == "alicloud:cs/nodePool:NodePool":
        nodes = get(props, "scalingConfig", "maxSize", default=get(props, "desiredSize"))
        return _pool_gpus(Cloud.ALICLOUD, as_list(get(props, "instanceTypes")), nodes)
    pools = as_list(get(props, "agentPoolProfiles")) if resource.type == AKS_CLUSTER else [props]
    return sum(
        _pool_gpus(Cloud.AZURE, [get(p, "vmSize")], get(p, "maxCount", default=get(p, "count")))
        for p in pools
    )


def _workload_gpus(resource: Resource) -> float:
    replicas = (
        get(resource.props, "spec", "replicas", default=1)
        if resource.type in (DEPLOYMENT, STATEFUL_SET)
        else 1
    )
    parallelism = (
        get(resource.props, "spec", "parallelism", default=1)
        if resource.type == "kubernetes:batch/v1:Job"
        else 1
    )
    return pod_gpus(pod_spec(resource.type, resource.props)) * float(replicas) * float(parallelism)


@view_policy(
    name="governance-max-gpus-per-stack",
    severity="high",
    description="A stack must not be able to provision more GPUs than the configured budget.",
    remediation=(
        "Lower the GPU pools' `max_nodes`, or raise the pack config `max_gpus_per_stack` with the "
        "budget owner's approval."
    ),
    config=("maxGpusPerStack",),
)
def max_gpus_per_stack(stack: Stack, settings: PolicySettings) -> Iterator[Finding]:
    pools = stack.of_type(*NODE_POOLS, AKS_CLUSTER, KARPENTER_NODE_POOL)
    # Node pools say what the stack can buy; without any (an existing cluster), count what workloads ask for.
    gpus = (
        sum(_capacity(r) for r in pools)
        if pools
        else sum(_workload_gpus(r) for r in stack.of_type(*WORKLOAD_TYPES))
    )
    if math.isinf(gpus):
        yield Finding(
            "a Karpenter NodePool that may launch GPU types sets no `nvidia.com/gpu` limit: no budget holds",
            None,
        )
    elif gpus > settings.max_gpus_per_stack:
        limit = settings.max_gpus_per_stack
        yield Finding(f"the stack can provision {gpus:g} GPUs, above the limit of {limit}", None)


# A site is its cluster; its budget is the cloud's budget resource filtered to the site's tag.
CLUSTERS = {
    "aws:eks/cluster:Cluster": Cloud.AWS,
    AKS_CLUSTER: Cloud.AZURE,
    "alicloud:cs/managedKubernetes:ManagedKubernetes": Cloud.ALICLOUD,
}
BUDGETS = {"aws:budgets/budget:Budget": Cloud.AWS, "azure-native:consumption:Budget": Cloud.AZURE}
ALL_SITES = "*"


def site_of(stack: Stack, resource: Resource) -> str:
    """The site a cloud resource belongs to: its (or its provider's) site tag, else its own name."""
    # The blueprint's tag key, read when a resource is judged: a check of bare manifests never loads it.
    from lepton_infra.blueprint.budgets import SITE_TAG_KEY

    provider = stack.provider_of(resource)
    tags = _effective_tags(resource.props, provider.props if provider is not None else None)
    return str(tags.get(SITE_TAG_KEY) or resource.name)


def _budget_sites(resource: Resource) -> set[str]:
    """Sites whose costs the budget tracks (by their tag); every site of its cloud when unfiltered."""
    from lepton_infra.blueprint.budgets import SITE_TAG_KEY

    props = resource.props
    if resource.type == "aws:budgets/budget:Budget":
        prefix = f"user:{SITE_TAG_KEY}$"
        filters = [f for f in as_list(get(props, "costFilters")) if get(f, "name") == "TagKeyValue"]
        if not filters and get(props, "filterExpression") is None:
            return {ALL_SITES}
        values = [str(v) for f in filters for v in as_list(get(f, "values"))]
        return {v.removeprefix(prefix) for v in values if v.startswith(prefix)}
    expressions = [
        get(props, "filter", "tags"),
        *(get(p, "tags") for p in as_list(get(props, "filter", "and"))),
    ]
    tagged = [e for e in expressions if get(e, "name") == SITE_TAG_KEY]
    if get(props, "filter") is None:
        return {ALL_SITES}
    return {str(v) for e in tagged for v in as_list(get(e, "values"))}


def _alerts_someone(resource: Resource) -> bool:
    notifications = get(resource.props, "notifications")
    if resource.type == "aws:budgets/budget:Budget":
        subscribers = ("subscriberEmailAddresses", "subscriberSnsTopicArns")
        return any(as_list(get(n, k)) for n in as_list(notifications) for k in subscribers)
    entries = notifications.values() if isinstance(notifications, Mapping) else []
    contacts = ("contactEmails", "contactGroups", "contactRoles")
    return any(is_true(get(n, "enabled")) and any(as_list(get(n, k)) for k in contacts) for n in entries)


@view_policy(
    name="governance-site-cost-budget",
    severity="medium",
    description=(
        "Every cloud site has a monthly cost budget, as the cloud's own budget resource, that alerts someone."
    ),
    remediation=(
        "Add a `budgets:` entry for the site (AWS Budgets, Azure consumption budget). Alibaba Cloud: "
        "pulumi-alicloud has no budget resource; create one in the Expenses and Costs console (Budget "
        "Management) and list the site in the pack config `external_budgets`."
    ),
    config=("externalBudgets",),
)
def site_cost_budget(stack: Stack, settings: PolicySettings) -> Iterator[Finding]:
    covered: dict[Cloud, set[str]] = {}
    for budget in stack.of_type(*BUDGETS):
        if _alerts_someone(budget):
            covered.setdefault(BUDGETS[budget.type], set()).update(_budget_sites(budget))
    for cluster in stack.of_type(*CLUSTERS):
        cloud, site = CLUSTERS[cluster.type], site_of(stack, cluster)
        sites = covered.get(cloud, set())
        if site in settings.external_budgets or site in sites or ALL_SITES in sites:
            continue
        where = (
            "pulumi-alicloud has no budget resource: create one in Alibaba Cloud's Budget Management and "
            "list the site in external_budgets"
            if cloud is Cloud.ALICLOUD
            else "add one under `budgets:`"
        )
        yield Finding(
            f"site {site} ({cloud.value}) has no monthly cost budget that alerts anyone; {where}",
            cluster.urn,
        )


POLICIES = (required_tags, required_labels, allowed_regions, max_gpus_per_stack, site_cost_budget)
