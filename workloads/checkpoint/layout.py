"""Names of the files of a checkpoint, and which of them make a checkpoint complete for whom.

A checkpoint of step 42 is two files, so that a server can load the weights without the training state:

- ``step-00000042.model.pt``: ``{"step", "model_config", "model"}``, what the server loads;
- ``step-00000042.train.pt``: ``{"step", "optimizer", "scheduler", "train_config", "ranks"}``, which the
  trainer needs besides the weights to resume exactly (optimizer moments, data position, RNG states).

The trainer writes the model file first and the training file last, so a training file present means the
step is complete for the trainer; a model file present means it is complete for a server. Earlier versions
wrote one file, ``step-00000042.pt``, holding both: the trainer still resumes from such a checkpoint (and
writes the new layout from its next one on); the server does not read it, since it holds training state
(``python -m workloads.checkpoint.split LOCATION`` writes the weights of each beside it).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Literal

from workloads.checkpoint.storage import Location

# What a file of a checkpoint holds.
Kind = Literal["model", "train", "legacy"]
# Who wants to load a checkpoint: the server (weights only), or the trainer (weights and training state).
Purpose = Literal["serving", "training"]

_NAME = re.compile(r"^step-(\d{8,})(?:\.(model|train))?\.pt$")
# Every file name the layout may write, for discarding what a killed write left (see storage).
NAME_GLOB = "step-*.pt"
# What each file must hold (besides "step", equal to its name's) to be taken for ours.
MODEL_FIELDS: dict[str, type] = {"model_config": dict, "model": dict}
TRAINING_FIELDS: dict[str, type] = {"optimizer": dict, "scheduler": dict, "ranks": list}


def file_name(step: int, kind: Kind) -> str:
    suffix = "" if kind == "legacy" else f".{kind}"
    return f"step-{step:08d}{suffix}.pt"


def checkpoint_path(directory: Location, step: int, kind: Kind = "model") -> str:
    """Where the ``kind`` file of ``step`` lives under ``directory``, in the same form (path or URI)."""
    return posixpath.join(os.fspath(directory), file_name(step, kind))


def describe(directory: Location, step: int) -> str:
    """How messages name a checkpoint: ``<directory>/step-00000042``."""
    return posixpath.join(os.fspath(directory), f"step-{step:08d}")


def catalog(names: Iterable[str]) -> dict[int, frozenset[Kind]]:
    """The files present for each step, from a folder's file names (other names are ignored)."""
    found: dict[int, set[Kind]] = {}
    for name in names:
        if match := _NAME.match(name):
            kind: Kind = "legacy" if match.group(2) is None else match.group(2)  # type: ignore[assignment]
            found.setdefault(int(match.group(1)), set()).add(kind)
    return {step: frozenset(kinds) for step, kinds in found.items()}


def complete(kinds: frozenset[Kind], purpose: Purpose) -> bool:
    if purpose == "serving":
        return "model" in kinds
    return {"model", "train"} <= kinds or "legacy" in kinds


def steps(entries: Mapping[int, frozenset[Kind]], purpose: Purpose) -> list[int]:
    """Steps complete for ``purpose``, newest first."""
    return sorted((step for step, kinds in entries.items() if complete(kinds, purpose)), reverse=True)


def files(step: int, kinds: Iterable[Kind]) -> list[str]:
    """The file names of ``step``: the training state first, so that a removal interrupted half-way never
    leaves a training file without its weights."""
    order: tuple[Kind, ...] = ("train", "legacy", "model")
    present = set(kinds)
    return [file_name(step, kind) for kind in order if kind in present]
