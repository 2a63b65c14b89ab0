"""Booleans and numbers as the stack file must write them: ``spot: true``, never ``spot: "yes"``.

pydantic's lax mode reads ``spot: "yes"`` as true and ``max_nodes: "4"`` as 4, while the JSON Schema an
editor checks the file against (``lepton-infra schema``) says boolean and integer, and refuses them. The
spec refuses them too, naming the field, so an editor and ``lepton-infra validate`` never disagree. A YAML
integer stays acceptable where a number is expected, and an integral float such as ``4.0`` where an
integer is (JSON Schema counts it as an integer; pydantic refuses ``4.5`` with its own message).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

# The error type of a scalar written with the wrong YAML type.
SCALAR_TYPE_ERROR = "yaml_scalar_type"

_WANTED = {bool: "a boolean (true or false)", int: "an integer", float: "a number"}


def scalar_problem(annotation: Any, value: Any) -> str | None:
    """Why ``value`` is not the boolean or number ``annotation`` asks for (None: it is, or the field is
    not a boolean or number field). Tuples and lists of them are checked item by item."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [_unwrap(m) for m in typing.get_args(annotation)]
        if value is None and type(None) in members:
            return None
        scalars = [m for m in members if m is not type(None)]
        return scalar_problem(scalars[0], value) if len(scalars) == 1 else None
    if origin in (tuple, list) and isinstance(value, list | tuple):
        item_types = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(item_types) != 1:
            return None
        for index, item in enumerate(value):
            if problem := scalar_problem(item_types[0], item):
                return f"item {index}: {problem}"
        return None
    if annotation not in _WANTED or _fits(annotation, value):
        return None
    hint = "; write it without quotes" if isinstance(value, str) and _reads_as(annotation, value) else ""
    return f"expected {_WANTED[annotation]}, got {_describe(value)}{hint}"


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _fits(wanted: type, value: Any) -> bool:
    if wanted is bool:
        return isinstance(value, bool)
    # bool is an int subclass: `max_nodes: true` is not a count.
    if isinstance(value, bool):
        return False
    if wanted is int:
        return isinstance(value, int | float)  # a fractional float is pydantic's to refuse
    return isinstance(value, int | float)


def _reads_as(wanted: type, text: str) -> bool:
    """Whether the quoted ``text`` would be the wanted type without its quotes."""
    if wanted is bool:
        return text in ("true", "false")
    try:
        (int if wanted is int else float)(text)
    except ValueError:
        return False
    return True


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"
