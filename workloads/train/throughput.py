"""Model FLOPs utilisation: achieved training FLOP/s over the GPU's dense bf16 peak.

Peaks are NVIDIA's dense (not 2:4 sparse) tensor-core figures for bf16, by the name CUDA reports;
an unknown device gets no MFU rather than a made-up one.
"""

from __future__ import annotations

import re

import torch

# Most specific first: "H100 PCIe" must not fall through to the SXM figure.
_PEAK_BF16_TFLOPS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), tflops)
    for pattern, tflops in (
        (r"\bH100\b.*\bNVL\b", 835.0),
        (r"\bH100\b.*\bPCIe\b", 756.0),
        (r"\bH100\b", 989.4),  # SXM5, "NVIDIA H100 80GB HBM3"
        (r"\bH200\b.*\bNVL\b", 835.0),
        (r"\bH200\b", 989.4),
        (r"\bA100\b", 312.0),
        (r"\bL40S\b", 362.1),
        (r"\bL4\b", 121.0),
        # AWS publishes no tensor figure for its A10G; 70 is the commonly measured one (below the A10's 125).
        (r"\bA10G\b", 70.0),
        # Turing has no bf16 tensor cores: this is its fp16 peak, the ceiling any 16-bit training can reach.
        (r"\bT4\b", 65.0),
    )
)


def peak_bf16_flops(device: torch.device) -> float | None:
    """Dense bf16 peak FLOP/s of ``device``, or None for a CPU or a GPU not in the table."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for pattern, tflops in _PEAK_BF16_TFLOPS:
        if pattern.search(name):
            return tflops * 1e12
    return None


def mfu(tokens_per_second: float, flops_per_token: float, devices: int, peak_flops: float) -> float:
    """Fraction of the ``devices``' combined peak that ``tokens_per_second`` of training amounts to."""
    return tokens_per_second * flops_per_token / (devices * peak_flops)
