"""What a training checkpoint holds beyond the weights, and how a run is put back exactly where it was.

Shared by all ranks: model (the plain ``GPT``'s state dict, never a compiled or DDP wrapper's, so the
server loads it as is), optimizer, scheduler, step and config. Per rank, in ``"ranks"[rank]``: the data
position and the random-number generators, which differ because each rank has its own shard and seed.

Everything here is a tensor or a plain value, so a checkpoint loads with ``weights_only=True`` and no
allowlist: numpy's generator state is stored as a dict with its keys in a tensor, not as the ``ndarray``
``np.random.get_state()`` returns (checkpoints of earlier versions hold that; ``restore_rng`` takes both).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

from workloads.model import GPT


def rank_state(data: dict[str, Any]) -> dict[str, Any]:
    """This rank's part of a checkpoint: its data position and every RNG a training step may draw from."""
    rng: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    return {"data": data, "rng": rng}


def restore_rng(rng: dict[str, Any]) -> None:
    random.setstate(rng["python"])
    saved = rng["numpy"]
    if isinstance(saved, dict):
        keys = saved["keys"].numpy().astype(np.uint32)
        np.random.set_state(
            (saved["bit_generator"], keys, saved["pos"], saved["has_gauss"], saved["cached_gaussian"])
        )
    else:  # a checkpoint of an earlier version: the tuple np.random.get_state() returns
        np.random.set_state(saved)
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])


def _numpy_state() -> dict[str, Any]:
    bit_generator, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    return {
        "bit_generator": str(bit_generator),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def checkpoint_state(
    model: GPT,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    train_config: dict[str, Any],
    ranks: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "model_config": model.config.to_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "train_config": train_config,
        "ranks": ranks,
    }


def load_training_state(
    state: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: LRScheduler
) -> None:
    """Weights, optimizer moments and schedule position; the caller restores its rank's part."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
