"""Objects in API versions Kubernetes has removed: the apply fails on every cluster this platform runs.

The table is the Kubernetes deprecation guide's
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/, read 2026-12-06): each removed
``group/version`` of a kind, the release that removed it, and the version to use instead. Every cluster
version the platform supports (1.30 and newer) is past all of these removals.
"""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.kubernetes.pods import kind_of
from lepton_infra.policies.rule import Outcome, Subject, resource_policy
from lepton_infra.policies.settings import PolicySettings

_APPS = ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
_RBAC = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
# (group/version, kind or None for every kind of it) -> (removed in, use instead)
REMOVED: dict[tuple[str, str | None], tuple[str, str]] = {
    **{("extensions/v1beta1", k): ("1.16", "apps/v1") for k in ("Deployment", "DaemonSet", "ReplicaSet")},
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "Pod Security Admission"),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("apps/v1beta1", None): ("1.16", "apps/v1"),
    ("apps/v1beta2", None): ("1.16", "apps/v1"),
    ("batch/v2alpha1", None): ("1.21", "batch/v1"),
    ("admissionregistration.k8s.io/v1beta1", None): ("1.22", "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", None): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", None): ("1.22", "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", None): ("1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", None): ("1.22", "coordination.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", None): ("1.22", "networking.k8s.io/v1"),
    **{("rbac.authorization.k8s.io/v1beta1", k): ("1.22", "rbac.authorization.k8s.io/v1") for k in _RBAC},
    **{("rbac.authorization.k8s.io/v1alpha1", k): ("1.22", "rbac.authorization.k8s.io/v1") for k in _RBAC},
    ("scheduling.k8s.io/v1beta1", None): ("1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", None): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", None): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", None): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", "Pod Security Admission"),
    ("node.k8s.io/v1beta1", None): ("1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", None): ("1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", None): ("1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", None): ("1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", None): ("1.32", "flowcontrol.apiserver.k8s.io/v1"),
}


def removal(resource_type: str) -> tuple[str, str, str, str] | None:
    """(apiVersion, kind, removed in, replacement) when the type is of a removed API version."""
    kind = kind_of(resource_type)
    if kind is None:
        return None
    found = REMOVED.get((kind.api_version, kind.kind)) or REMOVED.get((kind.api_version, None))
    return (kind.api_version, kind.kind, *found) if found else None


@resource_policy(
    name="kubernetes-api-version-not-removed",
    types=lambda t: removal(t) is not None,
    severity="high",
    description="Objects must use API versions the supported Kubernetes releases still serve.",
    remediation="Move the object to the API version the message names (`kubectl convert` helps).",
)
def api_version_not_removed(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    found = removal(r.type)
    if found is not None:
        api_version, kind, release, replacement = found
        yield f"{api_version} {kind} was removed in Kubernetes {release}; use {replacement}"


POLICIES = (api_version_not_removed,)
