"""Which weights the server serves: it waits for the first, and may follow training's newer ones.

On a fresh platform the inference Deployment starts before training has written anything. The server
listens at once (``/healthz`` 200, ``/readyz`` 503 ``waiting_for_checkpoint``) while this thread looks
for weights every ``--checkpoint-poll-s`` and says every minute where it looks and how long it has
waited; the newest that load go to the engine, which warms them up and turns ready. Where it looks is a
``sources.ModelSource``: a checkpoint location (its export ``latest`` names, or its ``step-N.model.pt``
files: never training state), or one export directory (``--model-dir``).

Before a model is served, these end the process (``failure``, which the server turns into its status):
first weights that load but do not fit the model (``BAD_INPUT``, loudly: a wrong image or flags); a
location that refuses the pod (``BAD_INPUT``); a store that did not answer through its retries
(``STORAGE_UNAVAILABLE``). A file that does not load is skipped with one warning, and the wait goes on.
With ``--follow-checkpoints`` the thread keeps looking once serving, and hands the engine each newer step of
the same shape; then nothing ends the process: a warning, and the model it has keeps serving.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lepton_infra.contract import EXPORT_DIR, ServeExit
from workloads.checkpoint import (
    CheckpointStorageError,
    Location,
    Retry,
    StorageUnavailable,
    faults,
)
from workloads.checkpoint.errors import one_line
from workloads.model import GPT
from workloads.serve.engine import Engine
from workloads.serve.sources import CheckpointLocation, DoesNotFit, ExportDirectory, ModelSource, build_model

log = logging.getLogger(__name__)

# How often the wait for a first checkpoint is reported in the log.
WAIT_REPORT_EVERY_S = 60.0

__all__ = ["CheckpointWatcher", "DoesNotFit", "WatchFailure", "build_model", "load_model"]


@dataclass(frozen=True)
class WatchFailure:
    """Why the server must exit, and with which status."""

    status: ServeExit
    message: str


def load_model(location: Location, device: torch.device, *, model_dir: bool = False) -> tuple[GPT, int]:
    """The model of the newest weights in ``location`` that load (of the export in it, with ``model_dir``),
    and its step (no waiting)."""
    source = _source(str(location), model_dir, faults.DEFAULT_RETRY)
    found = source.newest(newer_than=-1, skip=(), reading=lambda _step: None)
    if found is None:
        raise DoesNotFit(f"no loadable weights in {str(location)!r} (an export or step-*.model.pt)")
    state, where = found
    return build_model(state, where).to(device), int(state["step"])


def _source(location: str, model_dir: bool, retry: Retry) -> ModelSource:
    return ExportDirectory(location, retry=retry) if model_dir else CheckpointLocation(location, retry=retry)


class CheckpointWatcher:
    """A thread that finds the weights to serve in ``location`` and installs them in ``engine``.

    ``location`` is a checkpoint location, or with ``model_dir`` one export directory.
    """

    def __init__(
        self,
        location: str,
        engine: Engine,
        *,
        poll_s: float,
        follow: bool,
        model_dir: bool = False,
        retry: Retry | None = None,
        clock: Callable[[], float] = time.monotonic,
        report_every_s: float = WAIT_REPORT_EVERY_S,
    ) -> None:
        self.location = location
        self._engine = engine
        self._poll_s = poll_s
        self._follow = follow
        self._clock = clock
        self._report_every_s = report_every_s
        self._stopped = threading.Event()
        # Retries wait on the stop event, so that SIGTERM does not wait for them.
        interruptible = dataclasses.replace(retry or faults.DEFAULT_RETRY, sleep=self._stopped.wait)
        self._source = _source(location, model_dir, interruptible)
        self._refused: set[int] = set()  # steps that load but will not be served
        self.step: int | None = None  # the step handed to the engine last
        self.failure: WatchFailure | None = None
        self._thread = threading.Thread(target=self._run, name="checkpoint-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # No join: a read in progress may take long, and the thread holds nothing that needs closing.
        self._stopped.set()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._watch()
        except Exception as error:  # a bug: the server exits 1, the traceback in its log
            log.exception("the checkpoint watcher failed")
            self.failure = WatchFailure(ServeExit.FAILED, f"the checkpoint watcher failed: {one_line(error)}")

    def _watch(self) -> None:
        started = self._clock()
        next_report = started
        while not self._stopped.is_set():
            try:
                self._look()
            except (CheckpointStorageError, DoesNotFit) as error:
                if self.step is None:
                    if not self._stopped.is_set():
                        self.failure = WatchFailure(_status(error), str(error))
                    return
                log.warning("%s; still serving step %d", error, self.step)
            if self.step is not None and not self._follow:
                return
            now = self._clock()
            if self.step is None and now >= next_report:
                self._report_wait(now - started)
                next_report += self._report_every_s
            self._stopped.wait(self._poll_s)

    def _look(self) -> None:
        """Hand the engine the newest servable checkpoint newer than the one it has, if there is one."""
        first = self.step is None

        def reading(step: int) -> None:
            if first:
                self._engine.loading(step)

        found = self._source.newest(
            newer_than=-1 if self.step is None else self.step, skip=self._refused, reading=reading
        )
        if first:
            self._engine.loading(None)
        if found is None:
            return
        state, where = found
        step = int(state["step"])
        try:
            model = build_model(state, where)
            if not first and model.config != self._engine.model_config:
                raise DoesNotFit(
                    f"{where} holds a model of another shape than the one served: restart the server to "
                    "serve it"
                )
        except DoesNotFit:
            if first:
                raise
            self._refused.add(step)
            raise
        self._engine.install(model, step)
        self.step = step
        log.info("serving step %d from %s", step, where)

    def _report_wait(self, waited_s: float) -> None:
        hint = self._source.waiting_hint()
        if waited_s < self._report_every_s / 2:
            log.info(
                "no checkpoint to serve in %s yet (%s/latest or step-*.model.pt): waiting for training to "
                "write one, looking every %g s%s",
                self.location,
                EXPORT_DIR,
                self._poll_s,
                hint,
            )
        else:
            log.info(
                "still waiting for a first checkpoint in %s: %.0f s so far%s", self.location, waited_s, hint
            )


def _status(error: Exception) -> ServeExit:
    if isinstance(error, StorageUnavailable):
        return ServeExit.STORAGE_UNAVAILABLE
    return ServeExit.BAD_INPUT
