"""The training run: build, resume, step until done or asked to stop, checkpoint on the way out."""

from __future__ import annotations

import logging
import math
from contextlib import AbstractContextManager, nullcontext

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LRScheduler

from workloads.model import GPT
from workloads.train.checkpointing import Checkpointer
from workloads.train.config import TrainConfig
from workloads.train.corpus import open_corpus
from workloads.train.data import ShardSampler
from workloads.train.distributed import Runtime, agree, gather_to_main
from workloads.train.optim import build_optimizer, build_scheduler
from workloads.train.progress import Progress
from workloads.train.signals import StopRequest
from workloads.train.state import checkpoint_state, rank_state
from workloads.train.throughput import peak_bf16_flops

log = logging.getLogger(__name__)


class TrainingDiverged(Exception):
    """The loss stopped being a finite number; checkpointing now would only preserve the damage."""


class TrainStep:
    """One optimizer step: micro-batches (gradients all-reduced on the last only), clip, AdamW, schedule."""

    def __init__(
        self,
        model: GPT,
        optimizer: torch.optim.Optimizer,
        scheduler: LRScheduler,
        runtime: Runtime,
        *,
        grad_accum_steps: int,
        grad_clip: float,
        compile: bool,
    ) -> None:
        self._model = model
        self._optimizer = optimizer
        self._scheduler = scheduler
        self._device = runtime.device
        self._grad_accum_steps = grad_accum_steps
        self._grad_clip = grad_clip
        self._ddp: DistributedDataParallel | None = None
        forward: torch.nn.Module = model
        if runtime.distributed:
            device_ids = [runtime.local_rank] if runtime.device.type == "cuda" else None
            self._ddp = forward = DistributedDataParallel(model, device_ids=device_ids)
        # Compiling outside DDP lets Dynamo split graphs at gradient buckets: all-reduce overlaps backward.
        self._forward = torch.compile(forward) if compile else forward

    def _autocast(self) -> AbstractContextManager[object]:
        # bf16 needs no loss scaling; on the CPU autocast would only slow the small test models down.
        if self._device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

    def __call__(self, sampler: ShardSampler) -> torch.Tensor:
        """Run the step; returns this rank's loss, averaged over the micro-batches, still on the device."""
        total = torch.zeros((), device=self._device)
        for micro in range(self._grad_accum_steps):
            inputs, targets = (t.to(self._device, non_blocking=True) for t in sampler.next_batch())
            final = micro == self._grad_accum_steps - 1
            # Gradients of non-final micro-batches only accumulate locally; one all-reduce per step suffices.
            sync = self._ddp.no_sync() if self._ddp is not None and not final else nullcontext()
            with sync:
                with self._autocast():
                    logits = self._forward(inputs)
                    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
                torch.autograd.backward(loss / self._grad_accum_steps)
            total += loss.detach() / self._grad_accum_steps
        if self._grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self._model.parameters(), self._grad_clip)
        self._optimizer.step()
        self._scheduler.step()
        self._optimizer.zero_grad(set_to_none=True)
        return total


def run(config: TrainConfig, runtime: Runtime, stop: StopRequest) -> bool:
    """Train until ``config.max_steps`` or a stop request, checkpointing on rank 0 along the way.

    Returns True when a stop request (on this rank or another) ended the run early, after its checkpoint:
    the work is unfinished and a restart will resume it. Raises ``checkpointing.StorageFailure`` on every
    rank when the checkpoint store fails.
    """
    if runtime.device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(config.seed)
    model = GPT(config.model_config()).to(runtime.device)
    optimizer = build_optimizer(model, config.lr, config.weight_decay, runtime.device)
    scheduler = build_scheduler(optimizer, config.warmup_steps, config.max_steps)
    corpus = open_corpus(config.data)
    sampler = ShardSampler(
        corpus,
        rank=runtime.rank,
        world_size=runtime.world_size,
        seq_len=config.seq_len,
        batch_size=config.batch_size,
        seed=config.seed,
    )
    # Same seed above, so every rank starts from the same weights; from here on (dropout) ranks differ.
    torch.manual_seed(config.seed + runtime.rank)
    checkpoints = Checkpointer(config, runtime)
    start = checkpoints.resume(model, optimizer, scheduler, sampler)
    if start >= config.max_steps:
        log.info("checkpoint is at step %d, --max-steps is %d: nothing to do", start, config.max_steps)
        return False

    tokens_per_step = config.batch_size * config.seq_len * config.grad_accum_steps * runtime.world_size
    if runtime.is_main:
        log.info(
            "training %.2fM parameters on %d files (%.1f MB), %d rank(s) on %s, %d tokens per step, "
            "checkpoints in %s",
            model.num_parameters() / 1e6,
            len(corpus.files),
            corpus.total_bytes / 1e6,
            runtime.world_size,
            runtime.device.type,
            tokens_per_step,
            config.checkpoint_dir,
        )
    progress = Progress(
        enabled=runtime.is_main,
        log_every=config.log_every,
        tokens_per_step=tokens_per_step,
        flops_per_token=model.config.flops_per_token(),
        devices=runtime.world_size,
        peak_flops=peak_bf16_flops(runtime.device),
        metrics_port=config.metrics_port,
    )
    train_step = TrainStep(
        model,
        optimizer,
        scheduler,
        runtime,
        grad_accum_steps=config.grad_accum_steps,
        grad_clip=config.grad_clip,
        compile=config.compile,
    )

    def checkpoint(step: int) -> None:
        ranks = gather_to_main(runtime, rank_state(sampler.state_dict()))
        state = None
        if ranks is not None:
            state = checkpoint_state(model, optimizer, scheduler, config.to_dict(), ranks)
        written = checkpoints.save(step, state)
        if written is not None:
            progress.on_checkpoint(step)
            log.info("wrote checkpoint %s", written)

    progress.start_interval()
    for step in range(start + 1, config.max_steps + 1):
        lr = optimizer.param_groups[0]["lr"]
        loss, stopping = agree(runtime, train_step(sampler), stop.requested)
        if not math.isfinite(loss):
            raise TrainingDiverged(f"loss is {loss} at step {step}; keeping the last checkpoint untouched")
        progress.on_step(step, loss, lr)
        if stopping or step == config.max_steps or step % config.checkpoint_every == 0:
            checkpoint(step)
        if stopping and step < config.max_steps:
            reason = f"received {stop.signal.name}" if stop.signal else "another rank was asked to stop"
            log.info("stopping after step %d: %s", step, reason)
            return True
    log.info("finished at step %d", config.max_steps)
    return False
