"""Which bytes the trainer learns from: a text file, a folder of them, or the Python standard library.

The model is byte-level, so a corpus is just an ordered list of files read back to back. The order is
sorted by path, so every rank and every restart sees the same byte stream, which is what lets a checkpoint
record a position in it. This module lists and measures files only; it imports neither numpy nor torch,
so a bad ``--data`` is reported before the heavy imports.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Installed packages live under the standard library's folder in some layouts (conda, venvs built in place);
# they are not part of the corpus and torch alone would multiply its size.
_NOT_STDLIB = frozenset({"site-packages", "dist-packages", "__pycache__"})


class CorpusError(Exception):
    """The data path cannot be used; the message names the path and what is wrong with it."""


@dataclass(frozen=True)
class Corpus:
    """Files read back to back, with their sizes in bytes (the byte stream's layout)."""

    files: tuple[Path, ...]
    sizes: tuple[int, ...]

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)

    def fingerprint(self) -> dict[str, int]:
        """Cheap identity stored in checkpoints: a resumed run notices when the data changed underneath it."""
        return {"files": len(self.files), "bytes": self.total_bytes}


def open_corpus(path: Path | None) -> Corpus:
    """The corpus at ``path`` (a file, or a folder searched recursively), or the standard library's."""
    files = _stdlib_sources() if path is None else _text_files(path)
    sizes: list[int] = []
    for file in files:
        if not os.access(file, os.R_OK):
            raise CorpusError(f"--data {file}: permission denied")
        sizes.append(file.stat().st_size)
    kept = [(file, size) for file, size in zip(files, sizes, strict=True) if size > 0]
    if not kept:
        where = "the Python standard library" if path is None else str(path)
        raise CorpusError(f"--data {where}: no non-empty files to train on")
    return Corpus(files=tuple(f for f, _ in kept), sizes=tuple(s for _, s in kept))


def _text_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        # Hidden entries are tooling (.git, editor swap files), not text someone meant to train on.
        return _walk(path, skip=lambda name: name.startswith("."), suffix="")
    if path.exists():
        raise CorpusError(f"--data {path}: not a regular file or a folder")
    raise CorpusError(f"--data {path}: no such file or folder")


def _stdlib_sources() -> list[Path]:
    root = Path(sysconfig.get_paths().get("stdlib") or Path(os.__file__).parent)
    return _walk(root, skip=lambda name: name in _NOT_STDLIB, suffix=".py")


def _walk(root: Path, skip: Callable[[str], bool], suffix: str) -> list[Path]:
    found: list[Path] = []
    try:
        for directory, subdirs, names in os.walk(root, onerror=_raise):
            subdirs[:] = [d for d in subdirs if not skip(d)]
            found.extend(
                Path(directory, n)
                for n in names
                if n.endswith(suffix) and not skip(n) and Path(directory, n).is_file()
            )
    except OSError as error:
        raise CorpusError(f"--data {root}: {error.strerror or error}") from None
    return sorted(found)


def _raise(error: OSError) -> None:
    raise error
