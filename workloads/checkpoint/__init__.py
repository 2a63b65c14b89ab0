"""Checkpoints on a disk or in a bucket, written by the trainer and read by the trainer and the server.

One job per module: ``layout`` (file names, and which files make a checkpoint complete for whom),
``retention`` (which checkpoints pruning may remove), ``folder`` (load, save, prune, make room, with
retries), ``serialization`` (bytes, read only by torch's weights-only unpickler), ``storage`` (a folder or
a bucket prefix behind one protocol, and how a write stays atomic on each), ``faults`` (which store
failures may pass, and the retry policy), ``credentials`` (how requests to a bucket carry the pod's
identity), ``errors`` (what all of them raise), ``split`` (the weights of old single-file checkpoints).
"""

from __future__ import annotations

from workloads.checkpoint.errors import CheckpointStorageError, NoSpaceLeft, StorageUnavailable
from workloads.checkpoint.faults import DEFAULT_RETRY, Retry
from workloads.checkpoint.folder import CheckpointFolder, State
from workloads.checkpoint.layout import Purpose, checkpoint_path, describe
from workloads.checkpoint.storage import (
    CheckpointStorage,
    Location,
    check_location,
    check_writable,
    open_storage,
)


def save_checkpoint(directory: Location, step: int, state: State, keep_last: int = 3) -> str:
    """Write ``state`` (at least ``"model"`` and ``"model_config"``) as checkpoint ``step`` and prune."""
    return CheckpointFolder(directory).save(step, state, keep_last)


def load_latest_checkpoint(directory: Location, purpose: Purpose = "training") -> State | None:
    """The newest checkpoint that loads for ``purpose``, on the CPU; None if there is none."""
    return CheckpointFolder(directory).latest(purpose)


def list_steps(directory: Location, purpose: Purpose = "training") -> list[int]:
    """Steps of the checkpoints written whole for ``purpose``, newest first."""
    return CheckpointFolder(directory).steps(purpose)


__all__ = [
    "DEFAULT_RETRY",
    "CheckpointFolder",
    "CheckpointStorage",
    "CheckpointStorageError",
    "Location",
    "NoSpaceLeft",
    "Purpose",
    "Retry",
    "State",
    "StorageUnavailable",
    "check_location",
    "check_writable",
    "checkpoint_path",
    "describe",
    "list_steps",
    "load_latest_checkpoint",
    "open_storage",
    "save_checkpoint",
]
