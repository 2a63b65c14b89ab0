"""What the entries of a saved plan must look like before any policy reads them.

``lepton-infra check`` judges files that anyone can write. A file whose shape it does not understand is
refused with one line naming where (``resources[3].inputs is a list, not an object``), never skipped:
skipping a resource it could not read would print "No policy violations." for a plan it never judged
(an adversarial pass found ``{"resources": "abc"}``, resource entries that are numbers and steps whose
``newState`` is a string all passing with exit 0). Values inside ``inputs`` stay free-form: the rules
judge those, and say so when a value has a shape they cannot read.

The field types are those of the engine's resource state (``apitype.ResourceV3`` in
pulumi/sdk/go/common/apitype/core.go), which our plan JSON, ``pulumi preview --json``'s ``newState`` and
``pulumi stack export`` all follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# A real plan nests 13 objects and lists deep (a Kubernetes object in a resource's inputs); a CRD's
# schema may nest a few dozen. Deeper is refused before any rule walks it: Python's own JSON reader
# stops near 1,000 levels with a RecursionError, and a rule that recursed would stop the same way.
MAX_DEPTH = 100


class PlanShapeError(ValueError):
    """A saved plan's entry has a shape no Pulumi engine writes; the message names where."""


def kind_of(value: object) -> str:
    """How an error names the JSON type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return type(value).__name__


def expect_object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PlanShapeError(f"{where} is {kind_of(value)}, not an object")
    return value


def expect_list(value: object, where: str, *, optional: bool = True) -> Sequence[Any]:
    """``value`` as a list; null or absent is an empty list where ``optional`` (as the engine omits it)."""
    if value is None and optional:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise PlanShapeError(f"{where} is {kind_of(value)}, not a list")
    return value


def _optional(state: Mapping[str, Any], key: str, kind: type, what: str, where: str) -> None:
    value = state.get(key)
    if value is not None and not isinstance(value, kind):
        raise PlanShapeError(f"{where}.{key} is {kind_of(value)}, not {what}")


def _strings(value: object, where: str) -> None:
    for index, item in enumerate(expect_list(value, where)):
        if not isinstance(item, str):
            raise PlanShapeError(f"{where}[{index}] is {kind_of(item)}, not a URN")


def _urn(value: object, where: str) -> None:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name> (pulumi/sdk/go/common/resource/urn.go)
    if not isinstance(value, str) or not value.startswith("urn:pulumi:") or value.count("::") < 3:
        shown = "missing" if value is None else repr(value)[:80]
        raise PlanShapeError(
            f"{where}.urn is {shown}, not a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)"
        )


def check_resource(state: Mapping[str, Any], where: str) -> None:
    """Refuse a resource state whose engine fields are missing or of the wrong type."""
    _urn(state.get("urn"), where)
    resource_type = state.get("type")
    if not isinstance(resource_type, str) or not resource_type:
        raise PlanShapeError(f"{where}.type is {kind_of(resource_type)}, not a resource type token")
    for key in ("inputs", "outputs", "options"):
        _optional(state, key, Mapping, "an object", where)
    for key in ("custom", "protect"):
        _optional(state, key, bool, "true or false", where)
    for key in ("name", "parent", "provider"):
        _optional(state, key, str, "a string", where)
    _strings(state.get("dependencies"), f"{where}.dependencies")
    dependencies = state.get("propertyDependencies")
    if dependencies is not None:
        for key, urns in expect_object(dependencies, f"{where}.propertyDependencies").items():
            _strings(urns, f"{where}.propertyDependencies.{key}")
    if state.get("source") is not None:
        _program_line(expect_object(state["source"], f"{where}.source"), f"{where}.source")


def _program_line(source: Mapping[str, Any], where: str) -> None:
    """Our plan's ``source``: a file relative to the project and a line; a report prints both as given."""
    file, line = source.get("file"), source.get("line")
    if not isinstance(file, str) or not file:
        shown = "empty" if file == "" else kind_of(file)
        raise PlanShapeError(f"{where}.file is {shown}, not a file name")
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise PlanShapeError(f"{where}.line is {line!r}, not a line number (1 or more)")


def check_depth(data: object) -> None:
    """Refuse objects and lists nested deeper than ``MAX_DEPTH`` (walked without recursion)."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (Mapping, list)) and depth > MAX_DEPTH:
            raise PlanShapeError(f"nested deeper than {MAX_DEPTH} levels; no Pulumi plan is")
        if isinstance(value, Mapping):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
