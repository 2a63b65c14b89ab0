"""Whether a change to a resource replaces it, where that can be known offline.

Kubernetes objects: a change to a field the API server refuses to update (it answers "field is
immutable") can only be applied by deleting and recreating the object, which pulumi-kubernetes does on its
own: its provider lists these fields per kind (``forceNew`` in provider/pkg/provider/diff.go, which its
Diff turns into replacements). The fields below are those for the kinds our components and a user's program
emit, each with where Kubernetes says so:

- every object: ``metadata.name`` and ``metadata.namespace`` name the object; another name is another
  object (pulumi-kubernetes ``metadataForceNewProperties``).
- Job (batch/v1): ``spec.template`` and ``spec.selector`` ("The Job ... is invalid: spec.template: Invalid
  value: ...: field is immutable", kubernetes/kubernetes#89657, pulumi-kubernetes#330 and #333 which made
  ``.spec.template`` force-new); pulumi-kubernetes also replaces on ``spec.completions`` and
  ``spec.parallelism``.
- Deployment, StatefulSet, DaemonSet (apps/v1): ``spec.selector`` (immutable since apps/v1: the controller
  finds its pods by it; "spec.selector: Invalid value: ...: field is immutable").
- StatefulSet: ``spec.volumeClaimTemplates``, ``spec.serviceName``, ``spec.podManagementPolicy`` (the API
  server: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template',
  'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  pulumi-kubernetes adds ``spec.revisionHistoryLimit``.
- PersistentVolumeClaim (core/v1): ``spec`` is immutable once created except
  ``spec.resources.requests`` (volume expansion, where the StorageClass allows it) and
  ``spec.volumeAttributesClassName`` ("it can be changed after the claim is created", the v1 API
  reference).

An update the API server refuses outright is neither: pulumi-kubernetes updates a claim's
``spec.resources`` in place (pulumi-kubernetes#1665, fixed by #1705 so that a resize never deletes the
volume), and a smaller storage request is refused ("spec.resources.requests.storage: Forbidden: field can
not be less than previous value"; the persistent-volumes concept page: "Kubernetes does not support
shrinking a PVC"), so `pulumi up` fails on it.

Cloud resources: whether a change replaces one is the provider's answer (its schema's ``forceNew`` /
``replaceOnChanges`` and the provider's Diff); the installed SDKs carry no such data, so the answer offline
is "unknown", never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lepton_infra.plan.model import PlanResource
from lepton_infra.policies.operability.pods import quantity

_METADATA = ("metadata.name", "metadata.namespace")
_SELECTOR = ("spec.selector",)
# Kubernetes kind (from the type token `kubernetes:<group>/<version>:<Kind>`) -> immutable input paths.
IMMUTABLE: dict[str, tuple[str, ...]] = {
    "batch/v1:Job": ("spec.template", "spec.selector", "spec.completions", "spec.parallelism"),
    "apps/v1:Deployment": _SELECTOR,
    "apps/v1:DaemonSet": _SELECTOR,
    "apps/v1:StatefulSet": (
        *_SELECTOR,
        "spec.volumeClaimTemplates",
        "spec.serviceName",
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
    ),
    "core/v1:PersistentVolumeClaim": ("spec",),
}
# Paths under an immutable one that may change in place.
MUTABLE_WITHIN: dict[str, tuple[str, ...]] = {
    "core/v1:PersistentVolumeClaim": ("spec.resources.requests", "spec.volumeAttributesClassName"),
}
_PVC = "core/v1:PersistentVolumeClaim"
_CLAIM_STORAGE = "spec.resources.requests.storage"
# Kubernetes types that are no object of the API server: Helm renders a release at deploy time.
_NOT_OBJECTS = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"})


class Replacement(StrEnum):
    """What `pulumi up` does with a changed resource, as far as the plan can tell."""

    UPDATE = "update"
    REPLACE = "replace"
    REFUSED = "refused"  # the API server refuses the update: `pulumi up` fails on this resource
    UNKNOWN = "unknown offline"


@dataclass(frozen=True)
class Verdict:
    replacement: Replacement
    # The changed paths that force the replacement or that the API server refuses (empty for the others).
    because: tuple[str, ...] = ()
    # Why the API server refuses the update (REFUSED only).
    reason: str = ""


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def judge(resource: PlanResource, changes: Sequence[tuple[str, Any, Any]]) -> Verdict:
    """The verdict for ``resource`` whose inputs changed: each change a (path, old value, new value)."""
    changed_paths = [path for path, _, _ in changes]
    if not resource.custom:
        return Verdict(Replacement.UPDATE)  # a component has no state of its own to replace
    if not resource.type.startswith("kubernetes:") or resource.type in _NOT_OBJECTS:
        return Verdict(Replacement.UNKNOWN)
    kind = resource.type.removeprefix("kubernetes:")
    immutable = (*_METADATA, *IMMUTABLE.get(kind, ()))
    mutable = MUTABLE_WITHIN.get(kind, ())
    because = tuple(
        path
        for path in changed_paths
        if not path.startswith("options.")
        # a changed path under an immutable field, or a whole immutable field replaced from above
        and any(_under(path, field) or _under(field, path) for field in immutable)
        and not any(_under(path, allowed) for allowed in mutable)
    )
    if because:
        return Verdict(Replacement.REPLACE, because)
    return _refused(kind, changes) or Verdict(Replacement.UPDATE)


def _refused(kind: str, changes: Sequence[tuple[str, Any, Any]]) -> Verdict | None:
    """The update the API server refuses, where the plan shows one: a claim asked to shrink."""
    if kind != _PVC:
        return None
    for path, old, new in changes:
        before, after = quantity(old), quantity(new)
        if path == _CLAIM_STORAGE and before is not None and after is not None and after < before:
            return Verdict(
                Replacement.REFUSED,
                (path,),
                f"a claim cannot shrink ({old} -> {new}): the API server refuses it (Forbidden: field can "
                "not be less than previous value); keep the size, or move the data to a new claim",
            )
    return None
