"""Serving that survives a node drain, and Services that do not face the internet by accident.

The Deployment x PodDisruptionBudget and Deployment x HPA joins are built from indexes once per stack, so
the rule stays linear in the number of objects: autoscalers by (namespace, target kind, target name),
budgets by the one selector pair the fewest Deployments carry (``selectors.SelectorIndex``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import kind_of, pods
from lepton_infra.policies.kubernetes.selectors import SelectorIndex, labels_of
from lepton_infra.policies.kubernetes.workloads import pod_gpus
from lepton_infra.policies.networks import CIDR_SETTINGS, open_ranges
from lepton_infra.policies.rule import Outcome, Subject, resource_policy, subject_of, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_float, as_list, as_mapping, get, is_unknown, number, read
from lepton_infra.policies.view import Finding, Resource, Stack

# Labels that mark a Deployment as model serving, besides it asking for GPUs.
_SERVING_COMPONENTS = frozenset({"inference", "serving", "server", "predictor"})
# Annotations each cloud's controller reads to keep a LoadBalancer on private addresses.
_INTERNAL_ANNOTATIONS: dict[str, frozenset[str]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": frozenset({"internal"}),
    "service.beta.kubernetes.io/azure-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": frozenset({"intranet"}),
}


def _kind(resource: Resource) -> str | None:
    kind = kind_of(resource.type)
    return kind.kind if kind is not None and not kind.patch and not kind.list else None


def _namespace(props: Mapping[str, Any]) -> str:
    return str(get(props, "metadata", "namespace", default="default"))


def _is_inference(stack: Stack, deployment: Resource) -> bool:
    found = pods(subject_of(stack, deployment))
    labels = labels_of(get(deployment.props, "metadata", "labels"))
    for pod in found:
        labels |= labels_of(get(pod.template, "metadata", "labels"))
    return labels.get("app.kubernetes.io/component") in _SERVING_COMPONENTS or any(
        pod_gpus(pod.spec) > 0 for pod in found
    )


def _autoscaled_minimums(stack: Stack) -> dict[tuple[str, str, str], float]:
    found: dict[tuple[str, str, str], float] = {}
    for hpa in stack.matching(lambda t: _is_kind(t, "HorizontalPodAutoscaler")):
        target = as_mapping(get(hpa.props, "spec", "scaleTargetRef"))
        minimum = as_float(get(hpa.props, "spec", "minReplicas", default=1))
        key = (_namespace(hpa.props), str(target.get("kind")), str(target.get("name")))
        found[key] = minimum if minimum is not None else 1.0
    return found


def _is_kind(resource_type: str, name: str) -> bool:
    kind = kind_of(resource_type)
    return kind is not None and kind.kind == name and not kind.patch and not kind.list


@view_policy(
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
def inference_availability(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    deployments = [
        d for d in stack.matching(lambda t: _is_kind(t, "Deployment")) if d.custom and _is_inference(stack, d)
    ]
    if not deployments:
        return
    templates = {d.urn: pods(subject_of(stack, d)) for d in deployments}
    pod_labels = {
        urn: labels_of(get(found[0].template, "metadata", "labels")) if found else {}
        for urn, found in templates.items()
    }
    all_budgets = stack.matching(lambda t: _is_kind(t, "PodDisruptionBudget"))
    # A budget whose selector the plan does not show (unknown, secret) may be the one that selects.
    unread_budget = any(is_unknown(read(b.props, "spec", "selector")) for b in all_budgets)
    budgets = SelectorIndex(
        (
            (_namespace(b.props), selector)
            for b in all_budgets
            # A budget without a selector selects no pod (policy/v1: an empty selector selects all).
            if (selector := as_mapping(get(b.props, "spec", "selector")))
            or "selector" in as_mapping(get(b.props, "spec"))
        ),
        pod_labels.values(),
    )
    minimums = _autoscaled_minimums(stack)
    for deployment in deployments:
        if is_unknown(read(deployment.props, "spec")):
            note = "inference Deployment's spec can't be read from the plan (unknown or secret)"
            yield Finding(note, deployment.urn, undecided=True)
            continue
        namespace = _namespace(deployment.props)
        name = str(get(deployment.props, "metadata", "name"))
        replicas = minimums.get((namespace, "Deployment", name))
        if replicas is None:
            replicas = as_float(get(deployment.props, "spec", "replicas", default=1)) or 0.0
        if replicas < 2:
            yield Finding(
                f"inference Deployment runs {number(replicas)} replica(s); a drain or crash takes it offline",
                deployment.urn,
            )
        if not budgets.selects(namespace, pod_labels[deployment.urn]):
            if unread_budget:
                yield Finding("a PodDisruptionBudget's selector can't be read from the plan", None, True)
                continue
            yield Finding(
                "inference Deployment has no PodDisruptionBudget selecting its pods", deployment.urn
            )


@resource_policy(
    name="kubernetes-service-disallow-public-load-balancer",
    types=lambda t: _is_kind(t, "Service"),
    severity="high",
    description="LoadBalancer Services must be internal or restricted to allowed source ranges.",
    remediation=(
        "Annotate the Service for an internal load balancer (e.g. "
        "`service.beta.kubernetes.io/aws-load-balancer-scheme: internal`) or set "
        "`loadBalancerSourceRanges` to the allowed CIDRs."
    ),
    config=CIDR_SETTINGS,
)
def disallow_public_load_balancer(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "spec", "type") != "LoadBalancer":
        return
    annotations = as_mapping(get(r.props, "metadata", "annotations"))
    if any(str(annotations.get(k, "")).lower() in v for k, v in _INTERNAL_ANNOTATIONS.items()):
        return
    ranges = [str(c) for c in as_list(get(r.props, "spec", "loadBalancerSourceRanges"))]
    if not ranges:
        yield "Service of type LoadBalancer is reachable from the internet"
    elif wide := open_ranges(ranges, settings):
        yield f"Service of type LoadBalancer is reachable from the internet: {'; '.join(wide)}"


POLICIES = (inference_availability, disallow_public_load_balancer)
