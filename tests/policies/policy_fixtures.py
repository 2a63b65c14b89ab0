"""Policy fixtures: a compliant baseline plan per file, and one-field mutations that must each fail.

A fixture file holds ``resources`` (type, name, inputs, optional protect / provider / dependencies /
propertyDependencies / parent / options, each naming other resources of the file) and ``cases``: each
names the resource to change, ``set`` (dotted path -> value; ``[a.b]`` quotes a key with dots),
``delete`` (dotted paths), ``type`` (another type token) or ``remove`` (the resource leaves the plan),
the one policy that must then
fail, and a fragment of its message. The operability pack's fixtures (tests/operability/fixtures) use
the same format, from their own root.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.config import PackConfig

FIXTURES = Path(__file__).parent / "fixtures"
STACK = "test"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi's unknown-string sentinel, as a preview records it


def urn(resource_type: str, name: str, stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::lepton-infra::{resource_type}::{name}"


@dataclass(frozen=True)
class Case:
    file: str
    policy: str
    resource: str
    set: dict[str, Any]
    delete: tuple[str, ...]
    expect: str
    protect: bool | None
    # Policies that must fail too, where one field feeds two rules (a key that stops rotating, say).
    also: tuple[str, ...] = ()
    remove: bool = False
    # The resource's type token instead of its own (an object in a removed API version, say).
    type: str | None = None

    @property
    def policies(self) -> set[str]:
        return {self.policy, *self.also}

    @property
    def id(self) -> str:
        return f"{self.file}:{self.policy}:{self.expect[:40]}"


def fixture_files(root: Path = FIXTURES) -> list[Path]:
    return sorted(root.rglob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def config_of(data: dict[str, Any]) -> PackConfig:
    """The fixture's pack config (``config:``), defaults where it has none."""
    return PackConfig.model_validate(data.get("config") or {})


def cases(root: Path = FIXTURES) -> list[Case]:
    found = []
    for path in fixture_files(root):
        for c in load(path).get("cases", []):
            found.append(
                Case(
                    file=str(path.relative_to(root)),
                    policy=c["policy"],
                    resource=c["resource"],
                    set=c.get("set", {}),
                    delete=tuple(c.get("delete", ())),
                    expect=c["expect"],
                    protect=c.get("protect"),
                    also=tuple(c.get("also", ())),
                    remove=bool(c.get("remove", False)),
                    type=c.get("type"),
                )
            )
    return found


_STEP = re.compile(r"\[([^\]]+)\]|([^.\[]+)")


def _steps(path: str) -> list[str | int]:
    """``a.b.0.[nvidia.com/gpu]``: dots separate steps, brackets quote a key that contains dots."""
    steps: list[str | int] = []
    for quoted, plain in _STEP.findall(path):
        steps.append(quoted or (int(plain) if plain.isdigit() else plain))
    return steps


def _set(target: Any, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    for step in parents:
        target = target.setdefault(step, {}) if isinstance(step, str) else target[step]
    target[last] = value


def _delete(target: Any, path: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        target = target[step]
    del target[last]


def plan(data: dict[str, Any], case: Case | None = None, stack: str = STACK) -> Plan:
    """The fixture's plan, with ``case``'s mutation applied to its resource."""
    entries = copy.deepcopy(data["resources"])
    by_name = {e["name"]: e for e in entries}
    if case is not None and case.remove:
        entries = [e for e in entries if e["name"] != case.resource]
    elif case is not None:
        entry = by_name[case.resource]
        for path, value in case.set.items():
            _set(entry, f"inputs.{path}", value)
        for path in case.delete:
            _delete(entry, f"inputs.{path}")
        if case.protect is not None:
            entry["protect"] = case.protect
        if case.type is not None:
            entry["type"] = case.type

    def ref(name: str) -> str:
        return urn(by_name[name]["type"], name, stack)

    resources = []
    for e in entries:
        provider = by_name.get(e.get("provider", ""))
        resources.append(
            PlanResource(
                urn=urn(e["type"], e["name"], stack),
                type=e["type"],
                name=e["name"],
                custom=bool(e.get("custom", True)),
                inputs=e.get("inputs", {}),
                parent=ref(e["parent"]) if e.get("parent") else None,
                protect=bool(e.get("protect", False)),
                provider=f"{urn(provider['type'], provider['name'], stack)}::id" if provider else None,
                dependencies=tuple(ref(d) for d in e.get("dependencies", ())),
                property_dependencies={
                    prop: tuple(ref(d) for d in names)
                    for prop, names in (e.get("propertyDependencies") or {}).items()
                },
                options=dict(e.get("options") or {}),
            )
        )
    return Plan(stack=stack, resources=resources)
