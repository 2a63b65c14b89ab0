"""Checkpoint files as bytes: written by ``torch.save``, read back only by torch's weights-only unpickler.

Anyone who can write to the checkpoint folder (the training role can, by design) could otherwise plant a
pickle that runs code in every training pod and serving replica that loads it. ``torch.load`` therefore
always runs with ``weights_only=True``: tensors, containers and plain values are rebuilt, any other global
is refused before it is called. What we write needs nothing more (the trainer stores numpy's RNG state
as a tensor for that reason; ``tests/workloads`` check a real checkpoint against
``torch.serialization.get_unsafe_globals_in_checkpoint``). Files of the single-file layout of earlier
versions hold numpy's RNG state as an ``ndarray``, so reading one allows exactly the numpy types that
rebuild a ``uint32`` array (``LEGACY_GLOBALS``), in a scope that ends with the read.

torch's format is a zip archive whose records carry a CRC32 each, which torch does not check: a flipped
bit in a tensor's bytes would load as a wrong weight, and training would go on from it. So each read first
checks every record's CRC32 (``zipfile``, one sequential pass over the file: a file is read twice, measured
at 1.7 GB/s for the check here), then loads.

A read tells three outcomes apart: the object; ``Corrupt`` (the bytes arrived and are not a checkpoint:
truncated, garbled, a failed CRC, a foreign pickle, a refused global); or an error of the store, raised as
the storage translates it (may pass, will not pass), or ``FileNotFoundError`` when the file went away.
"""

from __future__ import annotations

import importlib
import pickle
import re
import warnings
import zipfile
from typing import IO, Any, cast

import numpy as np
import torch

from workloads.checkpoint.errors import one_line
from workloads.checkpoint.faults import Watched
from workloads.checkpoint.storage import CheckpointStorage

# What rebuilds the uint32 ndarray of np.random.get_state() and nothing else: the array's reconstructor,
# its class, its dtype and the dtype's class.
LEGACY_GLOBALS: tuple[Any, ...] = (
    importlib.import_module("numpy._core.multiarray")._reconstruct,
    np.ndarray,
    np.dtype,
    type(np.dtype(np.uint32)),
)

# How torch's weights-only unpickler names what it refused ("Unsupported global: GLOBAL posix.system ...").
_REFUSED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)|but got <class '([^']+)'>")


class Corrupt(Exception):
    """The file was read and is not a loadable checkpoint; the message says why, in a few words."""


def save(handle: IO[bytes], state: dict[str, Any]) -> None:
    torch.save(state, handle)


def load(
    storage: CheckpointStorage, name: str, *, map_location: str | torch.device, legacy: bool = False
) -> Any:
    """What ``name`` holds, read with the weights-only unpickler (plus ``LEGACY_GLOBALS`` for ``legacy``)."""
    raw = storage.open(name)  # FileNotFoundError, or the store's error, before any byte is read
    with raw:
        handle = Watched(raw)
        try:
            _check_crcs(handle)
            allowed = list(LEGACY_GLOBALS) if legacy else []
            with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
                # A foreign pickle's protocol draws a UserWarning before the load fails anyway.
                warnings.simplefilter("ignore")
                return torch.load(cast(IO[bytes], handle), map_location=map_location, weights_only=True)
        except Corrupt:
            raise
        except Exception as error:
            if handle.failure is not None:  # the store failed mid-read, whatever torch made of it
                if isinstance(handle.failure, FileNotFoundError):
                    raise handle.failure from None
                storage.read_failed(name, handle.failure)
            raise Corrupt(_reason(error)) from None


def _check_crcs(handle: Watched) -> None:
    """Raise ``Corrupt`` if a record of the zip archive fails its CRC32; files that are no zip archive are
    left to ``torch.load`` (which refuses them, or reads torch's older format with the same unpickler)."""
    file = cast(IO[bytes], handle)
    if zipfile.is_zipfile(file):
        with zipfile.ZipFile(file) as archive:  # a file passed in is not closed with the archive
            failed = archive.testzip()
        if failed is not None:
            raise Corrupt(f"{failed} fails its CRC32 check")
    file.seek(0)


def _reason(error: Exception) -> str:
    """A few words for why torch could not load the file; its weights-only messages run to ten lines."""
    text = str(error)
    if isinstance(error, pickle.UnpicklingError):
        refused = _REFUSED_GLOBAL.search(text)
        if refused:
            what = refused.group(1) or refused.group(2)
            return f"refused to rebuild {what} (only tensors and plain values are loaded)"
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return f"not a weights-only checkpoint ({first[:200]})" if first else "not a weights-only checkpoint"
    return f"{type(error).__name__}: {one_line(error)[:300]}"
