"""AdamW and its learning-rate schedule: linear warm-up, then cosine decay to a tenth of the peak."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

# GPT-3 / nanoGPT settings: beta2 below Adam's 0.999 reacts faster to the loss spikes of LM training,
# and decaying to 10% rather than 0 keeps the last steps useful.
BETAS = (0.9, 0.95)
MIN_LR_RATIO = 0.1


def build_optimizer(
    model: nn.Module, lr: float, weight_decay: float, device: torch.device
) -> torch.optim.AdamW:
    """AdamW that decays matrices and embeddings only: decaying biases and norm gains only hurts."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    # The fused CUDA kernel updates all parameters in a few launches instead of several per tensor.
    return torch.optim.AdamW(groups, lr=lr, betas=BETAS, fused=device.type == "cuda")


def build_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, max_steps: int) -> LambdaLR:
    """Multiplier on the peak rate as a function of the optimizer steps already taken."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
        return MIN_LR_RATIO + (1.0 - MIN_LR_RATIO) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
