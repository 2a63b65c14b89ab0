"""Every pod spec a Kubernetes object carries, wherever it sits: what each pod rule reads.

- Built-in kinds in every apiVersion a plan may hold (``apps/v1``, ``apps/v1beta1``, ``apps/v1beta2``,
  ``extensions/v1beta1``, ``batch/v1beta1`` ...): Pod, PodTemplate, Deployment, StatefulSet, DaemonSet,
  ReplicaSet, ReplicationController, Job and CronJob, at their template paths.
- pulumi-kubernetes' ``*Patch`` types (4.x ships one per kind): a patch is ``partial``, so a rule judges
  the values it sets and never the fields it leaves alone (the live object keeps them).
- ``*List`` types: each item, as its kind.
- Custom resources: found generically, as every ``PodTemplateSpec`` (an object whose ``spec`` holds a
  ``containers`` list) or bare ``PodSpec`` inside the object. That covers JobSet
  (``spec.replicatedJobs[].template.spec.template``), LeaderWorkerSet (``spec.leaderWorkerTemplate.
  {workerTemplate,leaderTemplate}``), PyTorchJob (``spec.pytorchReplicaSpecs.{Master,Worker}.template``),
  RayCluster, RayJob, RayService (``headGroupSpec.template``, ``workerGroupSpecs[].template``,
  ``submitterPodTemplate``) and any other operator's template without a table to keep up to date.

A pod spec the cloud computes later is ``unknown`` (each rule says it cannot decide); one of the wrong
shape (``containers`` not a list, a container not an object) carries ``problems``, which
``kubernetes-pod-spec-well-formed`` reports: a malformed pod is a finding, never silence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lepton_infra.policies.rule import Subject, Undecided
from lepton_infra.policies.values import is_unknown

# `kubernetes:<group>/<version>:<Kind>`; the core group is spelled `core`.
_TOKEN = re.compile(r"^kubernetes:(?P<group>[^:/]+)/(?P<version>[^:/]+):(?P<kind>[A-Za-z][A-Za-z0-9]*)$")
_WORKLOAD_GROUPS = frozenset({"core", "apps", "extensions", "batch"})
# Where a built-in kind keeps its pod template (the object itself for a Pod).
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Built-in kinds that never carry a pod: skipped without a walk.
_PODLESS_GROUPS = frozenset(
    {
        "core",
        "apps",
        "batch",
        "extensions",
        "policy",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "autoscaling",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "certificates.k8s.io",
        "node.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "events.k8s.io",
    }
)
CONTAINER_KINDS = ("containers", "initContainers", "ephemeralContainers")
# Deep enough for every operator's CRD; deeper input is reported, not walked.
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Kind:
    """What a type token says: group, version, kind, and whether it is a patch or a list of the kind."""

    group: str
    version: str
    kind: str
    patch: bool = False
    list: bool = False

    @property
    def api_version(self) -> str:
        return self.version if self.group == "core" else f"{self.group}/{self.version}"

    @property
    def builtin(self) -> bool:
        return self.group in _WORKLOAD_GROUPS and self.kind in TEMPLATE_PATHS


@functools.lru_cache(maxsize=4096)
def kind_of(resource_type: str) -> Kind | None:
    """The Kubernetes kind of a pulumi-kubernetes type token, None for anything else."""
    match = _TOKEN.match(resource_type)
    if match is None:
        return None
    kind = match["kind"]
    patch = kind.endswith("Patch")
    listed = not patch and kind.endswith("List") and kind != "List"
    if patch:
        kind = kind.removesuffix("Patch")
    elif listed:
        kind = kind.removesuffix("List")
    return Kind(match["group"], match["version"], kind, patch, listed)


@functools.lru_cache(maxsize=4096)
def may_carry_pods(resource_type: str) -> bool:
    """Whether a resource of this type may hold a pod spec: the pod rules' type filter."""
    kind = kind_of(resource_type)
    if kind is None:
        return False
    return kind.builtin or kind.group not in _PODLESS_GROUPS


@dataclass(frozen=True, slots=True)
class Pod:
    """One pod spec of an object: where it sits, its template's metadata, its spec, and its state."""

    # The path of the template inside the object, "" for the object's only one (a Deployment's).
    where: str
    template: Mapping[str, Any]
    spec: Mapping[str, Any]
    # From a *Patch type: absent fields are left as they are, so only the values set are judged.
    partial: bool = False
    # The pod spec (or the path to it) is a value the cloud computes later.
    unknown: bool = False
    problems: tuple[str, ...] = ()

    def label(self, what: str) -> str:
        return f"{self.where}: {what}" if self.where else what

    def undecided(self, what: str = "the pod spec") -> Undecided:
        return Undecided(self.label(f"{what} can't be known during preview"))

    def containers(self, *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(label, container) for every container; ``init`` adds init and ephemeral containers."""
        for kind in CONTAINER_KINDS if init else CONTAINER_KINDS[:1]:
            listed = self.spec.get(kind)
            if listed.__class__ is not list and (not isinstance(listed, Sequence) or isinstance(listed, str)):
                continue
            for index, container in enumerate(listed):
                if container.__class__ is dict or isinstance(container, Mapping):
                    name = container.get("name")
                    shown = name if isinstance(name, str) and not is_unknown(name) else f"#{index}"
                    prefix = "container" if kind == "containers" else "init container"
                    yield self.label(f"{prefix} {shown!r}"), container


def _step(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def _builtin(kind: Kind, obj: Mapping[str, Any], where: str) -> Iterator[Pod]:
    path = TEMPLATE_PATHS[kind.kind]
    node: Any = obj
    walked: list[str] = []
    for key in path:
        if is_unknown(node):
            yield Pod(where, {}, {}, kind.patch, unknown=True)
            return
        if not isinstance(node, Mapping):
            shown = ".".join(walked) or "the object"
            yield Pod(where, {}, {}, kind.patch, problems=(f"{shown} is not an object",))
            return
        node = node.get(key)
        walked.append(key)
        if node is None:
            if not kind.patch:
                yield Pod(where, {}, {}, problems=(f"{'.'.join(walked)} is missing",))
            return
    yield _pod(where, node, kind.patch, ".".join(path))


def _pod(where: str, template: Any, partial: bool, shown: str) -> Pod:
    if is_unknown(template):
        return Pod(where, {}, {}, partial, unknown=True)
    if not isinstance(template, Mapping):
        return Pod(where, {}, {}, partial, problems=(f"{shown or 'the pod'} is not an object",))
    spec = template.get("spec")
    if is_unknown(spec):
        return Pod(where, template, {}, partial, unknown=True)
    if spec is None and partial:
        return Pod(where, template, {}, partial)
    if not isinstance(spec, Mapping):
        missing = spec is None
        problem = f"{shown + '.' if shown else ''}spec is {'missing' if missing else 'not an object'}"
        return Pod(where, template, {}, partial, problems=(problem,))
    return Pod(where, template, spec, partial, unknown=False, problems=tuple(spec_problems(spec, partial)))


def spec_problems(spec: Mapping[str, Any], partial: bool) -> Iterator[str]:
    """What makes a pod spec unreadable: the shapes Kubernetes' own validation refuses."""
    containers = spec.get("containers")
    if containers is None and not partial:
        yield "spec.containers is missing"
    for kind in CONTAINER_KINDS:
        listed = spec.get(kind)
        if listed is None or is_unknown(listed):
            continue
        if listed.__class__ is not list and (not isinstance(listed, Sequence) or isinstance(listed, str)):
            yield f"spec.{kind} is not a list"
            continue
        for index, container in enumerate(listed):
            if container.__class__ is not dict:
                if is_unknown(container):
                    continue
                if not isinstance(container, Mapping):
                    yield f"spec.{kind}[{index}] is not an object"
                    continue
            context = container.get("securityContext")
            if context is None or context.__class__ is dict:
                continue
            if not is_unknown(context) and not isinstance(context, Mapping):
                yield f"spec.{kind}[{index}].securityContext is not an object"
    for key in ("securityContext", "volumes"):
        value = spec.get(key)
        expected = Mapping if key == "securityContext" else Sequence
        if (
            value is not None
            and not is_unknown(value)
            and (not isinstance(value, expected) or isinstance(value, str))
        ):
            yield f"spec.{key} is not {'an object' if key == 'securityContext' else 'a list'}"


def _generic(obj: Any, where: str, partial: bool) -> Iterator[Pod]:
    """Every pod template (or bare pod spec) below ``obj``, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(obj, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > _MAX_DEPTH:
            yield Pod(where, {}, {}, partial, problems=(f"{path} nests deeper than {_MAX_DEPTH} levels",))
            continue
        if isinstance(node, Mapping):
            spec = node.get("spec")
            if isinstance(spec, Mapping) and isinstance(spec.get("containers"), Sequence):
                yield _pod(_join(where, path), node, partial, "")
                continue
            if isinstance(node.get("containers"), Sequence) and not isinstance(node.get("containers"), str):
                yield _pod(_join(where, path), {"spec": node}, partial, "")
                continue
            for key, value in node.items():
                if isinstance(value, Mapping | list):
                    stack.append((value, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, Mapping | list):
                    stack.append((value, f"{path}[{index}]", depth + 1))


def _join(where: str, path: str) -> str:
    return f"{where}.{path}" if where and path else where or path


def discover(resource_type: str, props: Mapping[str, Any]) -> tuple[Pod, ...]:
    """Every pod spec of an object of ``resource_type`` with inputs ``props``."""
    kind = kind_of(resource_type)
    if kind is None:
        return ()
    if kind.list:
        items = props.get("items")
        if is_unknown(items):
            return (Pod("items", {}, {}, unknown=True),)
        item_kind = Kind(kind.group, kind.version, kind.kind)
        found: list[Pod] = []
        for index, item in enumerate(items if isinstance(items, list) else []):
            found.extend(_of(item_kind, item, f"items[{index}]"))
        return tuple(found)
    return tuple(_of(kind, props, ""))


def _of(kind: Kind, obj: Any, where: str) -> Iterator[Pod]:
    if kind.builtin:
        yield from _builtin(kind, obj, where)
    elif kind.group not in _PODLESS_GROUPS:
        yield from _generic(obj, where, kind.patch)


def pods(subject: Subject) -> tuple[Pod, ...]:
    """The subject's pod specs, found once and shared by every pod rule."""
    return subject.memo("pods", lambda s: discover(s.type, s.props))
