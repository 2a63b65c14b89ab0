"""Checkpoint files shared by the trainer (writes) and the server (reads).

Layout: ``<dir>/step-00000042.pt``, each a ``torch.save`` of a dict with at least
``"step"`` (int), ``"model_config"`` (``ModelConfig.to_dict()``) and ``"model"`` (state dict);
the trainer adds optimizer, scheduler, data position and RNG states.
Writes go to ``step-N.pt.partial`` (torch refuses names starting with a dot), are fsynced,
then renamed into place, so a kill at any instant leaves either the old set or the new file.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

_NAME = re.compile(r"^step-(\d{8,})\.pt$")


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step-{step:08d}.pt"


def list_checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoint files, newest step first (partial writes are never listed)."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def save_checkpoint(directory: Path, step: int, state: dict[str, Any], keep_last: int = 3) -> Path:
    """Atomically write ``state`` as the checkpoint of ``step`` and prune to the newest ``keep_last``."""
    directory.mkdir(parents=True, exist_ok=True)
    final = checkpoint_path(directory, step)
    partial = final.with_name(final.name + ".partial")
    with partial.open("wb") as handle:
        torch.save({**state, "step": step}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)
    _fsync_directory(directory)
    for stale in list_checkpoints(directory)[max(keep_last, 1) :]:
        stale.unlink(missing_ok=True)
    # A writer killed mid-write leaves its partial file behind; one writer at a time means any other is stale.
    for leftover in directory.glob("step-*.pt.partial"):
        leftover.unlink(missing_ok=True)
    return final


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None (with a warning) when it is missing, corrupt or not ours."""
    try:
        state: dict[str, Any] = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as error:  # a truncated or garbled file raises many different errors
        log.warning("skipping unreadable checkpoint %s: %s", path, error)
        return None
    if not isinstance(state, dict) or "model" not in state or "step" not in state:
        log.warning("skipping checkpoint %s: not a lepton-infra checkpoint", path)
        return None
    return state


def load_latest_checkpoint(
    directory: Path, map_location: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The newest checkpoint that loads, skipping corrupt ones with a warning; None if there is none."""
    for path in list_checkpoints(directory):
        state = load_checkpoint(path, map_location)
        if state is not None:
            return state
    return None


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
