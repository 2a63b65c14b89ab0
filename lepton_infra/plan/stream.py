"""Stream a saved plan's JSON into its resources, keeping only what the rules read.

``json.loads`` holds the file's text and every value of it at once: ~4x the file (a 40 MB plan peaked
at 180 MB). This reads the file as a stream of parser events (ijson's C backend) and builds only the
parts a plan reader needs: the top-level scalars (``stack``, ``sourceRoot``) and the keys that tell the
form, and each resource
entry (``resources[i]``, ``steps[i].newState``, ``deployment.resources[i]``), which ``convert`` turns
into a ``PlanResource`` as soon as it is complete (outputs, a step's old state and diff, the export's
manifest and secrets providers are never built). The nesting limit holds while streaming, so a
100,000-bracket file is refused before it is built.

A file the C parser refuses (not JSON, not UTF-8, NaN or numbers past 64 bits, which Python's reader
takes) returns None: the caller reads it whole, as before, and reports what Python's reader says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ijson

from lepton_infra.errors import format_path
from lepton_infra.plan.shapes import MAX_DEPTH, PlanShapeError

# Where resource entries sit in each form, as paths of keys with None for a list index.
_ENTRIES = (("resources", None), ("steps", None, "newState"), ("deployment", "resources", None))
# What is built beside the entries: every top-level value that is not a container (`stack`,
# `sourceRoot`, a Kubernetes object's `apiVersion`), and the top-level keys the readers read whatever
# their value (the forms' lists, a Kubernetes object's `kind`; `stack` and `sourceRoot`, which a reader
# refuses when they are lists or objects). Everything else is parsed, depth-checked and dropped.
_KEPT_TOP = frozenset({"kind", "resources", "steps", "deployment", "stack", "sourceRoot"})


_ENTRY_SET = frozenset(_ENTRIES)
# Values up to this long are shared while reading: the tags every resource repeats, a role's ARN in
# each attachment, a Kubernetes label on every object. Longer ones (documents, scripts) rarely repeat.
_SHARED_LENGTH = 128


def _wanted(path: tuple[str | None, ...]) -> bool:
    """Whether the value at ``path`` (None for any list index) is built."""
    if len(path) == 1:
        return path[0] in _KEPT_TOP
    return any(entry[: len(path)] == path or path[: len(entry)] == entry for entry in _ENTRIES)


class _Frame:
    """One open container: what is built (None where it is only parsed) and how its children are."""

    __slots__ = ("entry", "value", "whole")

    def __init__(self, value: dict[str, Any] | list[Any] | None, whole: bool) -> None:
        self.value = value
        # Inside a resource entry every child is built, with no more questions.
        self.whole = whole
        self.entry = False


def stream_plan(path: Path, convert: Callable[[Any, str], Any]) -> Any:
    """The top level of the plan in ``path`` with each resource entry replaced by ``convert(entry,
    where)``, or None where the C parser refuses the file. A top level that is not an object comes
    back as an empty list (never built). Raises PlanShapeError past ``MAX_DEPTH`` levels."""
    frames: list[_Frame] = []
    trail: list[str | int] = []  # the path to the value being read, with list indexes
    pattern: list[str | None] = []  # the same path with None for every index
    keys: dict[str, str] = {}  # keys repeat in every resource: one string object each
    strings: dict[str, str] = {}  # and so do short values (tags, labels, images, actions, ARNs)
    root: Any = []

    def place(value: Any) -> None:
        nonlocal root
        if not frames:
            root = value
            return
        frame = frames[-1]
        target = frame.value
        if target is None:
            return
        if not frame.whole:
            shape = tuple(pattern)
            if shape in _ENTRY_SET:
                value = convert(value, format_path(trail))
            elif len(shape) > 1 and not _wanted(shape):  # every top-level value that is not a container
                return
        if target.__class__ is dict:
            target[trail[-1]] = value  # type: ignore[index]
        else:
            target.append(value)  # type: ignore[union-attr]

    def open_container(kind: type[dict[str, Any]] | type[list[Any]]) -> None:
        if len(frames) >= MAX_DEPTH:
            raise PlanShapeError(f"nested deeper than {MAX_DEPTH} levels; no Pulumi plan is")
        if not frames:
            frames.append(_Frame({} if kind is dict else None, False))
            return
        parent = frames[-1]
        if parent.value is None:
            frames.append(_Frame(None, False))
        elif parent.whole:
            frames.append(_Frame(kind(), True))
        else:
            shape = tuple(pattern)
            if shape in _ENTRY_SET:
                frames.append(_Frame(kind(), True))
            else:
                frames.append(_Frame(kind() if _wanted(shape) else None, False))

    def next_index() -> None:
        if pattern and pattern[-1] is None:
            index = trail[-1]
            assert isinstance(index, int)
            trail[-1] = index + 1

    try:
        with path.open("rb") as f:
            for event, value in ijson.basic_parse(f, use_float=True):
                if event == "map_key":
                    name = keys.setdefault(value, value) if frames[-1].value is not None else value
                    trail[-1] = pattern[-1] = name
                elif event in {"start_map", "start_array"}:
                    open_container(dict if event == "start_map" else list)
                    trail.append("" if event == "start_map" else 0)
                    pattern.append("" if event == "start_map" else None)
                elif event in {"end_map", "end_array"}:
                    done = frames.pop().value
                    trail.pop()
                    pattern.pop()
                    if done is not None or not frames:
                        place(done if done is not None else [])
                    next_index()
                else:
                    shared = event == "string" and len(value) <= _SHARED_LENGTH
                    place(strings.setdefault(value, value) if shared else value)
                    next_index()
    except ijson.JSONError:
        return None
    return root
