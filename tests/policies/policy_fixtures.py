"""Policy fixtures: a compliant baseline plan per file, and one-field mutations that must each fail.

A fixture file holds ``resources`` (type, name, inputs, optional protect / provider / dependencies) and
``cases``: each names the resource to change, ``set`` (dotted path -> value; ``[a.b]`` quotes a key
with dots) or ``delete`` (dotted paths),
the one policy that must then fail, and a fragment of its message.
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

    @property
    def policies(self) -> set[str]:
        return {self.policy, *self.also}

    @property
    def id(self) -> str:
        return f"{self.file}:{self.policy}:{self.expect[:40]}"


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def config_of(data: dict[str, Any]) -> PackConfig:
    """The fixture's pack config (``config:``), defaults where it has none."""
    return PackConfig.model_validate(data.get("config") or {})


def cases() -> list[Case]:
    found = []
    for path in fixture_files():
        for c in load(path).get("cases", []):
            found.append(
                Case(
                    file=str(path.relative_to(FIXTURES)),
                    policy=c["policy"],
                    resource=c["resource"],
                    set=c.get("set", {}),
                    delete=tuple(c.get("delete", ())),
                    expect=c["expect"],
                    protect=c.get("protect"),
                    also=tuple(c.get("also", ())),
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
    if case is not None:
        entry = by_name[case.resource]
        for path, value in case.set.items():
            _set(entry, f"inputs.{path}", value)
        for path in case.delete:
            _delete(entry, f"inputs.{path}")
        if case.protect is not None:
            entry["protect"] = case.protect
    resources = []
    for e in entries:
        provider = by_name.get(e.get("provider", ""))
        resources.append(
            PlanResource(
                urn=urn(e["type"], e["name"], stack),
                type=e["type"],
                name=e["name"],
                custom=True,
                inputs=e.get("inputs", {}),
                protect=bool(e.get("protect", False)),
                provider=f"{urn(provider['type'], provider['name'], stack)}::id" if provider else None,
                dependencies=tuple(urn(by_name[d]["type"], d, stack) for d in e.get("dependencies", ())),
            )
        )
    return Plan(stack=stack, resources=resources)
