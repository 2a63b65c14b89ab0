"""Turn pydantic's errors into messages a user can act on: file, line, field path, what is allowed."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from lepton_infra.blueprint.platform import CROSS_FIELD_ERROR

# The shared error type lives in a module every layer may import; re-exported for the spec's callers.
from lepton_infra.errors import ConfigError, ConfigIssue, PathPart, format_path, parse_path

__all__ = ["ConfigError", "ConfigIssue", "PathPart", "format_path", "issues_from_validation", "parse_path"]


def issues_from_validation(
    error: ValidationError, model: type[BaseModel], data: Any, root: str
) -> list[tuple[list[PathPart], str]]:
    """(path parts into ``data``, message) for each error, with union tags dropped from the path."""
    found: list[tuple[list[PathPart], str]] = []
    details = error.errors()
    for detail in details:
        loc = list(detail["loc"])
        if detail["type"] == "too_short" and _has_errors_below(loc, details):
            continue  # a list emptied by its own items' errors; those errors say what is wrong
        parts = _data_path(loc, data)
        if detail["type"] == CROSS_FIELD_ERROR:
            for path, message in detail.get("ctx", {}).get("issues", []):
                found.append(([root, *parts, *parse_path(path)], message))
            continue
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            if allowed:
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}"
        elif detail["type"] == "missing":
            message = "required field is missing"
        elif detail["type"] == "value_error":
            message = message.removeprefix("Value error, ")  # our validators' own sentences
        found.append(([root, *parts], message))
    return found


def _has_errors_below(loc: list[PathPart], details: list[Any]) -> bool:
    return any(len(d["loc"]) > len(loc) and list(d["loc"][: len(loc)]) == loc for d in details)


def _data_path(loc: list[PathPart], data: Any) -> list[PathPart]:
    """Follow ``loc`` through the user's data, skipping the parts pydantic adds for tagged unions."""
    parts: list[PathPart] = []
    current = data
    for part in loc:
        if isinstance(part, int):
            parts.append(part)
            current = current[part] if isinstance(current, list | tuple) and part < len(current) else None
        elif isinstance(current, dict) and part in current:
            parts.append(part)
            current = current[part]
        elif isinstance(current, dict) and part in {current.get("cloud"), current.get("kind")}:
            continue  # the discriminator's value, not a key the user wrote
        elif "[" in part or "(" in part:
            continue  # a validator's name, e.g. function-after[...]
        else:
            parts.append(part)
            current = None
    return parts


def _allowed_keys(model: type[BaseModel], loc: list[PathPart]) -> list[str]:
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_tagged(model: Any, part: str) -> bool:
    """Whether ``part`` is the discriminator value (``cloud`` or ``kind``) of ``model``."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    fields = (model.model_fields.get(name) for name in ("cloud", "kind"))
    return any(field is not None and part in typing.get_args(field.annotation) for field in fields)


def _step(annotation: Any, part: PathPart) -> Any:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(part, int):
        return typing.get_args(annotation)[0] if origin in (tuple, list) else None
    if origin in (Union, types.UnionType):
        return next((m for m in map(_unwrap, typing.get_args(annotation)) if _is_tagged(m, part)), None)
    if _is_tagged(annotation, part):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and part in annotation.model_fields:
        return annotation.model_fields[part].annotation
    return None
