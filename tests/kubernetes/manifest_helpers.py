"""The Kubernetes objects of an offline plan, as plain manifests, with lookups tests share."""

from __future__ import annotations

from typing import Any

from lepton_infra.plan.manifests import kubernetes_object
from lepton_infra.plan.model import Plan

Obj = dict[str, Any]


class Manifests:
    """The Kubernetes objects a plan would apply, with lookups by kind and name."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.objects: list[Obj] = [o for r in plan.resources if (o := kubernetes_object(r)) is not None]

    def all(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> Obj:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
        return found[0]


def pod_spec(obj: Obj) -> Obj:
    spec: Obj = obj["spec"]["template"]["spec"]
    return spec


def main_container(obj: Obj) -> Obj:
    containers: list[Obj] = pod_spec(obj)["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}
