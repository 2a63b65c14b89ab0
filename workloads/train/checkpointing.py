"""The trainer's side of checkpoints: resume exactly, save, and stop all together when the store fails.

Rank 0 reads and writes (the other ranks load the checkpoint rank 0 chose); every outcome that ends the run
is agreed on in a collective, so all ranks stop at the same point with the same status instead of some
waiting in the next collective for one that has left. What the store's failures become:

- the store did not answer through its retries: ``TrainExit.STORAGE_UNAVAILABLE``, never a silent resume
  from an older checkpoint;
- no space left, even after removing older checkpoints (the newest that loads is kept):
  ``TrainExit.NO_SPACE``; the check also runs before the first step, so a retried pod on a disk that is
  still full fails within seconds instead of after ``--checkpoint-every`` steps;
- the store refuses the pod (permission, read-only) or is not usable here: ``TrainExit.BAD_INPUT``.

A checkpoint file that does not load (corrupt, truncated, foreign, refused by the weights-only unpickler)
is skipped with a warning and the one before it is used.

With ``--export`` (the default), each checkpoint is followed by its weights-only export
(``workloads.export``): the checkpoint first, since it is what a restart needs; then the export, whose
store failures end the run with the same statuses. A run that resumes from a checkpoint newer than the
export ``latest`` names (its export failed, or it was written before exports existed) exports it first.
"""

from __future__ import annotations

import logging
from typing import Any

from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lepton_infra.contract import TrainExit
from workloads.checkpoint import (
    CheckpointFolder,
    CheckpointStorageError,
    NoSpaceLeft,
    Retry,
    StorageUnavailable,
    describe,
    faults,
)
from workloads.checkpoint.faults import retrying
from workloads.checkpoint.storage import check_writable
from workloads.export.folder import ExportFolder
from workloads.model import GPT, ModelConfig
from workloads.train.config import TrainConfig
from workloads.train.data import ShardSampler
from workloads.train.distributed import Runtime, agree_status, broadcast_ints
from workloads.train.state import load_training_state, restore_rng

log = logging.getLogger(__name__)

# A checkpoint holds the weights and AdamW's two moments of each, all fp32: about three copies of them; its
# export, one more.
_COPIES_PER_CHECKPOINT = 3
_COPIES_PER_EXPORT = 1


class StorageFailure(Exception):
    """Every rank stops with ``status``; ``message`` (one line) where this rank knows what happened."""

    def __init__(self, status: TrainExit, message: str | None) -> None:
        super().__init__(message or f"stopping with status {int(status)}, as another rank reported")
        self.status = status
        self.message = message


class SetupError(Exception):
    """The run cannot resume as configured (a checkpoint of another model shape); the message says why."""


def status_of(error: CheckpointStorageError) -> TrainExit:
    if isinstance(error, NoSpaceLeft):
        return TrainExit.NO_SPACE
    if isinstance(error, StorageUnavailable):
        return TrainExit.STORAGE_UNAVAILABLE
    return TrainExit.BAD_INPUT


class Checkpointer:
    """Checkpoints of one run, in ``config.checkpoint_dir``."""

    def __init__(self, config: TrainConfig, runtime: Runtime, *, retry: Retry | None = None) -> None:
        self._config = config
        self._runtime = runtime
        self._retry = retry or faults.DEFAULT_RETRY
        self._folder = CheckpointFolder(config.checkpoint_dir, retry=retry)
        self._exports = ExportFolder(config.checkpoint_dir, retry=retry) if config.export else None

    def resume(self, model: GPT, optimizer: Optimizer, scheduler: LRScheduler, sampler: ShardSampler) -> int:
        """Restore the newest checkpoint that loads; returns its step, or 0 for a fresh start.

        Rank 0 also proves the location writable (the first checkpoint may be due hours from now) and
        that the next checkpoint fits. Rank 0 chooses and the others load that same file: ranks that each
        picked "their" newest could disagree (a file still arriving on a network mount) and then train
        different models.
        """
        runtime = self._runtime
        state: dict[str, Any] | None = None
        status, step, message = 0, 0, None
        if runtime.is_main:
            try:
                retrying(self._retry, lambda: check_writable(self._config.checkpoint_dir))
                state = self._folder.latest("training")
                step = 0 if state is None else int(state["step"])
                self._folder.ensure_room(step, self._need_bytes(model, step))
                if state is not None and state["model_config"] == model.config.to_dict():
                    self._catch_up_export(state)
            except CheckpointStorageError as error:
                status, message = status_of(error), str(error)
        status, step = broadcast_ints(runtime, [status, step])
        if status:
            raise StorageFailure(TrainExit(status), message)
        if step == 0:
            return 0
        status = 0
        if state is None:
            try:
                state = self._folder.load(step, "training")
            except CheckpointStorageError as error:
                status, message = status_of(error), str(error)
            else:
                if state is None:
                    status = TrainExit.BAD_INPUT
                    message = (
                        f"rank {runtime.rank} cannot load {describe(self._config.checkpoint_dir, step)}, "
                        "which rank 0 resumes from: every node must mount the same checkpoint folder"
                    )
        status = agree_status(runtime, status)
        if status:
            raise StorageFailure(TrainExit(status), message)
        assert state is not None
        self._restore(state, step, model=model, optimizer=optimizer, scheduler=scheduler, sampler=sampler)
        self._folder.mark_loadable(step)
        return step

    def save(self, step: int, state: dict[str, Any] | None) -> str | None:
        """Write ``state`` (rank 0's; None on the others) as checkpoint ``step``; all ranks learn the
        outcome, and all raise ``StorageFailure`` if it failed. Returns what was written, on rank 0."""
        status, message, written = 0, None, None
        if state is not None:
            try:
                written = self._folder.save(step, state, keep_last=self._config.keep_last)
                if self._exports is not None:
                    config = ModelConfig.from_dict(state["model_config"])
                    self._exports.save(step, state["model"], config, keep_last=self._config.keep_last)
            except CheckpointStorageError as error:
                status, message = status_of(error), str(error)
        [status] = broadcast_ints(self._runtime, [status])
        if status:
            raise StorageFailure(TrainExit(status), message)
        return written

    def _catch_up_export(self, state: dict[str, Any]) -> None:
        """Export the checkpoint resumed from, unless ``latest`` names it or a newer export already."""
        if self._exports is None:
            return
        step, named = int(state["step"]), self._exports.latest_step()
        if named is None or named < step:
            config = ModelConfig.from_dict(state["model_config"])
            written = self._exports.save(step, state["model"], config, keep_last=self._config.keep_last)
            log.info("exported %s, which had no export yet", written)

    def _restore(
        self,
        state: dict[str, Any],
        step: int,
        *,
        model: GPT,
        optimizer: Optimizer,
        scheduler: LRScheduler,
        sampler: ShardSampler,
    ) -> None:
        where = describe(self._config.checkpoint_dir, step)
        if state["model_config"] != model.config.to_dict():
            raise SetupError(
                f"{where} holds a model of shape {state['model_config']}, not {model.config.to_dict()}: "
                "use the same model flags, or another --checkpoint-dir"
            )
        load_training_state(state, model, optimizer, scheduler)
        ranks = state["ranks"]
        if len(ranks) == self._runtime.world_size:
            sampler.load_state_dict(ranks[self._runtime.rank]["data"])
            restore_rng(ranks[self._runtime.rank]["rng"])
        else:
            # Shards are cut by world size, so saved positions cannot carry over; the sampler starts anew.
            sampler.load_state_dict(ranks[0]["data"])
        if self._runtime.is_main:
            log.info("resumed from %s", where)

    def _need_bytes(self, model: nn.Module, step: int) -> int:
        weights = sum(int(t.numel()) * int(t.element_size()) for t in model.state_dict().values())
        export = _COPIES_PER_EXPORT * weights if self._exports is not None else 0
        estimate = _COPIES_PER_CHECKPOINT * weights
        return (max(estimate, self._folder.size_of(step)) if step else estimate) + export
