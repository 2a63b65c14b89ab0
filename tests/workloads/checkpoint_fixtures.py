"""Shared helpers of the checkpoint tests: a small state shaped like the trainer's."""

from __future__ import annotations

import torch


def training_state(step: float, width: int = 4) -> dict[str, object]:
    """What the trainer hands ``save_checkpoint``: weights and shape, and training state; values follow
    ``step`` so a test can tell checkpoints apart."""
    return {
        "model": {"weight": torch.full((width, width), float(step))},
        "model_config": {"n_layer": 1},
        "optimizer": {"state": {}, "param_groups": []},
        "scheduler": {"last_epoch": int(step)},
        "ranks": [{"data": {"epoch": 0, "cursor": int(step)}}],
    }
