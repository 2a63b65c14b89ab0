"""Which components are public, and the Markdown page that documents them.

Public: what each cloud package exports (``__all__``) and the Kubernetes components of the modules below.
Every type a public ``Args`` uses, if it is ours (a dataclass or an enum of the components or the catalog),
is documented too, found by following the annotations.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from lepton_infra.docs import attributes
from lepton_infra.docs.attributes import REQUIRED, Attribute

PAGE = Path(__file__).resolve().parents[2] / "docs" / "components.md"
# Kubernetes components live in modules of their own; this package imports none of them by default.
KUBERNETES_MODULES = (
    "training_job",
    "inference_service",
    "gpu_runtime",
    "tenancy",
    "cluster_services",
    "multikueue",
)
# Where our own types come from: the components and the catalog's types. The platform spec's models are
# documented by their JSON Schema (``lepton-infra schema``), the queueing plan by the spec that makes it.
DOCUMENTED_MODULES = ("lepton_infra.components", "lepton_infra.catalog.types")


@dataclass(frozen=True)
class Component:
    cls: type[pulumi.ComponentResource]
    module: str
    # The class its ``args`` parameter takes; None for a component that takes its inputs one by one.
    args: type | None

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass(frozen=True)
class Section:
    title: str
    components: tuple[Component, ...]


def sections() -> list[Section]:
    """Every public component, by cloud, the Kubernetes layer last."""
    clouds = [("AWS", "aws"), ("Azure", "azure"), ("Alibaba Cloud", "alicloud")]
    found = []
    for title, package in clouds:
        module = importlib.import_module(f"lepton_infra.components.{package}")
        classes = [getattr(module, name) for name in module.__all__]
        found.append(Section(title, tuple(_component(c, module.__name__) for c in _components(classes))))
    kubernetes = []
    for name in KUBERNETES_MODULES:
        module = importlib.import_module(f"lepton_infra.components.kubernetes.{name}")
        kubernetes += [
            _component(c, module.__name__)
            for c in _components(vars(module).values())
            if c.__module__ == module.__name__
        ]
    found.append(Section("Kubernetes", tuple(kubernetes)))
    return found


def _components(candidates: Any) -> list[type[pulumi.ComponentResource]]:
    return sorted(
        (c for c in candidates if inspect.isclass(c) and issubclass(c, pulumi.ComponentResource)),
        key=lambda c: c.__name__,
    )


def _component(cls: type[pulumi.ComponentResource], module: str) -> Component:
    args = typing.get_type_hints(cls.__init__).get("args")
    return Component(cls, module, args if inspect.isclass(args) else None)


def types_used(components: list[Component]) -> list[type]:
    """Our dataclasses and enums that public Args use, directly or inside one another, by name."""
    seen: dict[type, None] = {}

    def visit(hint: Any) -> None:
        for cls in _classes_in(hint):
            if cls in seen or not cls.__module__.startswith(DOCUMENTED_MODULES):
                continue
            if dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum):
                seen[cls] = None
                if dataclasses.is_dataclass(cls):
                    for hint_of_field in _hints(cls).values():
                        visit(hint_of_field)

    for component in components:
        if component.args is not None:
            for hint in _hints(component.args).values():
                visit(hint)
        else:
            for name, hint in _hints(component.cls.__init__).items():
                if name not in ("name", "opts", "return"):
                    visit(hint)
    args = {c.args for c in components}
    return sorted((t for t in seen if t not in args), key=lambda t: t.__name__)


def _hints(obj: Any) -> dict[str, Any]:
    from lepton_infra.components.args import PULUMI_NAMES

    return typing.get_type_hints(obj, localns=PULUMI_NAMES)


def _classes_in(hint: Any) -> Iterator[type]:
    if inspect.isclass(hint):
        yield hint
    for arg in typing.get_args(hint):
        yield from _classes_in(arg)


def inputs(component: Component) -> list[Attribute]:
    """What a component takes: its Args' fields, or its own parameters where it has no Args class."""
    if component.args is not None:
        return attributes.fields(component.args)
    signature = inspect.signature(component.cls.__init__)
    docs = _parameter_docs(component.cls)
    return [
        Attribute(
            p.name,
            str(p.annotation),
            REQUIRED if p.default is inspect.Parameter.empty else repr(p.default),
            docs.get(p.name, ""),
        )
        for p in list(signature.parameters.values())[1:]
        if p.name not in ("name", "opts")
    ]


def _parameter_docs(cls: type[pulumi.ComponentResource]) -> dict[str, str]:
    """``:param name: text`` lines of a constructor's docstring."""
    doc = inspect.getdoc(cls.__init__) or ""
    return {
        m[1]: " ".join(m[2].split()) for m in re.finditer(r":param (\w+):(.*?)(?=\n:param |\Z)", doc, re.S)
    }


def render() -> str:
    """The whole page."""
    found = sections()
    components = [c for s in found for c in s.components]
    lines = [
        "# Component reference",
        "",
        "<!-- Generated from the code by `python -m lepton_infra.docs`; do not edit by hand. -->",
        "",
        "Every public component, what it takes and what it gives back. Each can be imported alone into your",
        "own Pulumi program (see `examples/byo-vpc` and `examples/byo-vnet`). Inputs are the fields of the",
        "component's `Args` class; a `pulumi.Input[...]` field also takes another resource's output. Outputs",
        "are attributes of the component. Invalid inputs raise `pulumi.InputPropertiesError` when the `Args`",
        "are built, naming every bad property at once (`kubernetes_version`, `taints[1].effect`), before",
        "anything is registered.",
        "",
    ]
    for section in found:
        lines.append(
            f"- [{section.title}](#{_anchor(section.title)}): "
            + ", ".join(f"[{c.name}](#{_anchor(c.name)})" for c in section.components)
        )
    lines.append("- [Types](#types): the types these inputs use")
    lines.append("")
    for section in found:
        lines += [f"## {section.title}", ""]
        for component in section.components:
            lines += _component_lines(component)
    lines += [
        "## Types",
        "",
        "The types the inputs above use. A workload (`TrainingWorkloadSpec`, `InferenceWorkloadSpec`) is one",
        "of the platform spec's workloads and a `SiteQueues` is what the spec's queueing makes of it: their",
        "fields are in the JSON Schema `lepton-infra schema` prints.",
        "",
    ]
    used = types_used(components)
    names = [cls.__name__ for cls in used]
    for cls in used:
        lines += _type_lines(cls, _type_title(cls, names))
    return "\n".join(lines).rstrip() + "\n"


def _component_lines(component: Component) -> list[str]:
    imported = [component.name] + ([component.args.__name__] if component.args is not None else [])
    lines = [
        f"### {component.name}",
        "",
        f"`{attributes.type_token(component.cls)}` · `from {component.module} import {', '.join(imported)}`",
        "",
        _paragraphs(inspect.getdoc(component.cls) or ""),
        "",
        f"**Inputs** (`{component.args.__name__}`)" if component.args is not None else "**Inputs**",
        "",
        *_attribute_lines(inputs(component)),
        "",
        "**Outputs**",
        "",
        *_attribute_lines(attributes.outputs(component.cls)),
        "",
    ]
    return lines


def _type_title(cls: type, names: list[str]) -> str:
    """A type's name, with the package it comes from where two types share it (``NodeTaint (aws)``)."""
    return (
        cls.__name__
        if names.count(cls.__name__) == 1
        else f"{cls.__name__} ({cls.__module__.split('.')[-2]})"
    )


def _type_lines(cls: type, title: str) -> list[str]:
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(f"{cls.__name__}("):  # the signature a dataclass gets as its docstring
        doc = ""
    listed = attributes.members(cls) if issubclass(cls, enum.Enum) else attributes.fields(cls)
    lines = [f"### {title}", "", f"`{cls.__module__}.{cls.__name__}`", ""]
    if doc:
        lines += [_paragraphs(doc), ""]
    return [*lines, *_attribute_lines(listed), ""]


def _attribute_lines(listed: list[Attribute]) -> list[str]:
    if not listed:
        return ["None."]
    lines = []
    for a in listed:
        facts = [f"`{a.type}`"] + (
            [a.default if a.default == REQUIRED else f"default `{a.default}`"] if a.default else []
        )
        lines.append(f"- **`{a.name}`** ({', '.join(facts)}): {' '.join(a.doc.split())}")
    return lines


def _paragraphs(text: str) -> str:
    """A docstring as Markdown: its paragraphs and bullet lists kept, each paragraph on one line."""
    blocks = []
    for block in text.split("\n\n"):
        if block.lstrip().startswith("- "):
            blocks.append(
                "\n".join(
                    "- " + " ".join(item.split())
                    for item in re.split(r"\n?^- ", block.strip(), flags=re.M)
                    if item.strip()
                )
            )
        else:
            blocks.append(" ".join(block.split()))
    return "\n\n".join(blocks)


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")
