"""Serving that survives a node drain, and Services that do not face the internet by accident."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from lepton_infra.policies.kubernetes.workloads import (
    DEPLOYMENT,
    HPA,
    PDB,
    SERVICE,
    pod_gpus,
    pod_spec,
    pod_template,
)
from lepton_infra.policies.networks import CIDR_SETTINGS, open_ranges
from lepton_infra.policies.props import as_list, get
from lepton_infra.policies.rule import Subject, resource_policy, stack_policy
from lepton_infra.policies.settings import PolicySettings

# Labels that mark a Deployment as model serving, besides it asking for GPUs.
_SERVING_COMPONENTS = frozenset({"inference", "serving", "server", "predictor"})
# Annotations each cloud's controller reads to keep a LoadBalancer on private addresses.
_INTERNAL_ANNOTATIONS: dict[str, frozenset[str]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": frozenset({"internal"}),
    "service.beta.kubernetes.io/azure-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": frozenset({"intranet"}),
}


def _namespace(props: Mapping[str, Any]) -> str:
    return str(get(props, "metadata", "namespace", default="default"))


def _is_inference(props: Mapping[str, Any]) -> bool:
    labels = {
        **dict(get(props, "metadata", "labels", default={})),
        **dict(get(pod_template(DEPLOYMENT, props), "metadata", "labels", default={})),
    }
    return (
        labels.get("app.kubernetes.io/component") in _SERVING_COMPONENTS
        or pod_gpus(pod_spec(DEPLOYMENT, props)) > 0
    )


def _min_replicas(deployment: Mapping[str, Any], autoscalers: Sequence[Mapping[str, Any]]) -> float:
    name = get(deployment, "metadata", "name")
    for hpa in autoscalers:
        target = get(hpa, "spec", "scaleTargetRef", default={})
        if (
            get(target, "kind") == "Deployment"
            and get(target, "name") == name
            and _namespace(hpa) == _namespace(deployment)
        ):
            return float(get(hpa, "spec", "minReplicas", default=1))
    return float(get(deployment, "spec", "replicas", default=1))


def _has_pdb(deployment: Mapping[str, Any], budgets: Sequence[Mapping[str, Any]]) -> bool:
    pod_labels = dict(get(pod_template(DEPLOYMENT, deployment), "metadata", "labels", default={}))
    for pdb in budgets:
        selector = dict(get(pdb, "spec", "selector", "matchLabels", default={}))
        if selector and _namespace(pdb) == _namespace(deployment) and selector.items() <= pod_labels.items():
            return True
    return False


@stack_policy(
    name="kubernetes-inference-replicas-and-pdb",
    severity="medium",
    description=(
        "Inference Deployments must keep at least 2 replicas and have a PodDisruptionBudget selecting"
        " their pods."
    ),
    remediation=(
        "Set `replicas` (or the HPA's `minReplicas`) to 2 or more and add a PodDisruptionBudget "
        "(`maxUnavailable: 1`) whose selector matches the pod labels."
    ),
)
def inference_availability(
    resources: Sequence[PolicyResource], _settings: PolicySettings
) -> Iterator[tuple[str, str | None]]:
    autoscalers = [r.props for r in resources if r.resource_type == HPA]
    budgets = [r.props for r in resources if r.resource_type == PDB]
    for r in resources:
        if r.resource_type != DEPLOYMENT or not _is_inference(r.props):
            continue
        replicas = _min_replicas(r.props, autoscalers)
        if replicas < 2:
            yield (
                f"inference Deployment runs {replicas:g} replica(s); a drain or crash takes it offline",
                r.urn,
            )
        if not _has_pdb(r.props, budgets):
            yield "inference Deployment has no PodDisruptionBudget selecting its pods", r.urn


@resource_policy(
    name="kubernetes-service-disallow-public-load-balancer",
    types=(SERVICE,),
    severity="high",
    description="LoadBalancer Services must be internal or restricted to allowed source ranges.",
    remediation=(
        "Annotate the Service for an internal load balancer (e.g. "
        "`service.beta.kubernetes.io/aws-load-balancer-scheme: internal`) or set "
        "`loadBalancerSourceRanges` to the allowed CIDRs."
    ),
    config=CIDR_SETTINGS,
)
def disallow_public_load_balancer(r: Subject) -> Iterator[str]:
    if get(r.props, "spec", "type") != "LoadBalancer":
        return
    annotations = dict(get(r.props, "metadata", "annotations", default={}))
    if any(str(annotations.get(k, "")).lower() in v for k, v in _INTERNAL_ANNOTATIONS.items()):
        return
    ranges = [str(c) for c in as_list(get(r.props, "spec", "loadBalancerSourceRanges"))]
    if not ranges:
        yield "Service of type LoadBalancer is reachable from the internet"
    elif wide := open_ranges(ranges, r.settings):
        yield f"Service of type LoadBalancer is reachable from the internet: {'; '.join(wide)}"


POLICIES = (inference_availability, disallow_public_load_balancer)
