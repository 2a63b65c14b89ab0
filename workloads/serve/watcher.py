"""Which checkpoint the server serves: it waits for the first one, and may follow training's newer ones.

On a fresh platform the inference Deployment starts before training has written anything. The server
listens at once (``/healthz`` 200, ``/readyz`` 503 ``waiting_for_checkpoint``) while this thread looks
for a checkpoint every ``--checkpoint-poll-s`` and says every minute where it looks and how long it has
waited; the newest checkpoint whose weights load goes to the engine, which warms up and turns ready. Only
``step-N.model.pt`` files are read, never training state.

Before a model is served, these end the process (``failure``, which the server turns into its status):
a first checkpoint that loads but does not fit the model (``BAD_INPUT``, loudly: a wrong image or flags);
a location that refuses the pod (``BAD_INPUT``); a store that did not answer through its retries
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

from lepton_infra.contract import ServeExit
from workloads.checkpoint import (
    CheckpointFolder,
    CheckpointStorageError,
    Location,
    Retry,
    State,
    StorageUnavailable,
    describe,
    faults,
)
from workloads.checkpoint.errors import one_line
from workloads.model import GPT, ModelConfig
from workloads.serve.engine import Engine

log = logging.getLogger(__name__)

# How often the wait for a first checkpoint is reported in the log.
WAIT_REPORT_EVERY_S = 60.0


class DoesNotFit(Exception):
    """A checkpoint's weights do not build the model its config describes."""


@dataclass(frozen=True)
class WatchFailure:
    """Why the server must exit, and with which status."""

    status: ServeExit
    message: str


def build_model(state: State, where: str) -> GPT:
    """The model a checkpoint's weights and config describe, on the CPU."""
    try:
        model = GPT(ModelConfig.from_dict(state["model_config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        # RuntimeError: load_state_dict's missing/unexpected keys or shape mismatches.
        raise DoesNotFit(f"{where} does not fit the model: {one_line(error)[:300]}") from None
    return model.eval()


def load_model(location: Location, device: torch.device) -> tuple[GPT, int]:
    """The model of the newest checkpoint in ``location`` whose weights load, and its step (no waiting)."""
    state = CheckpointFolder(location).latest("serving")
    if state is None:
        raise DoesNotFit(f"no loadable checkpoint (step-*.model.pt) in {str(location)!r}")
    step = int(state["step"])
    return build_model(state, describe(location, step)).to(device), step


class CheckpointWatcher:
    """A thread that finds the checkpoint to serve and installs it in ``engine``."""

    def __init__(
        self,
        location: str,
        engine: Engine,
        *,
        poll_s: float,
        follow: bool,
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
        self._folder = CheckpointFolder(location, retry=interruptible)
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

        state = self._folder.latest(
            "serving", newer_than=-1 if self.step is None else self.step, skip=self._refused, reading=reading
        )
        if first:
            self._engine.loading(None)
        if state is None:
            return
        step = int(state["step"])
        where = describe(self.location, step)
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
        log.info("serving step %d of %s", step, self.location)

    def _report_wait(self, waited_s: float) -> None:
        legacy = [step for step, kinds in self._folder.entries().items() if kinds == {"legacy"}]
        hint = ""
        if legacy:
            hint = (
                f"; {len(legacy)} checkpoint(s) there are in the single-file layout of earlier versions, "
                "which holds training state and is not served: `python -m workloads.checkpoint.split "
                f"{self.location}` writes their weights beside them"
            )
        if waited_s < self._report_every_s / 2:
            log.info(
                "no checkpoint to serve in %s yet (step-*.model.pt): waiting for training to write one, "
                "looking every %g s%s",
                self.location,
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
