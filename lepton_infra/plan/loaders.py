"""Read a saved plan into a ``Plan``: our plan JSON, ``pulumi preview --json``, ``pulumi stack export``,
or Kubernetes manifests (a YAML or JSON file, or a folder of them).

All of them carry resource inputs under the engine's camelCase names, so policies see one shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lepton_infra.plan.model import Plan, PlanResource


class PlanLoadError(ValueError):
    """The file is not a plan we can read; the message says why."""


def _resource(state: Mapping[str, Any]) -> PlanResource:
    if not isinstance(state.get("urn"), str) or not isinstance(state.get("type"), str):
        raise PlanLoadError("a resource has no `urn` or `type`")
    return PlanResource.from_json(dict(state))


def _stack_of(urns: Iterable[str]) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    for urn in urns:
        return urn.split("::", 1)[0].removeprefix("urn:pulumi:")
    return ""


def _from_preview(data: Mapping[str, Any]) -> Plan:
    states = [
        s["newState"]
        for s in data.get("steps") or []
        if isinstance(s, Mapping) and isinstance(s.get("newState"), Mapping)
    ]
    resources = [_resource(s) for s in states]
    return Plan(stack=_stack_of(r.urn for r in resources), resources=resources)


def _from_export(data: Mapping[str, Any]) -> Plan:
    deployment = data.get("deployment")
    if not isinstance(deployment, Mapping):
        raise PlanLoadError("`deployment` is not an object")
    resources = [_resource(r) for r in deployment.get("resources") or [] if isinstance(r, Mapping)]
    return Plan(stack=_stack_of(r.urn for r in resources), resources=resources)


def _from_plan(data: Mapping[str, Any]) -> Plan:
    resources = [_resource(r) for r in data.get("resources") or [] if isinstance(r, Mapping)]
    return Plan(stack=str(data.get("stack") or _stack_of(r.urn for r in resources)), resources=resources)


def plan_from_json(data: Any) -> Plan:
    if not isinstance(data, Mapping):
        raise PlanLoadError("expected a JSON object")
    if "steps" in data:
        return _from_preview(data)
    if "deployment" in data:
        return _from_export(data)
    if "resources" in data:
        return _from_plan(data)
    raise PlanLoadError(
        "not a plan: expected lepton-infra plan JSON (`resources`), `pulumi preview --json` (`steps`) "
        "or `pulumi stack export` (`deployment`)"
    )


def load_plan(path: Path) -> Plan:
    from lepton_infra.plan.kubernetes_files import ManifestError, is_manifest_json, load_manifests

    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        try:
            return load_manifests(path)
        except ManifestError as e:
            raise PlanLoadError(str(e)) from None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PlanLoadError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise PlanLoadError(f"{path} is not UTF-8 text") from e
    try:
        data = json.loads(text)
    except ValueError as e:
        raise PlanLoadError(f"{path} is not JSON: {e}") from e
    if is_manifest_json(data):
        try:
            return load_manifests(path)
        except ManifestError as e:
            raise PlanLoadError(str(e)) from None
    try:
        return plan_from_json(data)
    except (KeyError, TypeError, AttributeError) as e:
        raise PlanLoadError(f"{path}: malformed resource entry ({e})") from e
