"""The one error every checkpoint operation raises when its location cannot be used, worded in one line."""

from __future__ import annotations


class CheckpointStorageError(Exception):
    """The checkpoint location cannot be used here (unknown protocol, missing package, not writable)."""


def missing_package(location: str, need: str, package: str, error: BaseException) -> CheckpointStorageError:
    return CheckpointStorageError(
        f"{location}: {need} needs the Python package {package} ({one_line(error)}); "
        f"install it: pip install {package}"
    )


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
