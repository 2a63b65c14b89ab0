"""What a package component does with its inputs before it builds anything: check them, name what is wrong.

Over gRPC, ``Construct`` hands the provider dicts keyed by the schema's names (the SDK maps them to Python's
before a component runs), every number as a float, Outputs where a value carries dependencies or is secret,
and checks nothing beyond the presence of required inputs. :func:`checked` holds each value to the TypedDict
that declares it (the same declaration the schema is inferred from), so a wrong value fails with the
property's schema path instead of a traceback from deep inside a cloud SDK. :func:`refusing` and
:func:`validated` turn the checks our own Args (``InvalidInput``, ``ValueError``) and specs (pydantic) make
into Pulumi's ``InputPropertiesError``, which the engine reports against each property: every problem at once,
never only the first.
"""

from __future__ import annotations

import collections.abc
import inspect
import ipaddress
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Any, NotRequired, Required, TypeVar, Union, get_args, get_origin

import pulumi
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, ValidationError

from lepton_infra.blueprint.errors import issues_from_validation
from lepton_infra.errors import PathPart, format_path, parse_path
from lepton_infra.validation import InvalidInput, at, dns_label, node_range, not_a_cidr, refuse
from lepton_infra.validation import Problem as FieldProblem

Model = TypeVar("Model", bound=BaseModel)
Problem = tuple[Sequence[PathPart], str]

PLAIN_ONLY = "must be known when the program runs: a literal or config value, not another resource's output"


class MapKey(str):
    """A key of a map input, as the program wrote it (an environment variable, a label): a part of a path the
    schema does not respell, unlike a property's name."""


def schema_path(parts: Sequence[PathPart]) -> str:
    """A path of Python names as the schema spells it: ``gpu_pools[0].x_y`` -> ``gpuPools[0].xY``; a
    ``MapKey`` stays as written (``env.CHECKPOINT_DIR``)."""
    return format_path(
        [camel_case(p) if isinstance(p, str) and not isinstance(p, MapKey) else p for p in parts]
    )


def invalid(problems: Sequence[Problem], *, schema_names: bool = True) -> pulumi.InputPropertiesError:
    """One error naming each problem's property; ``schema_names=False`` keeps paths as given (raw data)."""
    spell = schema_path if schema_names else format_path
    details: list[pulumi.InputPropertyErrorDetails] = [
        {"property_path": spell(path), "reason": message} for path, message in problems
    ]
    summary = "; ".join(
        f"{d['property_path']}: {d['reason']}" if d["property_path"] else d["reason"] for d in details
    )
    return pulumi.InputPropertiesError(f"invalid inputs: {summary}", details)


@contextmanager
def refusing(prefix: Sequence[PathPart] = (), fields: Iterable[str] = ()) -> Iterator[None]:
    """Raise what our Args refuse on construction as ``InputPropertiesError``, under ``prefix``.

    ``InvalidInput`` names the field it blames. A plain ``ValueError`` names it only in its sentence, which
    our Args begin with the field's name where they blame one: such a sentence is reported against that one of
    ``fields``, any other against ``prefix`` (the component's inputs as a whole when empty)."""
    try:
        yield
    except InvalidInput as error:
        raise invalid([([*prefix, *parse_path(p.path)], p.message) for p in error.problems]) from None
    except ValidationError:
        raise  # pydantic's, with its own paths: ``validated`` reports those
    except ValueError as error:
        message = str(error)
        blamed = [f for f in fields if re.match(rf"{re.escape(f)}\b", message)]
        raise invalid([([*prefix, *blamed[:1]], message)]) from None


def validated(
    model: type[Model], data: Mapping[str, Any], prefix: Sequence[PathPart], *, schema_names: bool = True
) -> Model:
    """``data`` as ``model``, or ``InputPropertiesError`` with each problem at its path under ``prefix``.

    ``schema_names=False`` where ``data`` is a raw object whose keys the user wrote as the spec names them."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        found = issues_from_validation(error, model, data, "")
        if not schema_names:
            problems = [([*prefix, *parts[1:]], message) for parts, message in found]
            raise invalid(problems, schema_names=False) from None
        spelled = [([*prefix, *_spec_path(model, parts[1:])], _schema_message(m)) for parts, m in found]
        raise invalid(spelled) from None


def _spec_path(model: type[BaseModel], parts: Sequence[PathPart]) -> list[PathPart]:
    """``parts`` of a path into ``model``'s data, each key of a map marked a ``MapKey``: the fields of a
    model (of any member of a union) are the schema's properties, anything else is a key the program wrote."""
    current: Any = model
    marked: list[PathPart] = []
    for part in parts:
        fields = _model_fields(current)
        if isinstance(part, str) and part in fields:
            marked.append(part)
            current = fields[part]
        else:
            marked.append(MapKey(part) if isinstance(part, str) else part)
            current = _item_type(current)
    return marked


def _members(annotation: Any) -> list[Any]:
    """The types an annotation admits, Annotated and Optional unwrapped."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg) if m is not type(None)]
    return [annotation]


def _model_fields(annotation: Any) -> dict[str, Any]:
    return {
        name: field.annotation
        for member in _members(annotation)
        if isinstance(member, type) and issubclass(member, BaseModel)
        for name, field in member.model_fields.items()
    }


def _item_type(annotation: Any) -> Any:
    """What a map's values or a sequence's items are, or None."""
    for member in _members(annotation):
        origin, args = get_origin(member), get_args(member)
        if origin in (dict, collections.abc.Mapping) and len(args) == 2:
            return args[1]
        if origin in (tuple, list, collections.abc.Sequence) and args:
            return args[0]
    return None


# The spec names the keys an object allows as its models spell them (snake_case); the schema's are camelCase.
_UNKNOWN_KEY = re.compile(
    r"unknown key(?: \(did you mean '(?P<close>\w+)'\?\))?; allowed: (?P<allowed>[\w, ]+)"
)


def _schema_message(message: str) -> str:
    """A message of the spec as the schema spells the properties it names."""
    found = _UNKNOWN_KEY.fullmatch(message)
    if found is None:
        return message
    hint = f" (did you mean {camel_case(found['close'])!r}?)" if found["close"] else ""
    allowed = ", ".join(camel_case(name) for name in found["allowed"].split(", "))
    return f"unknown key{hint}; allowed: {allowed}"


def require_cidrs(values: Mapping[str, Any], *fields: str, path: str = "") -> None:
    """Refuse (``InvalidInput``) each of ``fields`` given but not a network in CIDR notation.

    Our components compute subnets from these; without this check a typo fails inside ``ipaddress``."""
    bad = []
    for field in fields:
        if field in values:
            try:
                ipaddress.ip_network(values[field])
            except ValueError:
                bad.append(FieldProblem(_join(path, field), not_a_cidr(values[field])))
    refuse(bad)


def require_choice(values: Mapping[str, Any], field: str, allowed: Iterable[str], *, path: str = "") -> None:
    """Refuse (``InvalidInput``) ``field`` when given and not one of ``allowed``."""
    choices = sorted(allowed)
    if field in values and values[field] not in choices:
        refuse([FieldProblem(_join(path, field), f"{values[field]!r} is not one of {', '.join(choices)}")])


def require_pattern(
    values: Mapping[str, Any], field: str, pattern: str, what: str, *, path: str = ""
) -> None:
    """Refuse (``InvalidInput``) ``field`` when given and not matching ``pattern``: ``what`` it must be."""
    if field in values and not re.fullmatch(pattern, values[field]):
        refuse([FieldProblem(_join(path, field), f"{values[field]!r} is not {what}")])


def require_dns_labels(values: Mapping[str, Any], *fields: str, path: str = "") -> None:
    """Refuse (``InvalidInput``) each of ``fields`` given but not a DNS label (Kubernetes and cloud names)."""
    refuse(FieldProblem(_join(path, f), m) for f in fields if f in values for m in dns_label(values[f], 63))


def require_node_range(values: Mapping[str, Any]) -> None:
    """Refuse (``InvalidInput``) an empty autoscaling range, blaming ``min_nodes``."""
    refuse(at("min_nodes", node_range(values["min_nodes"], values["max_nodes"])))


def as_data(value: Any) -> Any:
    """Checked inputs as plain data for a pydantic spec: enum members as their values, tuples as lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: as_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_data(v) for v in value]
    return value


def ordered(value: Any) -> Any:
    """Free-form data from the wire with every map's keys in sorted order (lists keep theirs)."""
    if isinstance(value, Mapping):
        return {k: ordered(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [ordered(v) for v in value]
    return value


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def checked(values: Mapping[str, Any], declared: type, *, schema_names: bool = False) -> dict[str, Any]:
    """``values`` held to the TypedDict ``declared``: numbers as declared, enums as members, maps in key
    order, None dropped; keyed by Python names. ``schema_names``: the keys of ``values`` (and of the objects
    in it) are the schema's, as Construct receives them.

    Raises ``InputPropertiesError`` naming every missing, unknown or mistyped property."""
    problems: list[Problem] = []
    spell: Callable[[str], str] = camel_case if schema_names else str
    result = _typed_dict(values, declared, [], problems, spell)
    if problems:
        raise invalid(problems)
    return result


def fields_of(declared: type) -> dict[str, Any]:
    """The annotations of a TypedDict (or a component's outputs), base classes first, as written."""
    found: dict[str, Any] = {}
    for cls in reversed(declared.__mro__):
        if cls in (dict, object) or cls.__module__.startswith("pulumi."):
            continue
        found.update(inspect.get_annotations(cls))
    return {name: annotation for name, annotation in found.items() if not name.startswith("_")}


def _typed_dict(
    value: Any, declared: type, path: list[PathPart], problems: list[Problem], spell: Callable[[str], str]
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        problems.append((path, f"must be an object, not {_kind(value)}"))
        return {}
    fields = fields_of(declared)
    names = {spell(name): name for name in fields}
    required: frozenset[str] = getattr(declared, "__required_keys__", frozenset())
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = names.get(key)
        if name is None:
            problems.append(([*path, key], f"unknown input; allowed: {', '.join(map(camel_case, fields))}"))
        elif item is not None:
            result[name] = _value(item, fields[name], [*path, name], problems, spell)
    for name in sorted(required - set(result)):
        problems.append(([*path, name], "required input is missing"))
    return result


def _declared_type(annotation: Any) -> tuple[Any, bool]:
    """The type an annotation declares, and whether an Output (or other awaitable) may stand in for it."""
    origin = get_origin(annotation)
    if origin in (NotRequired, Required):
        return _declared_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = get_args(annotation)
        if any(get_origin(m) is collections.abc.Awaitable for m in members):  # pulumi.Input[T]
            plain = next(
                m for m in members if get_origin(m) is not collections.abc.Awaitable and not _is_forward(m)
            )
            return _declared_type(plain)[0], True
        present = [m for m in members if m is not type(None)]
        if len(present) == 1:  # Optional[T]
            return _declared_type(present[0])
    return annotation, False


def _is_forward(member: Any) -> bool:
    return isinstance(member, typing.ForwardRef)


def _value(
    value: Any, annotation: Any, path: list[PathPart], problems: list[Problem], spell: Callable[[str], str]
) -> Any:
    declared, output_allowed = _declared_type(annotation)
    if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        if not output_allowed:
            problems.append((path, PLAIN_ONLY))
        return value
    if declared is Any:
        return value
    origin = get_origin(declared)
    if origin in (list, collections.abc.Sequence):
        if not isinstance(value, list | tuple):
            problems.append((path, f"must be a list, not {_kind(value)}"))
            return value
        (item,) = get_args(declared)
        return [_value(v, item, [*path, i], problems, spell) for i, v in enumerate(value)]
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, Mapping):
            problems.append((path, f"must be a map, not {_kind(value)}"))
            return value
        _, item = get_args(declared)
        # A map from the wire has no order of its own; sorted, the same program builds the same inputs each
        # run (our components turn some maps into lists, e.g. an ACK node pool's labels).
        return {k: _value(value[k], item, [*path, MapKey(k)], problems, spell) for k in sorted(value)}
    if typing.is_typeddict(declared):
        return _typed_dict(value, declared, path, problems, spell)
    if isinstance(declared, type) and issubclass(declared, Enum):
        return _member(value, declared, path, problems)
    if isinstance(declared, type) and issubclass(declared, pulumi.Resource):
        if not isinstance(value, declared):
            problems.append((path, f"must be a {declared.__name__} resource, not {_kind(value)}"))
        return value
    return _scalar(value, declared, path, problems)


def _member(value: Any, declared: type[Enum], path: list[PathPart], problems: list[Problem]) -> Any:
    try:
        return declared(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in declared)
        problems.append((path, f"{value!r} is not one of {allowed}"))
        return value


def _scalar(value: Any, declared: Any, path: list[PathPart], problems: list[Problem]) -> Any:
    # bool is an int in Python, but never a number here; the wire sends every number as a float.
    if declared is bool and isinstance(value, bool):
        return value
    if declared is int and isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer():
            return int(value)
        problems.append((path, f"must be a whole number, not {value!r}"))
        return value
    if declared is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if declared is str and isinstance(value, str):
        return value
    name = getattr(declared, "__name__", str(declared))
    problems.append((path, f"must be {_article(name)}, not {_kind(value)}"))
    return value


def _article(type_name: str) -> str:
    return {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false"}.get(
        type_name, type_name
    )


def _kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "an object" if isinstance(value, Mapping) else type(value).__name__
    )
