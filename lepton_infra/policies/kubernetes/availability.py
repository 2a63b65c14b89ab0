"""Serving that survives a node drain, and Services that do not face the internet by accident.

The Deployment x PodDisruptionBudget and Deployment x HPA joins are built from indexes once per stack, so
the rule stays linear in the number of objects: autoscalers by (namespace, target kind, target name),
budgets by the one selector pair the fewest Deployments carry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import kind_of, pods
from lepton_infra.policies.kubernetes.workloads import pod_gpus
from lepton_infra.policies.networks import is_world
from lepton_infra.policies.rule import Outcome, Subject, resource_policy, subject_of, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_float, as_list, as_mapping, get, number
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


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_mapping(value).items()}


def _is_inference(stack: Stack, deployment: Resource) -> bool:
    found = pods(subject_of(stack, deployment))
    labels = _labels(get(deployment.props, "metadata", "labels"))
    for pod in found:
        labels |= _labels(get(pod.template, "metadata", "labels"))
    return labels.get("app.kubernetes.io/component") in _SERVING_COMPONENTS or any(
        pod_gpus(pod.spec) > 0 for pod in found
    )


class _Budgets:
    """PodDisruptionBudgets indexed so that each Deployment is checked against few of them.

    A budget selects a pod when all its ``matchLabels`` are among the pod's labels, so it is indexed
    under one of its pairs: the one the fewest Deployments' pod templates carry. A Deployment then looks
    up only the budgets indexed under its own pairs. Budgets with ``matchExpressions`` alone are kept
    per namespace and checked against each Deployment there.
    """

    def __init__(self, budgets: list[Resource], pod_labels: list[dict[str, str]]) -> None:
        frequency = Counter(pair for labels in pod_labels for pair in labels.items())
        self._by_pair: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
        self._by_namespace: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for budget in budgets:
            namespace = _namespace(budget.props)
            selector = as_mapping(get(budget.props, "spec", "selector"))
            labels = _labels(selector.get("matchLabels"))
            if labels and not selector.get("matchExpressions"):
                key, value = min(labels.items(), key=lambda pair: (frequency[pair], pair))
                self._by_pair[(namespace, key, value)].append(labels)
            elif selector.get("matchExpressions"):
                self._by_namespace[namespace].append(selector)

    def selects(self, namespace: str, labels: dict[str, str]) -> bool:
        for key, value in labels.items():
            for selector in self._by_pair.get((namespace, key, value), ()):
                if selector.items() <= labels.items():
                    return True
        return any(_matches(s, labels) for s in self._by_namespace.get(namespace, ()))


def _matches(selector: Mapping[str, Any], labels: dict[str, str]) -> bool:
    if not _labels(selector.get("matchLabels")).items() <= labels.items():
        return False
    for expression in as_list(selector.get("matchExpressions")):
        key, operator = str(get(expression, "key")), get(expression, "operator")
        values = {str(v) for v in as_list(get(expression, "values"))}
        present = key in labels
        if (
            (operator == "In" and (not present or labels[key] not in values))
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


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
        urn: _labels(get(found[0].template, "metadata", "labels")) if found else {}
        for urn, found in templates.items()
    }
    budgets = _Budgets(
        stack.matching(lambda t: _is_kind(t, "PodDisruptionBudget")), list(pod_labels.values())
    )
    minimums = _autoscaled_minimums(stack)
    for deployment in deployments:
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
)
def disallow_public_load_balancer(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "spec", "type") != "LoadBalancer":
        return
    annotations = as_mapping(get(r.props, "metadata", "annotations"))
    if any(str(annotations.get(k, "")).lower() in v for k, v in _INTERNAL_ANNOTATIONS.items()):
        return
    ranges = [str(c) for c in as_list(get(r.props, "spec", "loadBalancerSourceRanges"))]
    if not ranges or any(is_world(c) for c in ranges):
        yield "Service of type LoadBalancer is reachable from the internet"


POLICIES = (inference_availability, disallow_public_load_balancer)
