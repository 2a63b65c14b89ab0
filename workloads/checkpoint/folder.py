"""The checkpoints of one location: load the newest that loads, save one and prune, make room when full.

The trainer keeps one ``CheckpointFolder`` for its run, so that each checkpoint is loaded at most once to
learn whether it loads (pruning asks); the server keeps one so that a file it skipped is warned about
once, not at every look. Every store operation is retried while its failure may pass (``faults``); what
is left is raised as one line: ``StorageUnavailable``, ``NoSpaceLeft`` or ``CheckpointStorageError``.
A file that is not a loadable checkpoint is skipped with a warning, never raised.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Container, Mapping
from functools import partial
from typing import IO, Any

import torch

from workloads.checkpoint import faults, layout, retention, serialization
from workloads.checkpoint.errors import CheckpointStorageError, NoSpaceLeft
from workloads.checkpoint.faults import Retry, retrying
from workloads.checkpoint.layout import Kind, Purpose
from workloads.checkpoint.storage import Location, open_storage

log = logging.getLogger(__name__)

State = dict[str, Any]
MapLocation = str | torch.device


class CheckpointFolder:
    """Checkpoints under one location (a folder or a bucket prefix)."""

    def __init__(self, location: Location, *, retry: Retry | None = None) -> None:
        self.location = os.fspath(location)
        self._storage = open_storage(location)
        self._retry = retry or faults.DEFAULT_RETRY
        self._loadable: dict[int, bool] = {}  # for training: steps this process wrote or loaded
        self._warned: set[str] = set()

    # -- reading ------------------------------------------------------------------------------------

    def steps(self, purpose: Purpose = "training") -> list[int]:
        """Steps complete for ``purpose`` (written whole, not necessarily loadable), newest first."""
        return layout.steps(self._entries(), purpose)

    def entries(self) -> Mapping[int, frozenset[Kind]]:
        """The files present for each step."""
        return self._entries()

    def load(
        self, step: int, purpose: Purpose = "training", map_location: MapLocation = "cpu"
    ) -> State | None:
        """Checkpoint ``step`` as ``purpose`` needs it, or None (with a warning) if it does not load."""
        return self._load(step, self._entries().get(step, frozenset()), purpose, map_location)

    def latest(
        self,
        purpose: Purpose = "training",
        *,
        newer_than: int = -1,
        skip: Container[int] = (),
        reading: Callable[[int], object] | None = None,
        map_location: MapLocation = "cpu",
    ) -> State | None:
        """The newest checkpoint after step ``newer_than`` that loads for ``purpose``, leaving out the steps
        in ``skip``; None if none does. ``reading(step)`` is called before each step is read."""
        entries = self._entries()
        for step in layout.steps(entries, purpose):
            if step <= newer_than:
                break
            if step in skip:
                continue
            if reading is not None:
                reading(step)
            state = self._load(step, entries[step], purpose, map_location)
            if state is not None:
                return state
        return None

    # -- writing ------------------------------------------------------------------------------------

    def save(self, step: int, state: State, keep_last: int = 3) -> str:
        """Write ``state`` (the trainer's: weights, model config and training state) as checkpoint ``step``,
        then prune to ``keep_last`` loadable checkpoints. A full disk where the checkpoints live first
        removes every older checkpoint but the newest that loads, then tries once more."""
        model = {"step": step, **{key: state[key] for key in layout.MODEL_FIELDS}}
        training = {"step": step, **{k: v for k, v in state.items() if k not in layout.MODEL_FIELDS}}
        self._loadable.pop(step, None)
        try:
            self._write_checkpoint(step, model, training)
        except NoSpaceLeft as error:
            if not error.holds_checkpoints:
                raise
            removed = self._remove(retention.stale_files(self._entries(), step, 2, self._is_loadable))
            if not removed:
                raise NoSpaceLeft(
                    f"{error}: no older checkpoint to remove (the newest that loads is kept)",
                    where=error.where,
                    holds_checkpoints=True,
                ) from None
            log.warning("%s: removed %s to make room for step %d", error, ", ".join(removed), step)
            try:
                self._write_checkpoint(step, model, training)
            except NoSpaceLeft as again:
                message = f"{again}, even after removing {len(removed)} older file(s)"
                raise NoSpaceLeft(message, where=again.where, holds_checkpoints=True) from None
        self._loadable[step] = True
        self._prune(step, keep_last)
        return layout.describe(self.location, step)

    def write_weights(self, step: int, state: State) -> str:
        """Write only the weights file of ``step`` (from a state holding them); its path."""
        weights = {"step": step, **{key: state[key] for key in layout.MODEL_FIELDS}}
        self._write(layout.file_name(step, "model"), weights)
        return layout.checkpoint_path(self.location, step, "model")

    def mark_loadable(self, step: int) -> None:
        """``step`` was just loaded for training: pruning need not load it again."""
        self._loadable[step] = True

    def ensure_room(self, current: int, need_bytes: int) -> None:
        """Raise ``NoSpaceLeft`` now, before any training, when the next checkpoint (about ``need_bytes``)
        cannot fit; where the checkpoints themselves fill the space, first remove every one older than
        ``current`` (the newest that loads, or 0)."""
        space = self._storage.free_space()
        if space.free_bytes >= need_bytes:
            return
        if space.holds_checkpoints and current:
            removed = self._remove(retention.stale_files(self._entries(), current, 1, self._is_loadable))
            if removed:
                log.warning("little space left on %s: removed %s", space.where, ", ".join(removed))
            space = self._storage.free_space()
            if space.free_bytes >= need_bytes:
                return
        raise NoSpaceLeft(
            f"no space left on {space.where}: {_size(space.free_bytes)} free, a checkpoint takes about "
            f"{_size(need_bytes)}",
            where=space.where,
            holds_checkpoints=space.holds_checkpoints,
        )

    def size_of(self, step: int) -> int:
        """Bytes of the files of ``step``."""
        kinds = self._entries().get(step, frozenset())
        sizes = [self._retrying(partial(self._storage.size, name)) for name in layout.files(step, kinds)]
        return int(sum(sizes))

    # -- internals ----------------------------------------------------------------------------------

    def _entries(self) -> Mapping[int, frozenset[Kind]]:
        return layout.catalog(self._retrying(self._storage.names))

    def _retrying(self, call: Callable[[], Any]) -> Any:
        return retrying(self._retry, call)

    def _write_checkpoint(self, step: int, model: State, training: State) -> None:
        model_name = layout.file_name(step, "model")
        self._write(model_name, model)
        try:
            self._write(layout.file_name(step, "train"), training)
        except BaseException:
            # No half checkpoint: the weights alone would look servable and be pruned as garbage later.
            self._remove([model_name], quiet=True)
            raise

    def _write(self, name: str, state: State) -> None:
        def save(handle: IO[bytes]) -> None:
            serialization.save(handle, state)

        self._retrying(lambda: self._storage.write(name, save))

    def _remove(self, names: list[str], *, quiet: bool = False) -> list[str]:
        removed: list[str] = []
        for name in names:
            try:
                self._retrying(partial(self._storage.remove, name))
            except CheckpointStorageError:
                if not quiet:
                    raise
            else:
                removed.append(name)
        return removed

    def _prune(self, current: int, keep_last: int) -> None:
        """Best effort: the checkpoint is written, so a failing store only costs space, said in a warning."""
        try:
            entries = self._entries()
            self._remove(retention.stale_files(entries, current, keep_last, self._is_loadable))
            for step in retention.newer_steps(entries, current):
                self._warn_once(
                    layout.describe(self.location, step),
                    f"{layout.describe(self.location, step)} is newer than step {current}, which this run "
                    "just wrote: not this run's, so left alone and not counted toward --keep-last",
                )
            self._retrying(lambda: self._storage.discard_partial_writes(layout.NAME_GLOB))
        except CheckpointStorageError as error:
            log.warning("older checkpoints not pruned this time: %s", error)

    def _is_loadable(self, step: int) -> bool:
        if step not in self._loadable:
            kinds = self._entries().get(step, frozenset())
            self._loadable[step] = self._load(step, kinds, "training", "cpu") is not None
        return self._loadable[step]

    def _load(
        self, step: int, kinds: frozenset[Kind], purpose: Purpose, map_location: MapLocation
    ) -> State | None:
        if not layout.complete(kinds, purpose):
            return None
        if "model" in kinds and (purpose == "serving" or "train" in kinds):
            model = self._read(step, "model", map_location, layout.MODEL_FIELDS)
            if model is None or purpose == "serving":
                return model
            training = self._read(step, "train", map_location, layout.TRAINING_FIELDS)
            return None if training is None else {**training, **model}
        return self._read(step, "legacy", map_location, {**layout.MODEL_FIELDS, **layout.TRAINING_FIELDS})

    def _read(
        self, step: int, kind: Kind, map_location: MapLocation, fields: Mapping[str, type]
    ) -> State | None:
        """File ``kind`` of ``step`` if it loads and holds ``fields``; None, with a warning, otherwise."""
        name = layout.file_name(step, kind)
        path = layout.checkpoint_path(self.location, step, kind)

        def read() -> Any:
            legacy = kind == "legacy"
            return serialization.load(self._storage, name, map_location=map_location, legacy=legacy)

        try:
            state = self._retrying(read)
        except FileNotFoundError:  # pruned (or replaced) since the listing: not a fault of the file
            log.info("%s went away while being read", path)
            return None
        except serialization.Corrupt as error:
            self._warn_once(path, f"skipping unreadable checkpoint {path}: {error}")
            return None
        problem = _problem(state, step, fields)
        if problem:
            self._warn_once(path, f"skipping checkpoint {path}: not a lepton-infra checkpoint ({problem})")
            return None
        return dict(state)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)


def _problem(state: Any, step: int, fields: Mapping[str, type]) -> str | None:
    """Why ``state`` is not a file of our checkpoint ``step``; None if it is."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a dict"
    missing = [key for key in fields if key not in state]
    if missing:
        return f"it has no {', '.join(repr(key) for key in missing)}"
    wrong = [key for key, kind in fields.items() if not isinstance(state[key], kind)]
    if wrong:
        return f"its {', '.join(repr(key) for key in wrong)} is not what a checkpoint holds there"
    if state.get("step") != step:
        return f"it says it is step {state.get('step')!r}, its name says {step}"
    return None


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    size, unit = count / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{size:.1f} {unit}"
