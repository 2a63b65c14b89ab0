"""Exports written with the trainer's code (``ExportFolder.save``), shared by the export tests.

The model's every parameter is moved off its initial value: biases are zero and layer norms one at
initialisation, which would hide a missing bias or a swapped norm.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lepton_infra.contract import export_path
from workloads.export.folder import ExportFolder
from workloads.model import GPT, ModelConfig

CONFIG = ModelConfig(n_layer=2, n_head=4, n_embd=64, seq_len=64, dropout=0.1)
# What float32 allows between two correct implementations that sum in different orders (Conv1D's addmm
# against nn.Linear, an explicit softmax against SDPA's): measured at most 2e-6 on logits of about 3 here.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def trained_looking(seed: int, config: ModelConfig = CONFIG) -> GPT:
    """A model whose biases, layer norms and embeddings all differ from their initial values."""
    torch.manual_seed(seed)
    model = GPT(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return model.eval()


def export(location: Path, step: int, model: GPT, keep_last: int = 3) -> Path:
    """Export ``model`` as the trainer does at ``step``; returns the export's folder."""
    ExportFolder(location).save(step, model.state_dict(), model.config, keep_last=keep_last)
    return Path(export_path(str(location), step))
