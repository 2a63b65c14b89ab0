"""What the scheduler sees of a pod: its effective request, where it may land, and which taints it tolerates.

Each function follows the Kubernetes semantics it names, so a rule's verdict is the scheduler's verdict:

- A container's request defaults to its limit where only the limit is set ("If you specify a limit for
  a resource, but do not specify any request, ... Kubernetes copies the limit",
  https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/).
- A pod's effective request (init containers, sidecars, memory-backed /dev/shm) is computed by
  ``catalog.fit.PodRequest``, which cites the Kubernetes pages it follows; this module reads the pod
  spec into it.
- Taints and tolerations match as in https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/.

A taint, toleration, selector or label that is unknown during preview raises ``values.UnknownRead``: whether
the pod lands there is then not known, and the rule that asks is undecided (read as absent, an unknown
toleration key gave a false "does not tolerate").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lepton_infra.catalog.fit import InitContainer, PodRequest, effective_amount
from lepton_infra.catalog.types import Resources
from lepton_infra.policies.kubernetes.workloads import (
    CRON_JOB,
    DAEMON_SET,
    DEPLOYMENT,
    JOB,
    STATEFUL_SET,
    WORKLOAD_TYPES,
    pod_template,
)
from lepton_infra.policies.values import UnknownRead, as_list, as_mapping, get, is_unknown, known
from lepton_infra.policies.view import Resource

GPU = "nvidia.com/gpu"
EPHEMERAL_STORAGE = "ephemeral-storage"
# Effects that keep a pod off a node; PreferNoSchedule only prefers.
BLOCKING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^\s*([+-]?[0-9.]+(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$")


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (``"4000m"``, ``"16Gi"``, ``8``, ``"0.5"``) in base units, or None."""
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value))
    if match is None:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    suffix = match.group(2)
    if suffix == "m":
        return number / 1000
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number if suffix == "" else None


def millicores(value: Any) -> int:
    amount = quantity(value)
    return int((amount * 1000).to_integral_value()) if amount is not None else 0


def mebibytes(value: Any) -> int:
    amount = quantity(value)
    return int((amount / 2**20).to_integral_value(rounding="ROUND_CEILING")) if amount is not None else 0


def _count(value: Any) -> int:
    amount = quantity(value)
    return int(amount) if amount is not None else 0


def _asked(container: Any, resource: str) -> Any:
    """A container's request of ``resource``, defaulting to its limit."""
    value = get(container, "resources", "requests", resource)
    return value if value is not None else get(container, "resources", "limits", resource)


def container_request(container: Mapping[str, Any]) -> Resources:
    """What one container asks the scheduler for: its requests, each defaulting to its limit."""
    return Resources(
        _count(_asked(container, GPU)),
        millicores(_asked(container, "cpu")),
        mebibytes(_asked(container, "memory")),
    )


def memory_volumes_mib(spec: Mapping[str, Any]) -> int:
    """The size limits of the pod's memory-backed emptyDir volumes (tmpfs such as /dev/shm), summed."""
    return sum(
        mebibytes(get(volume, "emptyDir", "sizeLimit"))
        for volume in as_list(get(spec, "volumes"))
        if get(volume, "emptyDir", "medium") == "Memory"
    )


def pod_ephemeral_mib(spec: Mapping[str, Any]) -> int:
    """The pod's ``ephemeral-storage`` request as the scheduler computes it (init containers' peak against
    the app containers' sum, as for CPU: ``catalog.fit.effective_amount``), in MiB; 0 where none asks."""
    return effective_amount(
        (mebibytes(_asked(c, EPHEMERAL_STORAGE)) for c in as_list(get(spec, "containers"))),
        (
            (mebibytes(_asked(c, EPHEMERAL_STORAGE)), get(c, "restartPolicy") == "Always")
            for c in as_list(get(spec, "initContainers"))
        ),
    )


def disk_volumes(spec: Mapping[str, Any]) -> list[str]:
    """The names of the pod's emptyDirs on the node's disk (not tmpfs): what fills its ephemeral storage."""
    return [
        str(get(volume, "name"))
        for volume in as_list(get(spec, "volumes"))
        if get(volume, "emptyDir") is not None and get(volume, "emptyDir", "medium") != "Memory"
    ]


def pod_request(spec: Mapping[str, Any]) -> Resources:
    """The pod's effective request as the scheduler computes it (``catalog.fit.PodRequest``, the one
    computation the blueprint uses too), read from a pod spec."""
    inits = tuple(
        InitContainer(container_request(as_mapping(c)), sidecar=get(c, "restartPolicy") == "Always")
        for c in as_list(get(spec, "initContainers"))
    )
    containers = tuple(container_request(as_mapping(c)) for c in as_list(get(spec, "containers")))
    return PodRequest(containers, inits, memory_volumes_mib(spec)).effective()


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str

    def __str__(self) -> str:
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"

    @classmethod
    def parse(cls, text: str) -> Taint | None:
        """``key=value:Effect`` (AKS's nodeTaints form)."""
        head, _, effect = text.rpartition(":")
        if not head or not effect:
            return None
        key, _, value = head.partition("=")
        return cls(key, value or None, effect)

    @classmethod
    def of(cls, item: Any) -> Taint | None:
        """A taint from a ``{key, value, effect}`` mapping or a ``key=value:Effect`` string."""
        if is_unknown(item):
            raise UnknownRead(item, ())
        if isinstance(item, str):
            return cls.parse(item)
        key, effect = known(item, "key"), known(item, "effect")
        if not isinstance(key, str) or not isinstance(effect, str):
            return None
        value = known(item, "value")
        return cls(key, value if isinstance(value, str) else None, _EFFECTS.get(effect, effect))

    @property
    def blocks(self) -> bool:
        return self.effect in BLOCKING_EFFECTS


def tolerates(tolerations: Iterable[Any], taint: Taint) -> bool:
    """Whether any toleration matches ``taint`` (an empty key with Exists tolerates every taint)."""
    for toleration in tolerations:
        key = known(toleration, "key")
        operator = known(toleration, "operator", default="Equal")
        effect = known(toleration, "effect")
        if effect not in (None, "") and effect != taint.effect:
            continue
        if key in (None, ""):
            if operator == "Exists":
                return True
            continue
        if key != taint.key:
            continue
        if operator == "Exists" or (known(toleration, "value") or None) == taint.value:
            return True
    return False


def untolerated(tolerations: Iterable[Any], taints: Iterable[Taint]) -> list[Taint]:
    """The taints that keep a pod with ``tolerations`` off the node."""
    tolerations = list(tolerations)
    return [t for t in taints if t.blocks and not tolerates(tolerations, t)]


def _expression_matches(expression: Any, labels: Mapping[str, str | None]) -> bool:
    key, operator = known(expression, "key"), known(expression, "operator")
    wanted = [str(known(v)) for v in as_list(known(expression, "values"))]
    if key not in labels:
        return operator in ("NotIn", "DoesNotExist")
    value = labels[key]
    if value is None:  # a label the node carries whose value the plan cannot know (its zone, say)
        return bool(operator != "DoesNotExist")
    if operator == "In":
        return value in wanted
    if operator == "NotIn":
        return value not in wanted
    if operator == "Exists":
        return True
    if operator in ("Gt", "Lt") and wanted:
        try:
            number, bound = int(value), int(wanted[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def _required_node_terms(spec: Mapping[str, Any]) -> list[Any]:
    """The pod's required node affinity terms (any one of them must match)."""
    required = known(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    return as_list(known(required, "nodeSelectorTerms"))


def selects(spec: Mapping[str, Any], labels: Mapping[str, str | None]) -> bool:
    """Whether a node with ``labels`` satisfies the pod's nodeSelector and required node affinity.

    A label whose value is None is one the node has but the plan cannot know: it matches any value.
    """
    for key, value in as_mapping(known(spec, "nodeSelector")).items():
        if is_unknown(value):
            raise UnknownRead(value, ("nodeSelector", key))
        if key not in labels or (labels[key] is not None and labels[key] != str(value)):
            return False
    terms = _required_node_terms(spec)
    if not terms:
        return True
    return any(
        all(_expression_matches(e, labels) for e in as_list(get(term, "matchExpressions"))) for term in terms
    )


def pins_zone(spec: Mapping[str, Any]) -> bool:
    """Whether the pod is held to one zone: by nodeSelector, required node affinity or pod affinity."""
    zone = "topology.kubernetes.io/zone"
    if zone in as_mapping(get(spec, "nodeSelector")):
        return True
    for term in _required_node_terms(spec):
        for expression in as_list(get(term, "matchExpressions")):
            one_zone = len(as_list(get(expression, "values"))) == 1
            if get(expression, "key") == zone and get(expression, "operator") == "In" and one_zone:
                return True
    return any(
        get(term, "topologyKey") == zone
        for term in as_list(
            get(spec, "affinity", "podAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        )
    )


@dataclass(frozen=True)
class Workload:
    """A Kubernetes object that makes pods, with what the rules need to know of them."""

    resource: Resource
    kind: str
    name: str
    namespace: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]
    # How many pods run at once at most (HPA maxReplicas folded in by the caller) and whether all of
    # them must run together (an Indexed Job of torchrun ranks cannot start with fewer).
    replicas: int
    gang: bool

    @property
    def request(self) -> Resources:
        return pod_request(self.spec)

    @property
    def ephemeral_mib(self) -> int:
        return pod_ephemeral_mib(self.spec)

    @property
    def label(self) -> str:
        return self.name

    @property
    def gpus(self) -> int:
        return self.request.gpus


def _replicas(resource: Resource) -> tuple[int, bool]:
    if resource.type == JOB:
        parallelism = _count(resource.get("spec", "parallelism", default=1)) or 1
        completions = _count(resource.get("spec", "completions", default=parallelism)) or parallelism
        gang = resource.get("spec", "completionMode") == "Indexed" and min(parallelism, completions) > 1
        return min(parallelism, completions), gang
    if resource.type == CRON_JOB:
        return _count(resource.get("spec", "jobTemplate", "spec", "parallelism", default=1)) or 1, False
    if resource.type in (DEPLOYMENT, STATEFUL_SET):
        return _count(resource.get("spec", "replicas", default=1)), False
    return 1, False


def workloads(resources: Iterable[Resource]) -> Iterator[Workload]:
    """Every object that makes pods, except DaemonSets (which the node side counts)."""
    for r in resources:
        if r.type not in WORKLOAD_TYPES or r.type == DAEMON_SET:
            continue
        template = pod_template(r.type, r.props)
        spec = as_mapping(get(template, "spec"))
        replicas, gang = _replicas(r)
        yield Workload(
            resource=r,
            kind=r.type.rsplit(":", 1)[-1],
            name=str(r.get("metadata", "name", default=r.name)),
            namespace=str(r.get("metadata", "namespace", default="default")),
            labels={str(k): str(v) for k, v in as_mapping(get(template, "metadata", "labels")).items()},
            spec=spec,
            replicas=replicas,
            gang=gang,
        )
