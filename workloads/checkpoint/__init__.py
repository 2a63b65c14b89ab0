"""Checkpoints on a disk or in a bucket, written by the trainer and read by the server.

One job per module: ``layout`` (names, contents, pruning, newest loadable), ``storage`` (a folder or a
bucket prefix behind one protocol, and how a write stays atomic on each), ``credentials`` (how requests
to a bucket carry the pod's identity), ``errors`` (the one error all of them raise).
"""

from workloads.checkpoint.errors import CheckpointStorageError
from workloads.checkpoint.layout import (
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    load_latest_checkpoint,
    save_checkpoint,
)
from workloads.checkpoint.storage import (
    CheckpointStorage,
    Location,
    check_location,
    check_writable,
    open_storage,
)

__all__ = [
    "CheckpointStorage",
    "CheckpointStorageError",
    "Location",
    "check_location",
    "check_writable",
    "checkpoint_path",
    "list_checkpoints",
    "load_checkpoint",
    "load_latest_checkpoint",
    "open_storage",
    "save_checkpoint",
]
