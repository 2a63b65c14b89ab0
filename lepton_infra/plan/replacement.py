"""Whether a change to a resource replaces it, where that can be known offline.

Kubernetes objects: pulumi-kubernetes replaces an object when a field of its ``forceNew`` table changes
(provider/pkg/provider/diff.go; read at commit cafe8c4, where the PVC entry no longer lists
``.spec.resources`` (#1705) and ``DaemonSet`` is spelled right). Each of those fields is one the API server
refuses to update:

- every object: ``metadata.name`` and ``metadata.namespace`` name the object; another name is another
  object (``metadataForceNewProperties``).
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
- PersistentVolumeClaim (core/v1): ``spec.accessModes``, ``spec.selector``, ``spec.storageClassName``,
  ``spec.volumeName``.
- RoleBinding, ClusterRoleBinding: ``roleRef`` ("cannot change roleRef"); Service: ``spec.clusterIP``;
  Secret: ``type``; ResourceQuota: ``spec.scopes``; StorageClass: ``parameters``, ``provisioner``
  ("updates to parameters are forbidden", "updates to provisioner are forbidden").

An update the API server refuses and the provider does not replace is neither: `pulumi up` fails on it.
A claim's ``spec`` is immutable once bound except ``spec.resources.requests`` and
``spec.volumeAttributesClassName`` ("spec: Forbidden: spec is immutable after creation except
resources.requests and volumeAttributesClassName for bound claims"), so a change to any other field of its
spec that the table above does not list (``volumeMode``, ``dataSource``, ``resources.limits`` ...) is
refused; and pulumi-kubernetes updates ``spec.resources`` in place (pulumi-kubernetes#1665, fixed by #1705
so that a resize never deletes the volume), where a smaller storage request is refused
("spec.resources.requests.storage: Forbidden: field can not be less than previous value"; the
persistent-volumes concept page: "Kubernetes does not support shrinking a PVC to less than its current
size").

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
# Kubernetes kind (from the type token `kubernetes:<group>/<version>:<Kind>`) -> fields pulumi-kubernetes
# replaces the object for.
FORCE_NEW: dict[str, tuple[str, ...]] = {
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
    "core/v1:PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
    ),
    "rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
    "core/v1:Service": ("spec.clusterIP",),
    "core/v1:Secret": ("type",),
    "core/v1:ResourceQuota": ("spec.scopes",),
    "storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
}
# A bound claim's spec, except what may change on it: the API server refuses the rest.
_CLAIM_SPEC = "spec"
_CLAIM_MUTABLE = ("spec.resources.requests", "spec.volumeAttributesClassName")
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
    if not resource.custom:
        return Verdict(Replacement.UPDATE)  # a component has no state of its own to replace
    if not resource.type.startswith("kubernetes:") or resource.type in _NOT_OBJECTS:
        return Verdict(Replacement.UNKNOWN)
    kind = resource.type.removeprefix("kubernetes:")
    force_new = (*_METADATA, *FORCE_NEW.get(kind, ()))
    paths = [path for path, _, _ in changes if not path.startswith("options.")]
    # a changed path under a force-new field, or a whole force-new field replaced from above
    because = tuple(p for p in paths if any(_under(p, field) or _under(field, p) for field in force_new))
    if because:
        return Verdict(Replacement.REPLACE, because)
    return _refused(kind, changes) or Verdict(Replacement.UPDATE)


def _refused(kind: str, changes: Sequence[tuple[str, Any, Any]]) -> Verdict | None:
    """The update the API server refuses where the plan shows one: a claim's immutable spec, or a shrink."""
    if kind != _PVC:
        return None
    immutable = tuple(
        path
        for path, _, _ in changes
        if (_under(path, _CLAIM_SPEC) or _under(_CLAIM_SPEC, path))
        and not any(_under(path, allowed) for allowed in _CLAIM_MUTABLE)
    )
    if immutable:
        return Verdict(
            Replacement.REFUSED,
            immutable,
            "a bound claim's spec is immutable but for resources.requests and volumeAttributesClassName, and "
            "pulumi-kubernetes does not replace a claim for these fields; create a new claim instead",
        )
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
