"""Reading resource inputs as the analyzer hands them over: nested mappings wrapped by pulumi_policy's
unknown-checking proxy. Reading an unknown value raises ``UnknownValueError``; the analyzer turns that
into an advisory "can't run during preview" note, so a rule never fails on a value the cloud computes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

__all__ = ["UnknownValueError", "as_list", "get", "is_set", "is_true", "policy_statements", "tags_of"]


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` below ``props``, or ``default`` where any step is missing."""
    node = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, Sequence) or isinstance(node, str) or step >= len(node):
                return default
        elif not isinstance(node, Mapping) or step not in node:
            return default
        node = node[step]
        if node is None:
            return default
    return node


def is_set(props: Any, *path: str) -> bool:
    """True when the value exists, counting a value the cloud will compute later as set."""
    try:
        return get(props, *path) not in (None, "", [], {})
    except UnknownValueError:
        return True


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def is_true(value: Any) -> bool:
    """Booleans arrive as bools from programs and sometimes as strings from other tools' JSON."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "enabled", "enable", "on", "yes")
    return value is True


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM / RAM policy document given as JSON text or as an object."""
    if document is None or document == "":
        return []
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(get(document, "Statement")) if isinstance(s, Mapping)]


def tags_of(props: Any, key: str = "tags") -> dict[str, Any]:
    tags = get(props, key)
    return dict(tags) if isinstance(tags, Mapping) else {}
