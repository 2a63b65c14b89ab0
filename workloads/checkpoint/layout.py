"""The checkpoint layout shared by the trainer (writes) and the server (reads): names, contents, pruning.

Layout: ``<location>/step-00000042.pt``, each a ``torch.save`` of a dict with at least ``"step"`` (int),
``"model_config"`` (``ModelConfig.to_dict()``) and ``"model"`` (state dict); the trainer adds optimizer,
scheduler, data position and RNG states. Where the files live and how a write stays atomic there:
``workloads.checkpoint.storage``.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from typing import Any

import torch

from workloads.checkpoint.errors import CheckpointStorageError
from workloads.checkpoint.storage import CheckpointStorage, Location, open_file_storage, open_storage

log = logging.getLogger(__name__)

_NAME = re.compile(r"^step-(\d{8,})\.pt$")
_GLOB = "step-*.pt"


def checkpoint_path(directory: Location, step: int) -> str:
    """Where the checkpoint of ``step`` lives under ``directory``, in the same form (path or URI)."""
    return posixpath.join(os.fspath(directory), _name(step))


def list_checkpoints(directory: Location) -> list[str]:
    """Complete checkpoints, newest step first (partial writes are never listed)."""
    return [checkpoint_path(directory, step) for step in _steps(open_storage(directory))]


def save_checkpoint(directory: Location, step: int, state: dict[str, Any], keep_last: int = 3) -> str:
    """Atomically write ``state`` as the checkpoint of ``step`` and prune to the newest ``keep_last``."""
    storage = open_storage(directory)
    storage.write(_name(step), lambda handle: torch.save({**state, "step": step}, handle))
    for stale in _steps(storage)[max(keep_last, 1) :]:
        storage.remove(_name(stale))
    storage.discard_partial_writes(_GLOB)
    return checkpoint_path(directory, step)


def load_checkpoint(path: Location, map_location: str | torch.device = "cpu") -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None (with a warning) when it is missing, corrupt or not ours."""
    storage, name = open_file_storage(path)
    try:
        with storage.open(name) as handle:
            state: dict[str, Any] = torch.load(handle, map_location=map_location, weights_only=False)
    except CheckpointStorageError:
        raise  # the store failed (credentials, a missing package), not this file
    except Exception as error:  # a truncated or garbled file raises many different errors
        log.warning("skipping unreadable checkpoint %s: %s", os.fspath(path), error)
        return None
    if not isinstance(state, dict) or "model" not in state or "step" not in state:
        log.warning("skipping checkpoint %s: not a lepton-infra checkpoint", os.fspath(path))
        return None
    return state


def load_latest_checkpoint(
    directory: Location, map_location: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The newest checkpoint that loads, skipping corrupt ones with a warning; None if there is none."""
    for path in list_checkpoints(directory):
        state = load_checkpoint(path, map_location)
        if state is not None:
            return state
    return None


def _name(step: int) -> str:
    return f"step-{step:08d}.pt"


def _steps(storage: CheckpointStorage) -> list[int]:
    """Steps of the complete checkpoints in ``storage``, newest first."""
    return sorted((int(m.group(1)) for name in storage.names() if (m := _NAME.match(name))), reverse=True)
