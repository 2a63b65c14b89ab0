"""A site's facts as stack outputs and back: what a cloud layer exports and a Kubernetes layer reads.

The facts are plain dataclasses (``handle.ClusterFacts`` and what it holds), so one generic walk turns them
into the JSON-shaped data ``pulumi.export`` takes (outputs inside resolve when the stack registers its
outputs) and rebuilds them from the data a stack reference returns, field by field from their annotations.
A field added to the facts with a default travels without a change here. The kubeconfig travels apart, as
a secret output of its own; nothing else in the facts may be a secret (it would make the whole output one).
Numbers come back from the engine as floats: typed fields get their ints back, and whole floats inside
free-form values (chart values, custom objects) become ints again, as the JSON they were written as.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

import pulumi

from lepton_infra.components.handle import ClusterFacts

# Raised each time what the facts are made of changes in a way an older reader cannot follow.
FACTS_FORMAT = 1
# Field the kubeconfig travels in, apart (a secret stack output of its own).
KUBECONFIG_FIELD = "kubeconfig"

T = TypeVar("T")


def facts_data(facts: ClusterFacts) -> dict[str, Any]:
    """``facts`` as JSON-shaped data, outputs left in place, without the kubeconfig."""
    data = to_data(facts)
    data.pop(KUBECONFIG_FIELD)
    return typing.cast(dict[str, Any], data)


def facts_from_data(data: Mapping[str, Any], kubeconfig: pulumi.Output[str]) -> ClusterFacts:
    """The facts :func:`facts_data` wrote, with the kubeconfig read apart."""
    return from_data(ClusterFacts, {**data, KUBECONFIG_FIELD: kubeconfig})


def to_data(value: Any) -> Any:
    """Dataclasses as dicts of their fields, enums as their values, tuples as lists; outputs as they are."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    return value


def from_data(annotation: type[T], data: Any) -> T:
    """``data`` read as ``annotation`` (a dataclass, or anything :func:`to_data` writes)."""
    return typing.cast(T, _read(annotation, data))


def _read(annotation: Any, data: Any) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return whole_numbers(data)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if data is None:
            return None
        # pulumi.Input[X] is X | Awaitable[X] | Output[X]: read as X.
        return _read(options[0], data)
    if annotation is pulumi.Output or origin is pulumi.Output:
        return data if isinstance(data, pulumi.Output) else pulumi.Output.from_input(data)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        hints = _hints(annotation)
        known = {f.name for f in dataclasses.fields(annotation) if f.init}
        return annotation(**{k: _read(hints[k], v) for k, v in data.items() if k in known})
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(data)
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return tuple(_read(item, v) for v in data)
    if origin in (Mapping, dict):
        value_type = typing.get_args(annotation)[1]
        return {k: _read(value_type, v) for k, v in data.items()}
    if annotation is int and isinstance(data, float):
        return int(data)
    return data


@cache
def _hints(cls: type) -> dict[str, Any]:
    # pulumi.Input[T] holds the string "Output[T]", which only the SDK's module resolves: resolve it here.
    return typing.get_type_hints(cls, localns={"Output": pulumi.Output, "T": Any})


def whole_numbers(value: Any) -> Any:
    """``value`` with every whole float an int again (the engine carries every number as a float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [whole_numbers(v) for v in value]
    return value
