"""Stage the export ``export/latest`` names: wait for it, copy it to a fresh folder, move that into place."""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from lepton_infra.contract import (
    EXPORT_DIR,
    EXPORT_FILES,
    EXPORT_NAME_PATTERN,
    export_latest_marker,
    named_export_path,
)

log = logging.getLogger("stager")

# What ``latest`` may name: one export directory, never a path (a marker is data read from a bucket).
_EXPORT_NAME = re.compile(EXPORT_NAME_PATTERN)
# While no export exists yet, say so this often rather than on every poll.
_WAITING_REPORT_SECONDS = 600


class StageError(Exception):
    """The export cannot be staged as it is: the message says which file or marker is wrong."""


def stage(
    source: str,
    destination: Path,
    *,
    options: dict[str, Any],
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Copy the export ``<source>/export/latest`` names into ``destination``; return its name.

    Waits (polling every ``poll_seconds``) until a first export exists, as our server waits for its first
    checkpoint: a new platform serves before training has exported anything. ``destination`` appears whole
    or not at all, so a restarted init container (same pod, same emptyDir) starts over cleanly.
    """
    fs, root = url_to_fs(source, **options)
    marker = export_latest_marker(root)
    name = _wait_for_marker(fs, marker, source, poll_seconds, sleep)
    export = named_export_path(root, name)
    files = {Path(str(p)).name: str(p) for p in fs.ls(export, detail=False)} if fs.isdir(export) else {}
    missing = [f for f in EXPORT_FILES if f not in files]
    if missing:
        raise StageError(f"{source}: export {name} lacks {', '.join(missing)}")
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for file_name, remote in sorted(files.items()):
        if fs.isfile(remote):
            fs.get(remote, str(partial / file_name))
    shutil.rmtree(destination, ignore_errors=True)
    os.replace(partial, destination)
    log.info("staged %s/%s/%s into %s", source.rstrip("/"), EXPORT_DIR, name, destination)
    return name


def _wait_for_marker(
    fs: Any, marker: str, source: str, poll_seconds: float, sleep: Callable[[float], None]
) -> str:
    waited = 0.0
    while not fs.exists(marker):
        if waited % _WAITING_REPORT_SECONDS < poll_seconds:
            log.info("waiting for a first export under %s/%s (no %s yet)", source, EXPORT_DIR, marker)
        sleep(poll_seconds)
        waited += poll_seconds
    name = str(fs.cat_file(marker).decode("utf-8", errors="replace")).strip()
    if not _EXPORT_NAME.match(name):
        raise StageError(f"{source}: {EXPORT_DIR}/latest names {name[:80]!r}, not an export (step-N)")
    return name
