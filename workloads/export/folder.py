"""The exports of one checkpoint location: write one and name it ``latest``, read the one ``latest`` names,
prune old ones. The layout is ``lepton_infra.contract``'s (``EXPORT_DIR``, ``export_path``,
``export_latest_marker``); the store is the checkpoints' (``workloads.checkpoint.storage``), with the same
retries and the same errors, so a failing store ends the trainer with the same statuses.

Whole or not at all, on a disk and in a bucket alike: each file is written atomically (renamed into place,
or one upload), every file of ``step-N/`` before ``latest`` is replaced, and ``latest`` is one small file.
A writer killed half-way leaves files that ``latest`` does not name, which no reader follows; a write that
fails removes what it wrote. Readers never list ``export/`` (a listed export may still be being written).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Container, Mapping
from functools import partial
from typing import IO, Any

import torch

from lepton_infra.contract import (
    EXPORT_FILES,
    EXPORT_LATEST_MARKER,
    EXPORT_NAME_PATTERN,
    export_latest_marker,
    export_name,
    export_path,
)
from workloads.checkpoint import faults
from workloads.checkpoint.errors import CheckpointStorageError, NoSpaceLeft
from workloads.checkpoint.faults import Retry, retrying
from workloads.checkpoint.storage import CheckpointStorage, Location, open_file_storage, open_storage
from workloads.export import files
from workloads.model import ModelConfig

log = logging.getLogger(__name__)

_EXPORT_NAME = re.compile(EXPORT_NAME_PATTERN)
State = dict[str, Any]


class ExportFolder:
    """The exports under ``<location>/export``."""

    def __init__(self, location: Location, *, retry: Retry | None = None) -> None:
        self.location = os.fspath(location)
        self._root, _ = open_file_storage(export_latest_marker(self.location))
        self._retry = retry or faults.DEFAULT_RETRY
        self._warned: set[str] = set()

    def path(self, step: int) -> str:
        """Where the export of ``step`` lives, for messages."""
        return export_path(self.location, step)

    # -- reading ------------------------------------------------------------------------------------

    def latest_step(self) -> int | None:
        """The step ``export/latest`` names; None when there is no marker yet (or it names no export)."""
        try:
            text = self._retrying(partial(read_file, self._root, EXPORT_LATEST_MARKER))
        except FileNotFoundError:
            return None
        name = text.decode("utf-8", errors="replace").strip()
        if not _EXPORT_NAME.match(name):
            marker = export_latest_marker(self.location)
            self._warn_once(marker, f"ignoring {marker}: it names {name[:80]!r}, not an export (step-N)")
            return None
        return int(name.removeprefix("step-"))

    def latest(self, *, newer_than: int = -1, skip: Container[int] = ()) -> State | None:
        """The export ``latest`` names, as ``{"step", "model_config", "model"}`` on the CPU, if it is newer
        than ``newer_than``, not in ``skip``, and loads; else None."""
        step = self.latest_step()
        if step is None or step <= newer_than or step in skip:
            return None
        return self.load(step)

    def load(self, step: int) -> State | None:
        """The export of ``step``, or None (with a warning, once) when it is not one that loads."""
        storage = open_storage(self.path(step))
        try:
            config = self._retrying(partial(read_file, storage, files.CONFIG))
            weights = self._retrying(partial(read_file, storage, files.WEIGHTS))
        except FileNotFoundError:  # pruned since `latest` was read, or never written whole
            log.info("%s went away while being read, or is incomplete", self.path(step))
            return None
        try:
            return files.decode(config, weights, step=step)
        except files.NotAnExport as error:
            self._warn_once(self.path(step), f"skipping export {self.path(step)}: {error}")
            return None

    # -- writing ------------------------------------------------------------------------------------

    def save(
        self, step: int, weights: Mapping[str, torch.Tensor], config: ModelConfig, keep_last: int
    ) -> str:
        """Write the export of ``step`` (``weights``: our ``GPT.state_dict()``), name it ``latest``, then
        prune to ``keep_last`` exports. Where the store is full, first removes every older export but the
        one ``latest`` named, then tries once more; ``NoSpaceLeft`` if that is not enough."""
        encoded = files.encode(step, weights, config)
        # A run that resumed from before the step `latest` names comes back to it: the files it replaces
        # one by one are then the ones readers follow, and must not be removed when a write fails.
        named = self.latest_step()
        try:
            self._write_export(step, encoded, keep_on_failure=named == step)
        except NoSpaceLeft as error:
            if not error.holds_checkpoints:
                raise
            removed = self._remove_exports(sorted(s for s in self._steps() if s < step and s != named))
            if not removed:
                message = f"{error}: no older export to remove (the one {EXPORT_LATEST_MARKER} names is kept)"
                raise NoSpaceLeft(message, where=error.where, holds_checkpoints=True) from None
            log.warning("%s: removed %s to make room for the export of step %d", error, removed, step)
            try:
                self._write_export(step, encoded, keep_on_failure=named == step)
            except NoSpaceLeft as again:
                message = f"{again}, even after removing {len(removed)} older export(s)"
                raise NoSpaceLeft(message, where=again.where, holds_checkpoints=True) from None
        name = export_name(step)
        self._retrying(partial(self._root.write, EXPORT_LATEST_MARKER, _writer(f"{name}\n".encode())))
        self._prune(step, keep_last)
        return self.path(step)

    def _write_export(self, step: int, encoded: Mapping[str, bytes], *, keep_on_failure: bool) -> None:
        storage = open_storage(self.path(step))
        # What an earlier writer of this step left when it was killed mid-file.
        self._retrying(lambda: storage.discard_partial_writes("*"))
        written: list[str] = []
        try:
            for name in files.WRITE_ORDER:
                self._retrying(partial(storage.write, name, _writer(encoded[name])))
                written.append(name)
        except BaseException:
            # No partial export left behind: `latest` never names it, but it would take space.
            if not keep_on_failure:
                with contextlib.suppress(CheckpointStorageError):
                    for name in written:
                        self._retrying(partial(storage.remove, name))
                    self._retrying(storage.remove_folder)
            raise

    def _prune(self, current: int, keep_last: int) -> None:
        """Best effort: the export is written, so a failing store only costs space, said in a warning.

        Keeps ``current`` and the ``keep_last - 1`` newest complete exports before it; removes every older
        one and any incomplete one before it (a killed writer's). Exports newer than ``current`` are not
        this run's: left alone, as the checkpoints newer than the current step are.
        """
        try:
            kept, stale = 1, []
            for step in sorted((s for s in self._steps() if s < current), reverse=True):
                if kept < keep_last and self._complete(step):
                    kept += 1
                else:
                    stale.append(step)
            self._remove_exports(stale)
            self._retrying(lambda: self._root.discard_partial_writes(EXPORT_LATEST_MARKER))
        except CheckpointStorageError as error:
            log.warning("older exports not pruned this time: %s", error)

    def _steps(self) -> list[int]:
        names: list[str] = self._retrying(self._root.names)
        return [int(name.removeprefix("step-")) for name in names if _EXPORT_NAME.match(name)]

    def _complete(self, step: int) -> bool:
        present = set(self._retrying(open_storage(self.path(step)).names))
        return set(EXPORT_FILES) <= present

    def _remove_exports(self, steps: list[int]) -> list[str]:
        removed: list[str] = []
        for step in steps:
            storage = open_storage(self.path(step))
            # The weights last: an export is recognisable as long as anything of it is left.
            names = sorted(self._retrying(storage.names), key=lambda name: name == files.WEIGHTS)
            for name in names:
                self._retrying(partial(storage.remove, name))
            self._retrying(storage.remove_folder)
            if names:  # a store may list a prefix it has no object under any more (fsspec's memory://)
                removed.append(export_name(step))
        return removed

    def _retrying(self, call: Callable[[], Any]) -> Any:
        return retrying(self._retry, call)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)


def _writer(data: bytes) -> Callable[[IO[bytes]], None]:
    """What ``CheckpointStorage.write`` calls to write ``data`` to its handle."""

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    return write


def read_file(storage: CheckpointStorage, name: str) -> bytes:
    """All of ``name``; ``FileNotFoundError`` if it is gone, the store's one-line error if reading fails."""
    raw = storage.open(name)
    with raw:
        try:
            return raw.read()
        except Exception as error:
            storage.read_failed(name, error)
