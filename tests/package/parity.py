"""What a component registers beneath it, comparable between a gRPC Construct and a Python program."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from lepton_infra.plan.engine import record
from lepton_infra.plan.model import PlanResource

Child = tuple[str, str, bool, str]


def _chain(resource: PlanResource) -> str:
    return resource.urn.split("::")[2]


def children(resources: Sequence[PlanResource], component_type: str) -> list[Child]:
    """Every resource under the one component of ``component_type``: its type chain below that component, its
    name, whether it is protected, and its inputs and options (as sorted text, to compare whole)."""
    (root,) = [r for r in resources if r.type == component_type]
    prefix = _chain(root) + "$"
    return sorted(
        (
            _chain(r).removeprefix(prefix),
            r.name,
            r.protect,
            json.dumps({**r.inputs, **r.options}, sort_keys=True, default=str),
        )
        for r in resources
        if _chain(r).startswith(prefix)
    )


def python_children(program: Callable[[], Any], component_type: str) -> list[Child]:
    """What ``program``, a Python program importing our components, registers under ``component_type``."""
    return children(record(program, project="consumer", stack="dev").resources, component_type)
