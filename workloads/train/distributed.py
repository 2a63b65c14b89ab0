"""Process-group setup from torchrun's environment, and the few collectives the trainer needs.

Without torchrun (or with a world of one) there is no process group and every helper here is a no-op,
so ``python -m workloads.train`` works on a laptop. NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from workloads.train.memlock import warn_if_memlock_too_low


@dataclass(frozen=True)
class Runtime:
    """Where this process sits: its rank, the world's size, and the device it trains on."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_runtime() -> Runtime:
    """Join the process group torchrun describes in RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR."""
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1:
        if device.type == "cuda":
            if local_rank == 0:  # one line per node: the limit is the node's
                warn_if_memlock_too_low()
            # Bound to the device, NCCL initialises eagerly: a broken fabric fails here, not mid-step.
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
    return Runtime(rank=rank, local_rank=local_rank, world_size=world_size, device=device)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def agree(runtime: Runtime, loss: torch.Tensor, stop: bool) -> tuple[float, bool]:
    """Mean loss over ranks, and whether any rank was asked to stop: one small all-reduce per step.

    Every rank leaves the loop at the same step only because each one takes the same decision from the
    same reduced flag; a rank that stopped on its own would leave the others waiting in a collective.
    """
    packed = torch.stack([loss.detach().float(), torch.tensor(float(stop), device=loss.device)])
    if runtime.distributed:
        dist.all_reduce(packed)
    total_loss, stops = packed.tolist()
    return total_loss / runtime.world_size, stops > 0


def broadcast_ints(runtime: Runtime, values: list[int]) -> list[int]:
    """Rank 0's ``values`` on every rank."""
    if not runtime.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.int64, device=runtime.device)
    dist.broadcast(tensor, src=0)
    return [int(value) for value in tensor.tolist()]


def agree_status(runtime: Runtime, status: int) -> int:
    """The largest of every rank's ``status`` on every rank: 0 only where all are 0.

    How one rank's failure becomes every rank's, so that they all stop at the same point instead of some
    waiting forever in the next collective for one that has left.
    """
    if not runtime.distributed:
        return status
    tensor = torch.tensor([status], dtype=torch.int64, device=runtime.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def gather_to_main(runtime: Runtime, obj: Any) -> list[Any] | None:
    """Every rank's ``obj`` as a list on rank 0 (None elsewhere); pickled, so keep it small."""
    if not runtime.distributed:
        return [obj]
    gathered: list[Any] | None = [None] * runtime.world_size if runtime.is_main else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered
