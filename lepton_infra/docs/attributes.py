"""What the code says about a class's attributes: their docstrings, annotations and defaults.

An attribute docstring is the string literal right after a field (PEP 257), the convention Pulumi's schema
inference reads too (``pulumi.provider.experimental.analyzer``). Python keeps no such string at run time, so
it is read from the source, along each class's bases.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import itertools
import textwrap
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

import pulumi

# A field with no default.
REQUIRED = "required"


@dataclass(frozen=True)
class Attribute:
    name: str
    # The annotation as written in the source (``pulumi.Input[str]``), or an enum member's value.
    type: str
    # ``repr`` of the default, REQUIRED, or "" where there is none to show (outputs, enum members).
    default: str
    doc: str


def docstrings(cls: type) -> dict[str, str]:
    """Each attribute docstring of ``cls`` and its bases (the nearest class wins), cleaned of indentation."""
    found: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if base.__module__.startswith("lepton_infra"):
            found.update(_own_docstrings(base))
    return found


@cache
def _own_docstrings(cls: type) -> dict[str, str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    found = {}
    for statement, following in itertools.pairwise(body):
        target = _target(statement)
        if (
            target is not None
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[target] = inspect.cleandoc(following.value.value)
    return found


def _target(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id
    return None


def fields(cls: type) -> list[Attribute]:
    """A dataclass's fields in order, with their annotations, defaults and docstrings."""
    docs = docstrings(cls)
    return [
        Attribute(f.name, _annotation(cls, f.name), _default(f), docs.get(f.name, ""))
        for f in dataclasses.fields(cls)
    ]


def members(cls: type[enum.Enum]) -> list[Attribute]:
    """An enum's members: their values and docstrings."""
    docs = docstrings(cls)
    return [Attribute(m.name, repr(m.value), "", docs.get(m.name, "")) for m in cls]


def outputs(component: type) -> list[Attribute]:
    """The attributes a component declares on its class (``vpc_id: pulumi.Output[str]``), with docstrings."""
    docs = docstrings(component)
    declared: dict[str, str] = {}
    for base in reversed(component.__mro__):
        if base.__module__.startswith("lepton_infra"):
            declared.update({n: str(a) for n, a in vars(base).get("__annotations__", {}).items()})
    return [
        Attribute(name, annotation, "", docs.get(name, ""))
        for name, annotation in declared.items()
        if not name.startswith("_") and not annotation.startswith(("ClassVar", "typing.ClassVar"))
    ]


def assigned_outputs(component: type[pulumi.ComponentResource]) -> list[str]:
    """Every public attribute ``component.__init__`` sets on ``self``: what must be declared as an output."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(component.__init__)))
    names = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    ]
    return sorted({n for n in names if not n.startswith("_")})


def type_token(component: type[pulumi.ComponentResource]) -> str:
    """The Pulumi type token ``component.__init__`` registers under (``lepton:aws:EksCluster``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(component.__init__)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
    raise ValueError(f"{component.__name__} registers under no literal type token")


def _annotation(cls: type, name: str) -> str:
    for base in cls.__mro__:
        annotation: Any = vars(base).get("__annotations__", {}).get(name)
        if annotation is not None:
            return annotation if isinstance(annotation, str) else typing._type_repr(annotation)
    return ""


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return REQUIRED
    return repr(value.value) if isinstance(value, enum.Enum) else repr(value)
