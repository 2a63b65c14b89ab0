"""The four files of one export as bytes, and those files back as our model's weights.

``model.safetensors`` holds the weights in GPT-2's names and layout (``gpt2``), float32 as trained, with
the training step and the SHA-256 of its tensor bytes in its metadata (``lepton.step``,
``lepton.sha256``; safetensors' metadata is free-form text, which transformers and vLLM ignore beside
``format``). safetensors itself checks no sum: a flipped bit would load as a wrong weight, so our reader
checks it, as the checkpoints' reader checks their CRCs. Nothing else of training goes in: no optimizer,
no data position, no pickle. Reading back never runs code either: JSON and safetensors hold data only.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from workloads.export import gpt2
from workloads.export.tokenizer import dumps, tokenizer_config_json, tokenizer_json
from workloads.model import ModelConfig

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# The order a writer writes them in: the weights (the big one) first, so that a store that fills up fails
# before anything else was written.
WRITE_ORDER = (WEIGHTS, CONFIG, TOKENIZER, TOKENIZER_CONFIG)
STEP_METADATA = "lepton.step"
DIGEST_METADATA = "lepton.sha256"
# safetensors' header: its length (8 bytes, little-endian), then that many bytes of JSON.
_HEADER_LENGTH = struct.Struct("<Q")
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit


class NotAnExport(Exception):
    """The files were read and are not an export of our model; the message says why, in a few words."""


def encode(step: int, weights: Mapping[str, torch.Tensor], config: ModelConfig) -> dict[str, bytes]:
    """The files of the export of ``step``: our ``GPT.state_dict()`` ``weights`` of shape ``config``."""
    tensors = gpt2.hf_weights(weights, config)
    metadata = {"format": "pt", STEP_METADATA: str(step)}
    # The tensors' bytes and their layout do not depend on the metadata: the digest of a first
    # serialization is that of the second.
    digest = hashlib.sha256(_tensor_bytes(save_tensors(tensors, metadata=metadata))).hexdigest()
    return {
        WEIGHTS: save_tensors(tensors, metadata={**metadata, DIGEST_METADATA: digest}),
        CONFIG: dumps(gpt2.hf_config(config)),
        TOKENIZER: dumps(tokenizer_json()),
        TOKENIZER_CONFIG: dumps(tokenizer_config_json(config.seq_len)),
    }


def decode(config_bytes: bytes, weights_bytes: bytes, *, step: int | None = None) -> dict[str, Any]:
    """``{"step", "model_config", "model"}``, as a checkpoint's weights file holds them, from an export's
    ``config.json`` and ``model.safetensors``. ``step``: the one its location names, which the weights must
    say too, where they say one; None takes theirs (0 if they say none: written by another tool).
    ``NotAnExport`` when the files are not an export of our model."""
    try:
        config = gpt2.model_config(json.loads(config_bytes.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAnExport(f"{CONFIG} is not JSON ({error})") from None
    except gpt2.NotGPT2 as error:
        raise NotAnExport(str(error)) from None
    _check_digest(weights_bytes)
    written = weights_step(weights_bytes)
    if step is not None and written is not None and written != step:
        raise NotAnExport(f"{WEIGHTS} says it is step {written}, its location says {step}")
    try:
        tensors = load_tensors(weights_bytes)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise NotAnExport(f"{WEIGHTS} does not load ({' '.join(str(error).split())[:200]})") from None
    try:
        model = gpt2.our_weights(tensors, config)
    except gpt2.NotGPT2 as error:
        raise NotAnExport(str(error)) from None
    found = written if written is not None else step
    return {"step": 0 if found is None else found, "model_config": config.to_dict(), "model": model}


def weights_step(weights_bytes: bytes) -> int | None:
    """The training step ``model.safetensors`` records (None if its metadata has none); ``NotAnExport`` if it
    has no safetensors header."""
    step = _metadata(weights_bytes).get(STEP_METADATA)
    if step is None:
        return None
    if not (isinstance(step, str) and step.isdigit()):
        raise NotAnExport(f"{WEIGHTS}: its {STEP_METADATA} is {str(step)[:40]!r}, not a step")
    return int(step)


def _check_digest(weights_bytes: bytes) -> None:
    """``NotAnExport`` when the tensor bytes are not those the writer summed (a file without a sum, written
    by another tool, is taken as it is)."""
    recorded = _metadata(weights_bytes).get(DIGEST_METADATA)
    if recorded is not None and hashlib.sha256(_tensor_bytes(weights_bytes)).hexdigest() != recorded:
        raise NotAnExport(f"{WEIGHTS} fails its SHA-256 check: its tensors are not the bytes written")


def _header_end(weights_bytes: bytes) -> int:
    if len(weights_bytes) < _HEADER_LENGTH.size:
        raise NotAnExport(f"{WEIGHTS} is {len(weights_bytes)} bytes long, too short for safetensors")
    length: int = _HEADER_LENGTH.unpack_from(weights_bytes)[0]
    end = _HEADER_LENGTH.size + length
    if length > _MAX_HEADER_BYTES or end > len(weights_bytes):
        raise NotAnExport(f"{WEIGHTS} is truncated or not safetensors (header of {length} bytes)")
    return end


def _metadata(weights_bytes: bytes) -> dict[str, Any]:
    try:
        header = json.loads(weights_bytes[_HEADER_LENGTH.size : _header_end(weights_bytes)].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotAnExport(f"{WEIGHTS} is not safetensors (its header is not JSON)") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _tensor_bytes(weights_bytes: bytes) -> memoryview:
    return memoryview(weights_bytes)[_header_end(weights_bytes) :]
