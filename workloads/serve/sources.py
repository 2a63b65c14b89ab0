"""Where the server finds the weights to serve: a checkpoint location, or one export directory.

- A checkpoint location (``--checkpoint-dir``): the newest step among the export ``export/latest`` names
  and the checkpoints' weights files (``step-N.model.pt``). At equal steps the export is read: it is what
  vLLM and the platform's stager read, so every engine of a platform serves the very same bytes. The
  weights files remain the fallback: for locations written before exports existed, for a step whose
  export failed, and for an export that does not load. Both hold the same float32 weights of a step, so
  whichever is read, the model served is the same (``tests/workloads/test_export_handoff.py``).
- One export directory (``--model-dir``): a folder the stager filled, or any export; read once.

Either way the weights arrive as ``{"step", "model_config", "model"}`` on the CPU, never training state,
and without running code (weights-only unpickler, JSON, safetensors); the engine moves them to its device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from functools import partial
from typing import Any, Protocol

from lepton_infra.contract import EXPORT_FILES
from workloads.checkpoint import CheckpointFolder, Retry, State, describe
from workloads.checkpoint.errors import one_line
from workloads.checkpoint.faults import retrying
from workloads.checkpoint.storage import open_storage
from workloads.export import files
from workloads.export.folder import ExportFolder, read_file
from workloads.model import GPT, ModelConfig

log = logging.getLogger(__name__)


class DoesNotFit(Exception):
    """Weights that do not build the model their config describes, or a folder that holds none."""


class ModelSource(Protocol):
    """What the server's watcher asks of the place it serves from."""

    location: str

    def newest(
        self, *, newer_than: int, skip: Container[int], reading: Callable[[int], object]
    ) -> tuple[State, str] | None:
        """The newest weights after step ``newer_than`` that load, leaving out ``skip``, and how messages
        name them; None if there are none (yet). ``reading(step)`` is called before each step is read."""
        ...

    def waiting_hint(self) -> str:
        """What the log adds while no weights have been found ("" or "; ..."): a hint at what to do."""
        ...


def build_model(state: State, where: str) -> GPT:
    """The model a checkpoint's or an export's weights and config describe, on the CPU."""
    try:
        model = GPT(ModelConfig.from_dict(state["model_config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        # RuntimeError: load_state_dict's missing/unexpected keys or shape mismatches.
        raise DoesNotFit(f"{where} does not fit the model: {one_line(error)[:300]}") from None
    return model.eval()


class CheckpointLocation:
    """The exports and the checkpoints' weights files of one location, exports first at equal steps."""

    def __init__(self, location: str, *, retry: Retry) -> None:
        self.location = location
        self._checkpoints = CheckpointFolder(location, retry=retry)
        self._exports = ExportFolder(location, retry=retry)

    def newest(
        self, *, newer_than: int, skip: Container[int], reading: Callable[[int], object]
    ) -> tuple[State, str] | None:
        exported = self._exports.latest_step()
        checkpoints = set(self._checkpoints.steps("serving"))
        for step in sorted(checkpoints | ({exported} if exported is not None else set()), reverse=True):
            if step <= newer_than:
                break
            if step in skip:
                continue
            reading(step)
            if step == exported and (state := self._exports.load(step)) is not None:
                return state, self._exports.path(step)
            if step in checkpoints and (state := self._checkpoints.load(step, "serving")) is not None:
                return state, describe(self.location, step)
        return None

    def waiting_hint(self) -> str:
        legacy = [step for step, kinds in self._checkpoints.entries().items() if kinds == {"legacy"}]
        if not legacy:
            return ""
        return (
            f"; {len(legacy)} checkpoint(s) there are in the single-file layout of earlier versions, "
            "which holds training state and is not served: `python -m workloads.checkpoint.split "
            f"{self.location}` writes their weights beside them"
        )


class ExportDirectory:
    """One export's files in one folder (``--model-dir``), read once: they do not change under a server."""

    def __init__(self, location: str, *, retry: Retry) -> None:
        self.location = location
        self._storage = open_storage(location)
        self._retry = retry

    def newest(
        self, *, newer_than: int, skip: Container[int], reading: Callable[[int], object]
    ) -> tuple[State, str] | None:
        if newer_than >= 0:
            return None  # served already
        present = set(retrying(self._retry, self._storage.names))
        missing = [name for name in EXPORT_FILES if name not in present]
        if missing:
            raise DoesNotFit(f"{self.location} is not a model export: it lacks {', '.join(missing)}")
        reading(0)
        try:
            config = retrying(self._retry, partial(read_file, self._storage, files.CONFIG))
            weights = retrying(self._retry, partial(read_file, self._storage, files.WEIGHTS))
            state: dict[str, Any] = files.decode(config, weights)
        except FileNotFoundError:
            raise DoesNotFit(f"{self.location}: its files went away while being read") from None
        except files.NotAnExport as error:
            raise DoesNotFit(f"{self.location} is not an export of this model: {error}") from None
        return state, f"{self.location} (step {state['step']})"

    def waiting_hint(self) -> str:
        return ""  # never waits: a folder without an export is refused at once
