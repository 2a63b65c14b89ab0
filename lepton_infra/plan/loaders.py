"""Read a saved plan into a ``Plan``: our plan JSON, ``pulumi preview --json``, ``pulumi stack export``,
or Kubernetes manifests (a YAML or JSON file, or a folder of them).

All of them carry resource inputs under the engine's camelCase names, so policies see one shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.plan.shapes import (
    MAX_DEPTH,
    PlanShapeError,
    check_depth,
    check_resource,
    expect_list,
    expect_object,
    kind_of,
)
from lepton_infra.policies.values import conceal_secrets


class PlanLoadError(ValueError):
    """The file is not a plan we can read; the message says why."""


def _resource(state: object, where: str) -> PlanResource:
    if isinstance(state, PlanResource):  # converted while streaming
        return state
    entry = expect_object(state, where)
    check_resource(entry, where)
    inputs = entry.get("inputs")
    if inputs.__class__ is dict:
        # A stack export keeps secrets as the engine's envelope: rules read them as unknown values.
        conceal_secrets(inputs)
    return PlanResource.from_json(entry)


def _streamed(state: Any, where: str) -> Any:
    """An entry as the stream meets it: converted, or kept as it is for its form's reader to refuse
    (an entry of a list that turns out not to be the plan's is never an error)."""
    try:
        return _resource(state, where)
    except PlanShapeError:
        return state


def _stack_of(urns: Iterable[str]) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    for urn in urns:
        return urn.split("::", 1)[0].removeprefix("urn:pulumi:")
    return ""


def _from_preview(data: Mapping[str, Any]) -> Plan:
    resources = []
    for index, step in enumerate(expect_list(data.get("steps"), "steps")):
        where = f"steps[{index}]"
        state = expect_object(step, where).get("newState")
        if state is not None:  # a deletion has no new state
            resources.append(_resource(state, f"{where}.newState"))
    return Plan(stack=_stack_of(r.urn for r in resources), resources=resources)


def _from_export(data: Mapping[str, Any]) -> Plan:
    deployment = expect_object(data.get("deployment"), "deployment")
    listed = expect_list(deployment.get("resources"), "deployment.resources")
    resources = [_resource(r, f"deployment.resources[{i}]") for i, r in enumerate(listed)]
    return Plan(stack=_stack_of(r.urn for r in resources), resources=resources)


def _from_plan(data: Mapping[str, Any]) -> Plan:
    listed = expect_list(data.get("resources"), "resources")
    resources = [_resource(r, f"resources[{i}]") for i, r in enumerate(listed)]
    stack = data.get("stack")
    if stack is not None and not isinstance(stack, str):
        raise PlanShapeError(f"stack is {kind_of(stack)}, not a string")
    root = data.get("sourceRoot")
    if root is not None and not isinstance(root, str):
        raise PlanShapeError(f"sourceRoot is {kind_of(root)}, not a directory")
    return Plan(
        stack=str(stack or _stack_of(r.urn for r in resources)), resources=resources, source_root=root
    )


_FORMS: tuple[tuple[str, Callable[[Mapping[str, Any]], Plan]], ...] = (
    ("steps", _from_preview),
    ("deployment", _from_export),
    ("resources", _from_plan),
)


def plan_from_json(data: Any) -> Plan:
    """The plan in ``data``, whichever of the three forms it has; every resource entry is checked."""
    if not isinstance(data, Mapping):
        raise PlanLoadError("expected a JSON object")
    read = next((r for key, r in _FORMS if key in data), None)
    if read is not None:
        try:
            return read(data)
        except PlanShapeError as e:
            raise PlanLoadError(str(e)) from None
    raise PlanLoadError(
        "not a plan: expected lepton-infra plan JSON (`resources`), `pulumi preview --json` (`steps`) "
        "or `pulumi stack export` (`deployment`)"
    )


def _read_whole(path: Path) -> Any:
    """The file parsed whole by Python's reader: for what the C parser refuses, with Python's message."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PlanLoadError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise PlanLoadError(f"{path} is not UTF-8 text") from e
    try:
        data = json.loads(text)
    except RecursionError:
        raise PlanLoadError(f"{path}: nested deeper than {MAX_DEPTH} levels; no Pulumi plan is") from None
    except ValueError as e:
        raise PlanLoadError(f"{path} is not JSON: {e}") from e
    try:
        check_depth(data)
    except PlanShapeError as e:
        raise PlanLoadError(f"{path}: {e}") from None
    return data


def load_plan(path: Path) -> Plan:
    """The plan in ``path``, streamed (see ``stream``) so that memory follows what the rules read."""
    from lepton_infra.plan.kubernetes_files import ManifestError, is_manifest_json, load_manifests
    from lepton_infra.plan.stream import stream_plan

    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        try:
            return load_manifests(path)
        except ManifestError as e:
            raise PlanLoadError(str(e)) from None
    try:
        data = stream_plan(path, _streamed)
    except OSError as e:
        raise PlanLoadError(f"cannot read {path}: {e.strerror or e}") from e
    except PlanShapeError as e:
        raise PlanLoadError(f"{path}: {e}") from None
    if data is None:
        data = _read_whole(path)
    if is_manifest_json(data):
        try:
            return load_manifests(path)
        except ManifestError as e:
            raise PlanLoadError(str(e)) from None
    try:
        return plan_from_json(data)
    except (PlanShapeError, PlanLoadError) as e:
        raise PlanLoadError(f"{path}: {e}") from None
