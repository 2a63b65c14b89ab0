"""Governance: who pays (tags and labels), where things run (regions), how many GPUs a stack may buy."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

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
from lepton_infra.policies.props import as_list, get, tags_of
from lepton_infra.policies.rule import Subject, resource_policy, stack_policy
from lepton_infra.policies.settings import PolicySettings

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
def required_tags(r: Subject) -> Iterator[str]:
    # AWS applies provider default tags to every resource; the others only know the resource's own tags.
    # Provider state keeps structured config as JSON text, so a saved plan may carry it either way.
    default_tags = get(r.provider, "defaultTags")
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags or "{}")
    tags = {**dict(get(default_tags, "tags", default={})), **tags_of(r.props)}
    missing = [t for t in r.settings.required_tags if t not in tags]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


@resource_policy(
    name="governance-required-labels",
    types=LABELLED_TYPES,
    severity="medium",
    description="Kubernetes workloads, Services and Namespaces must carry the required labels.",
    remediation="Add the missing keys to `metadata.labels`.",
    config=("requiredLabels",),
)
def required_labels(r: Subject) -> Iterator[str]:
    labels = dict(get(r.props, "metadata", "labels", default={}))
    missing = [label for label in r.settings.required_labels if label not in labels]
    if missing:
        yield f"missing labels: {', '.join(missing)}"


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
def allowed_regions(r: Subject) -> Iterator[str]:
    allowed = {a.replace(" ", "").lower() for a in r.settings.allowed_regions}
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


def _capacity(resource: PolicyResource) -> float:
    props: Mapping[str, Any] = resource.props
    if resource.resource_type == KARPENTER_NODE_POOL:
        return _karpenter_gpus(props)
    if resource.resource_type == "aws:eks/nodeGroup:NodeGroup":
        return _pool_gpus(
            Cloud.AWS, as_list(get(props, "instanceTypes")), get(props, "scalingConfig", "maxSize")
        )
    if resource.resource_type == "alicloud:cs/nodePool:NodePool":
        nodes = get(props, "scalingConfig", "maxSize", default=get(props, "desiredSize"))
        return _pool_gpus(Cloud.ALICLOUD, as_list(get(props, "instanceTypes")), nodes)
    pools = as_list(get(props, "agentPoolProfiles")) if resource.resource_type == AKS_CLUSTER else [props]
    return sum(
        _pool_gpus(Cloud.AZURE, [get(p, "vmSize")], get(p, "maxCount", default=get(p, "count")))
        for p in pools
    )


def _workload_gpus(resource: PolicyResource) -> float:
    replicas = (
        get(resource.props, "spec", "replicas", default=1)
        if resource.resource_type in (DEPLOYMENT, STATEFUL_SET)
        else 1
    )
    parallelism = (
        get(resource.props, "spec", "parallelism", default=1)
        if resource.resource_type == "kubernetes:batch/v1:Job"
        else 1
    )
    return pod_gpus(pod_spec(resource.resource_type, resource.props)) * float(replicas) * float(parallelism)


@stack_policy(
    name="governance-max-gpus-per-stack",
    severity="high",
    description="A stack must not be able to provision more GPUs than the configured budget.",
    remediation=(
        "Lower the GPU pools' `max_nodes`, or raise the pack config `max_gpus_per_stack` with the "
        "budget owner's approval."
    ),
    config=("maxGpusPerStack",),
)
def max_gpus_per_stack(
    resources: Sequence[PolicyResource], settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    pools = [
        r
        for r in resources
        if r.resource_type in NODE_POOLS or r.resource_type in (AKS_CLUSTER, KARPENTER_NODE_POOL)
    ]
    # Node pools say what the stack can buy; without any (an existing cluster), count what workloads ask for.
    gpus = (
        sum(_capacity(r) for r in pools)
        if pools
        else sum(_workload_gpus(r) for r in resources if r.resource_type in WORKLOAD_TYPES)
    )
    if math.isinf(gpus):
        yield (
            "a Karpenter NodePool that may launch GPU types sets no `nvidia.com/gpu` limit: no budget holds",
            None,
        )
    elif gpus > settings.max_gpus_per_stack:
        yield f"the stack can provision {gpus:g} GPUs, above the limit of {settings.max_gpus_per_stack}", None


POLICIES = (required_tags, required_labels, allowed_regions, max_gpus_per_stack)
