"""What every component's ``Args`` share: a bad input is refused the way Pulumi reports one.

Each ``...Args`` class checks itself when it is constructed (``__post_init__``, through :func:`refuse_args`):
first the type of every plain value it holds (:func:`type_problems`), then its own rules, which come from
the shared checks of :mod:`lepton_infra.validation`. Every problem found is raised at once, as
:class:`InvalidArgs`: a ``pulumi.InputPropertiesError`` whose errors name each bad property by its path in
the Args (``kubernetes_version``, ``taints[1].effect``), as the engine shows them when a component runs in a
multi-language package's ``Construct``. A component takes its Args whole, so nothing has been registered
when they are refused. ``InvalidArgs`` is also :class:`~lepton_infra.validation.InvalidInput` (a
``ValueError``) with the same problems, for callers that catch those.

What is only known once resources exist (an ``Output``, another resource's ID) is not checked here: the
cloud's API checks it then.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import pulumi

from lepton_infra.validation import InvalidInput, Problem, is_int, refuse, under


class InvalidArgs(pulumi.InputPropertiesError, InvalidInput):
    """Every problem of one Args object: Pulumi's error for bad input properties, each with its path."""

    def __init__(self, args_type: str, problems: Sequence[str | Problem]) -> None:
        # pulumi's __init__ would hand its message to the next class of the MRO, InvalidInput, as problems:
        # set what it sets (message, errors, the exception's args) here instead.
        InvalidInput.__init__(self, problems)
        self.args_type = args_type
        self.message = f"invalid {args_type}: " + "; ".join(str(p) for p in self.problems)
        self.errors: list[pulumi.InputPropertyErrorDetails] = [
            {"property_path": p.path, "reason": p.message} for p in self.problems
        ]
        self.args = (self.message,)


def refuse_args(args: object, problems: Iterable[Problem] = ()) -> None:
    """Raise :class:`InvalidArgs` naming every wrongly typed field of ``args`` and every one of ``problems``
    (the Args' own rules, which skip values of the wrong type), if there is any."""
    refuse(
        [*type_problems(args), *problems],
        lambda found: InvalidArgs(type(args).__name__, found),
    )


class Checked(Protocol):
    """A nested input (a taint, an interface) that knows its own problems, paths relative to itself."""

    def problems(self) -> list[Problem]: ...


def nested(path: str, values: object, kind: type[Checked]) -> list[Problem]:
    """The problems of each ``kind`` in the list at ``path``, at its index (``taints[1].effect``); items of
    another type are :func:`type_problems`'s to name."""
    if not isinstance(values, list | tuple):
        return []
    return [
        p for i, v in enumerate(values) if isinstance(v, kind) for p in under(f"{path}[{i}]", v.problems())
    ]


def type_problems(args: object, prefix: str = "") -> list[Problem]:
    """Each field of the dataclass ``args`` whose plain value is not of its annotated type.

    Plain data only: strings, numbers, booleans, enums, lists and maps of them, and dataclasses made of them
    (checked field by field). Live objects (resources, providers, ``Output``, callables) are left alone: a
    value that is an ``Output`` or an awaitable may stand for anything its annotation allows.
    """
    hints = _hints(type(args))
    problems = []
    for item in dataclasses.fields(args):  # type: ignore[arg-type]
        if item.name in hints:
            path = f"{prefix}.{item.name}" if prefix else item.name
            problems += _conforms(getattr(args, item.name), hints[item.name], path)
    return problems


def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s annotations resolved, once per class (callers only read them): every component checks its
    args as it is built, and resolving string annotations evaluates each field's every time."""
    if cls not in _RESOLVED:
        _RESOLVED[cls] = _resolve(cls)
    return _RESOLVED[cls]


_RESOLVED: dict[type, dict[str, Any]] = {}


def _resolve(cls: type) -> dict[str, Any]:
    try:
        # ``pulumi.Input[T]`` names ``Output[T]`` in a string: resolve it with pulumi's own names.
        return typing.get_type_hints(cls, localns=PULUMI_NAMES)
    except (NameError, TypeError):  # an annotation only a type checker resolves: nothing to check against
        return {}


PULUMI_NAMES = {
    name: getattr(pulumi.output, name) for name in ("Output", "Input", "T") if hasattr(pulumi.output, name)
}
_SEQUENCES = {collections.abc.Sequence, list, tuple}
_MAPPINGS = {collections.abc.Mapping, dict}
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "None"}


def _conforms(value: Any, hint: Any, path: str) -> list[Problem]:
    if isinstance(value, pulumi.Output | collections.abc.Awaitable):
        return []  # known once resources exist: the engine checks it against the resource's schema
    expected = _describe(hint)
    if expected is None:
        return []
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if not _live(m)]
        if any(not _conforms(value, m, path) for m in members):
            return []
        # A list given for a list type, wrong inside: name what is wrong there, not the union.
        shaped = [m for m in members if _same_shape(value, m)]
        return _conforms(value, shaped[0], path) if shaped else [_wrong(path, expected, value)]
    if origin in _SEQUENCES:
        if not isinstance(value, list | tuple):
            return [_wrong(path, expected, value)]
        item_hint = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        return [p for i, item in enumerate(value) for p in _conforms(item, item_hint, f"{path}[{i}]")]
    if origin in _MAPPINGS:
        if not isinstance(value, collections.abc.Mapping):
            return [_wrong(path, expected, value)]
        key_hint, value_hint = typing.get_args(hint) or (Any, Any)
        problems = []
        for key, item in value.items():
            problems += _conforms(key, key_hint, f"{path}[{json.dumps(str(key))}]")
            problems += _conforms(item, value_hint, _key_path(path, key))
        return problems
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):  # type: ignore[arg-type]
            return [_wrong(path, expected, value)]
        return type_problems(value, path)
    if hint is int:
        return [] if is_int(value) else [_wrong(path, expected, value)]
    if hint is float:
        return [] if is_int(value) or isinstance(value, float) else [_wrong(path, expected, value)]
    return [] if isinstance(value, hint) else [_wrong(path, expected, value)]


def _live(hint: Any) -> bool:
    """``Output[T]`` or ``Awaitable[T]``: what ``pulumi.Input[T]`` adds to ``T``."""
    return (typing.get_origin(hint) or hint) in (pulumi.Output, collections.abc.Awaitable)


def _same_shape(value: Any, hint: Any) -> bool:
    """Whether ``value`` has the outer shape of ``hint``: a list for a list type, a map for a map type."""
    origin = typing.get_origin(hint)
    if origin in _SEQUENCES:
        return isinstance(value, list | tuple)
    if origin in _MAPPINGS:
        return isinstance(value, collections.abc.Mapping)
    return dataclasses.is_dataclass(hint) and isinstance(value, hint)  # type: ignore[arg-type]


def _describe(hint: Any) -> str | None:
    """What a plain value of ``hint`` is, in words; None for what is not plain data (left unchecked)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        # Plain data only if every member but the live ones is: ``pulumi.Resource | None`` is not.
        described = [_describe(m) for m in typing.get_args(hint) if not _live(m)]
        if not described or None in described:
            return None
        return " or ".join(dict.fromkeys(d for d in described if d is not None))
    if origin in _SEQUENCES:
        args = typing.get_args(hint)
        item = _describe(args[0]) if args else None
        return f"a list of {_plural(item)}" if item else None
    if origin in _MAPPINGS:
        args = typing.get_args(hint)
        item = _describe(args[1]) if len(args) == 2 else None
        return f"a map of {_plural(item)}" if item else None
    if hint in _NAMES:
        return _NAMES[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"a {hint.__name__} ({', '.join(str(m.value) for m in hint)})"
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return f"a {hint.__name__}"
    return None


def _plural(item: str) -> str:
    return re.sub(r"^an? (\w+)", lambda m: m[1] + ("" if m[1].endswith("s") else "s"), item, count=1)


def _key_path(path: str, key: object) -> str:
    """A map entry's path as Pulumi writes property paths: ``tags.team``, or ``tags["kubernetes.io/x"]``."""
    return (
        f"{path}.{key}"
        if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][\w-]*", key)
        else f"{path}[{json.dumps(key)}]"
    )


def _wrong(path: str, expected: str, value: Any) -> Problem:
    return Problem(path, f"must be {expected}, not {type(value).__name__} {value!r}")
