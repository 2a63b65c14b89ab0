"""A plan diff for people: one line per resource (``+`` add, ``-`` remove, ``~`` update, ``+-`` replace),
its changed paths under it, values shown when short (secrets stay masked: the plan never held them)."""

from __future__ import annotations

import json
from typing import Any

from lepton_infra.plan.diff import _ABSENT, ChangedResource, PlanDiff
from lepton_infra.plan.model import PlanResource
from lepton_infra.plan.replacement import Replacement

# Longer values are left out: the path says what changed, and a reviewer reads the JSON for the rest.
_MAX_VALUE = 60
_MARK = {
    Replacement.UPDATE: "~ ",
    Replacement.REPLACE: "+-",
    Replacement.REFUSED: "! ",
    Replacement.UNKNOWN: "~ ",
}


def render_diff(diff: PlanDiff, old_label: str, new_label: str) -> str:
    s = diff.summary()
    head = (
        f"{old_label} ({diff.old_stack}) -> {new_label} ({diff.new_stack}): {s['add']} to add, "
        f"{s['change']} to change ({s['replace']} replaced, {s['refused']} refused by the API server, "
        f"{s['replacement_unknown']} replacement unknown offline), {s['remove']} to remove, "
        f"{s['unchanged']} unchanged"
    )
    lines = [head]
    if diff.empty:
        lines.append("no changes")
    lines += [f"+  {_label(r)}" for r in diff.added]
    lines += [f"-  {_label(r)}" for r in diff.removed]
    for changed in diff.changed:
        lines += _changed_lines(changed)
    return "\n".join(lines) + "\n"


def _label(resource: PlanResource) -> str:
    return f"{resource.name}  ({resource.type})  {resource.urn}"


def _changed_lines(changed: ChangedResource) -> list[str]:
    verdict = {
        Replacement.UPDATE: "update in place",
        Replacement.REPLACE: f"REPLACE (immutable: {', '.join(changed.because)})",
        Replacement.REFUSED: f"REFUSED: {changed.reason}",
        Replacement.UNKNOWN: "update; replacement unknown offline",
    }[changed.replacement]
    lines = [f"{_MARK[changed.replacement]} {_label(changed.resource)}", f"     {verdict}"]
    for change in changed.changes:
        lines.append(f"     {change.path}: {_show(change.old)} -> {_show(change.new)}")
    return lines


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else f"({type(value).__name__}, {len(text)} characters)"
