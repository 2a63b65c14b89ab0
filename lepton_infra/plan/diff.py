"""Two plans compared, resource by resource: what a pull request adds, removes and changes.

Resources are matched by URN (the engine's identity: a resource whose URN changes is, to `pulumi up`, one
deleted and one created, unless an alias says otherwise). A changed resource lists the property paths
that differ in its inputs (``spec.template.spec.containers[name=trainer].image``) and in the options a
reviewer must see (``options.protect``), with a replacement verdict (``replacement.py``). Outputs are not
compared: offline they are the mocks' fake IDs and ARNs.

Secrets stay masked: our plans hold ``[secret]`` in place of a secret, and the loaders replace the engine's
secret envelopes of a preview or a stack export with it (``values.conceal_secrets``); two masked values
compare equal, so a changed secret does not show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.plan.replacement import Replacement, judge

_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One property path whose value differs (absent on one side: added or removed)."""

    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path}
        if self.old is not _ABSENT:
            data["old"] = self.old
        if self.new is not _ABSENT:
            data["new"] = self.new
        return data


@dataclass(frozen=True)
class ChangedResource:
    resource: PlanResource
    changes: list[Change]
    replacement: Replacement
    because: tuple[str, ...] = ()
    reason: str = ""  # why the API server refuses the update (``Replacement.REFUSED`` only)

    def to_json(self) -> dict[str, Any]:
        data = {
            **_identity(self.resource),
            "replacement": self.replacement.value,
            "replace_because": list(self.because) if self.replacement is Replacement.REPLACE else [],
            "changes": [change.to_json() for change in self.changes],
        }
        if self.replacement is Replacement.REFUSED:
            data["refused_because"] = list(self.because)
            data["refused_reason"] = self.reason
        return data


@dataclass
class PlanDiff:
    old_stack: str
    new_stack: str
    added: list[PlanResource] = field(default_factory=list)
    removed: list[PlanResource] = field(default_factory=list)
    changed: list[ChangedResource] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> dict[str, int]:
        verdicts = [c.replacement for c in self.changed]
        return {
            "add": len(self.added),
            "remove": len(self.removed),
            "change": len(self.changed),
            "replace": verdicts.count(Replacement.REPLACE),
            "refused": verdicts.count(Replacement.REFUSED),
            "replacement_unknown": verdicts.count(Replacement.UNKNOWN),
            "unchanged": self.unchanged,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "old": {"stack": self.old_stack},
            "new": {"stack": self.new_stack},
            "summary": self.summary(),
            "added": [_identity(r) for r in self.added],
            "removed": [_identity(r) for r in self.removed],
            "changed": [c.to_json() for c in self.changed],
        }


def _identity(resource: PlanResource) -> dict[str, Any]:
    return {"urn": resource.urn, "type": resource.type, "name": resource.name}


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """What changes from ``old`` to ``new``, in ``new``'s order (removed ones in ``old``'s)."""
    before = {r.urn: r for r in old.resources}
    after = {r.urn: r for r in new.resources}
    result = PlanDiff(old.stack, new.stack)
    result.removed = [r for r in old.resources if r.urn not in after]
    for resource in new.resources:
        previous = before.get(resource.urn)
        if previous is None:
            result.added.append(resource)
            continue
        changes = list(_compare("", _comparable(previous), _comparable(resource)))
        if not changes:
            result.unchanged += 1
            continue
        verdict = judge(resource, [(c.path, c.old, c.new) for c in changes])
        result.changed.append(
            ChangedResource(resource, changes, verdict.replacement, verdict.because, verdict.reason)
        )
    return result


def _comparable(resource: PlanResource) -> dict[str, Any]:
    """The inputs, and the options that change what `pulumi up` or `destroy` does (under ``options``)."""
    return {**resource.inputs, "options": {**resource.options, "protect": resource.protect}}


def _compare(path: str, old: Any, new: Any) -> Iterator[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from _compare(_join(path, key), old.get(key, _ABSENT), new.get(key, _ABSENT))
    elif isinstance(old, list) and isinstance(new, list):
        yield from _compare_lists(path, old, new)
    elif old != new or type(old) is not type(new):
        yield Change(path, old, new)


def _compare_lists(path: str, old: list[Any], new: list[Any]) -> Iterator[Change]:
    # Kubernetes lists of named items (containers, env, ports, volumes) are compared by name, so that one
    # inserted item is one change, not a shift of every later index.
    old_named, new_named = _by_name(old), _by_name(new)
    if old_named is not None and new_named is not None:
        for name in [*old_named, *(n for n in new_named if n not in old_named)]:
            yield from _compare(
                f"{path}[name={name}]", old_named.get(name, _ABSENT), new_named.get(name, _ABSENT)
            )
        return
    for index in range(max(len(old), len(new))):
        yield from _compare(
            f"{path}[{index}]",
            old[index] if index < len(old) else _ABSENT,
            new[index] if index < len(new) else _ABSENT,
        )


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    named = {i["name"]: i for i in items}
    return named if len(named) == len(items) else None


def _join(path: str, key: str) -> str:
    # Keys that hold a dot or a bracket (labels such as `lepton.ai/max-gpus`) are quoted, so that a path
    # reads one way only.
    if "." in key or "[" in key:
        return f'{path}["{key}"]'
    return f"{path}.{key}" if path else key
