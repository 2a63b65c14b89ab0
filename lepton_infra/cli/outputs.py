"""Where a command will write, checked before it does any work: a plan that runs for a minute and then
cannot write its JSON has wasted the minute, and printing its results before failing reads as success."""

from __future__ import annotations

import os
from pathlib import Path


def file_problem(flag: str, path: Path) -> str | None:
    """Why ``path`` cannot be written as a file (None: it can): its folder must exist and be writable."""
    if path.is_dir():
        return f"{flag} {path}: is a directory; give a file name"
    folder = path.parent
    if not folder.exists():
        return f"{flag} {path}: the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{flag} {path}: {folder} is a file, not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{flag} {path}: the file is not writable"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{flag} {path}: the folder {folder} is not writable"
    return None


def folder_problem(flag: str, path: Path) -> str | None:
    """Why ``path`` cannot be used as an output folder (None: it can): an existing folder, or a new one
    whose parent exists and is writable."""
    if path.exists():
        if not path.is_dir():
            return f"{flag} {path}: is a file, not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"{flag} {path}: the folder is not writable"
        return None
    parent = path.parent
    if not parent.is_dir():
        return f"{flag} {path}: the folder {parent} does not exist (only the last folder is created)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{flag} {path}: cannot create it, {parent} is not writable"
    return None
