"""The errors checkpoint operations raise when the store fails, each worded in one line.

Three kinds, because each calls for a different reaction (``faults`` decides which one an SDK's error is):

- ``CheckpointStorageError``: the location cannot be used here and retrying cannot help (unknown protocol,
  missing package, permission denied, a read-only file system). Fix the configuration.
- ``StorageUnavailable``: the store did not answer, or failed in a way that may pass (network, throttling,
  server errors), through every retry. Try again later.
- ``NoSpaceLeft``: a write found no room (``ENOSPC``, or a quota's ``EDQUOT``). Make room.

A file that was read whole and is not a checkpoint (corrupt, truncated, foreign) is none of these: the
layout skips it with a warning.
"""

from __future__ import annotations


class CheckpointStorageError(Exception):
    """The checkpoint location cannot be used here (unknown protocol, missing package, no permission)."""


class StorageUnavailable(CheckpointStorageError):
    """The store failed in a way that may pass, through every retry (network, throttling, server errors)."""


class NoSpaceLeft(CheckpointStorageError):
    """A write found no space left; ``where`` names the file system, ``holds_checkpoints`` whether it is the
    one the checkpoints live on (then removing older checkpoints makes room; not so for a staging folder)."""

    def __init__(self, message: str, *, where: str, holds_checkpoints: bool) -> None:
        super().__init__(message)
        self.where = where
        self.holds_checkpoints = holds_checkpoints


def missing_package(location: str, need: str, package: str, error: BaseException) -> CheckpointStorageError:
    return CheckpointStorageError(
        f"{location}: {need} needs the Python package {package} ({one_line(error)}); "
        f"install it: pip install {package}"
    )


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
