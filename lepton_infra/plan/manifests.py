"""Kubernetes objects of a plan as plain YAML: what ``lepton-infra plan --manifests DIR`` writes.

One file per Kubernetes provider (that is, per site), one object per document, in an order ``kubectl apply``
accepts (namespaces first, custom resources last). Helm releases are not Kubernetes objects (Helm renders
them at deploy time) and are left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lepton_infra.plan.model import Plan, PlanResource

# `kubernetes:<group>/<version>:<Kind>`; the core group is spelled `core/v1` in tokens and `v1` in objects.
# Kinds may hold digits (Karpenter's EC2NodeClass).
_TOKEN = re.compile(r"^kubernetes:(?P<api>[^:]+/[^:]+):(?P<kind>[A-Za-z][A-Za-z0-9]*)$")
_NOT_OBJECTS = frozenset({"kubernetes:helm.sh/v3:Release"})
_APPLY_ORDER = (
    "Namespace",
    "ServiceAccount",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "Job",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
)
DEFAULT_GROUP = "default"


def kubernetes_object(resource: PlanResource) -> dict[str, Any] | None:
    """The object ``resource`` would apply, or None when it is no Kubernetes object."""
    match = _TOKEN.match(resource.type)
    if not resource.custom or match is None or resource.type in _NOT_OBJECTS:
        return None
    api = match["api"].removeprefix("core/")
    # Inputs are plain JSON already: the recorder wrote whole floats (all numbers, on the wire) back as ints.
    body = {k: v for k, v in resource.inputs.items() if k not in {"apiVersion", "kind"}}
    return {"apiVersion": api, "kind": match["kind"], **body}


def manifests_by_group(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Objects per provider name (one provider per site), each list in apply order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for resource in plan.resources:
        obj = kubernetes_object(resource)
        if obj is not None:
            groups.setdefault(_provider_name(resource.provider), []).append(obj)
    return {group: sorted(objects, key=_apply_key) for group, objects in sorted(groups.items())}


def header(plan: Plan, group: str) -> str:
    """The comment each file starts with: where it came from, and that its cloud values are not real."""
    return (
        f"# Kubernetes objects of provider {group!r} in the offline plan of stack {plan.stack!r}\n"
        "# (`lepton-infra plan --manifests`). IDs, ARNs, endpoints, account and subscription numbers in\n"
        "# them come from the offline plan (Pulumi mocks), not from the cloud: `pulumi up` resolves the\n"
        "# real ones.\n"
    )


def write_manifests(plan: Plan, directory: Path) -> list[Path]:
    """Write ``<directory>/<provider>.yaml`` for each site's Kubernetes provider; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for group, objects in manifests_by_group(plan).items():
        path = directory / f"{group}.yaml"
        body = yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)
        path.write_text(header(plan, group) + body, encoding="utf-8")
        written.append(path)
    return written


def _provider_name(reference: str | None) -> str:
    # A provider reference is "<provider URN>::<id>"; the URN ends in "::<name>".
    if not reference:
        return DEFAULT_GROUP
    parts = reference.split("::")
    return parts[-2] if len(parts) >= 2 else DEFAULT_GROUP


def _apply_key(obj: dict[str, Any]) -> tuple[int, str, str]:
    kind = obj["kind"]
    rank = _APPLY_ORDER.index(kind) if kind in _APPLY_ORDER else len(_APPLY_ORDER)
    metadata = obj.get("metadata") or {}
    return rank, str(metadata.get("namespace", "")), str(metadata.get("name", ""))
