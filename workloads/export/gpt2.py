"""Our ``GPT`` as Hugging Face's GPT-2, exactly: its ``config.json`` and its weight names, and back.

Our model is GPT-2's architecture, so the export needs no code of its own anywhere (transformers'
``GPT2LMHeadModel``, vLLM's ``GPT2LMHeadModel``). What has to be said for the match to be exact, field by
field (``workloads/model.py`` against transformers' ``modeling_gpt2.py``):

- activation: ``F.gelu``, the exact (erf) GELU: ``"gelu"``, not GPT-2's default ``"gelu_new"`` (the tanh
  approximation, which differs by up to ~1e-3 per activation);
- every ``nn.Linear`` and ``nn.LayerNorm`` has a bias (zero at initialisation, trained after), as GPT-2's
  ``Conv1D`` and ``LayerNorm`` do; layer norms at PyTorch's default eps, 1e-5, GPT-2's
  ``layer_norm_epsilon``; pre-norm blocks and a final ``ln_f``, as GPT-2;
- MLP width ``4 * n_embd`` (``n_inner``); attention scaled by ``1/sqrt(head_dim)`` (``scale_attn_weights``),
  not by layer index, no upcast reordering (vLLM asserts both off);
- learned absolute positions (``wpe``, ``n_positions`` = our ``seq_len``), the LM head tied to the token
  embedding (``tie_word_embeddings``), no bias on it;
- GPT-2 stores its projections as ``Conv1D`` (``y = x @ W + b``, ``W`` of shape (in, out)), the transpose of
  ``nn.Linear``'s weight: each is transposed on the way out and back on the way in, which is exact;
- no special tokens: the 256 ids are the 256 byte values, so ``bos_token_id`` and ``eos_token_id`` are null
  and generation ends on ``max_tokens`` or a stop string, as on our server.

Dropout acts only on attention probabilities in our model (``attn_pdrop``); inference never applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from workloads.model import ModelConfig

# transformers' name of the exact GELU (ACT2FN["gelu"] is nn.GELU()); vLLM maps it to nn.GELU() as well.
ACTIVATION = "gelu"
# nn.LayerNorm's default, which workloads/model.py uses.
LAYER_NORM_EPS = 1e-5
# Where transformers' GPT2LMHeadModel keeps the trunk (what save_pretrained writes, and vLLM expects).
_PREFIX = "transformer."
# Our projections (nn.Linear) and GPT-2's (Conv1D) in each block.
_PROJECTIONS = {
    "attn.qkv": "attn.c_attn",
    "attn.proj": "attn.c_proj",
    "mlp.fc": "mlp.c_fc",
    "mlp.proj": "mlp.c_proj",
}
_NORMS = ("ln_1", "ln_2")


class NotGPT2(ValueError):
    """A ``config.json`` or set of weights that is not our model in GPT-2's form; the message says why."""


def hf_config(config: ModelConfig) -> dict[str, Any]:
    """``config.json`` of ``config``: transformers' ``GPT2Config`` fields, every one that decides the math."""
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.seq_len,
        "n_embd": config.n_embd,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_inner": 4 * config.n_embd,
        "activation_function": ACTIVATION,
        "layer_norm_epsilon": LAYER_NORM_EPS,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": config.dropout,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "add_cross_attention": False,
        "tie_word_embeddings": True,
        "bos_token_id": None,
        "eos_token_id": None,
        "use_cache": True,
        "torch_dtype": "float32",
    }


# Fields whose value must be exactly this for the weights to mean what our model computes.
_FIXED: dict[str, Any] = {
    "model_type": "gpt2",
    "activation_function": ACTIVATION,
    "layer_norm_epsilon": LAYER_NORM_EPS,
    "scale_attn_weights": True,
    "scale_attn_by_inverse_layer_idx": False,
    "reorder_and_upcast_attn": False,
    "add_cross_attention": False,
    "tie_word_embeddings": True,
}


def model_config(hf: Mapping[str, Any]) -> ModelConfig:
    """Our ``ModelConfig`` from a ``config.json``; ``NotGPT2`` naming the field if it describes another model.

    Fields transformers would default are read with GPT2Config's defaults, so a field left out means what
    it means to transformers and vLLM.
    """
    if not isinstance(hf, Mapping):
        raise NotGPT2(f"config.json holds a {type(hf).__name__}, not an object")
    defaults = {"activation_function": "gelu_new", "layer_norm_epsilon": LAYER_NORM_EPS}
    defaults |= {"scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False}
    defaults |= {"reorder_and_upcast_attn": False, "add_cross_attention": False, "tie_word_embeddings": True}
    for field, wanted in _FIXED.items():
        value = hf.get(field, defaults.get(field))
        if value != wanted or type(value) is not type(wanted):
            raise NotGPT2(f"config.json: {field} is {value!r}; this model needs {wanted!r}")
    shape: dict[str, int] = {}
    for ours, theirs in (("n_layer", "n_layer"), ("n_head", "n_head"), ("n_embd", "n_embd")):
        shape[ours] = _integer(hf, theirs)
    shape["seq_len"] = _integer(hf, "n_positions")
    shape["vocab_size"] = _integer(hf, "vocab_size")
    inner = hf.get("n_inner")
    if inner is not None and inner != 4 * shape["n_embd"]:
        raise NotGPT2(
            f"config.json: n_inner is {inner!r}; this model needs 4 * n_embd = {4 * shape['n_embd']}"
        )
    dropout = hf.get("attn_pdrop", 0.0)
    if not isinstance(dropout, int | float) or isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
        raise NotGPT2(f"config.json: attn_pdrop is {dropout!r}; expected a probability")
    try:
        return ModelConfig(**shape, dropout=float(dropout))
    except ValueError as error:
        raise NotGPT2(f"config.json: {error}") from None


def _integer(hf: Mapping[str, Any], field: str) -> int:
    value = hf.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise NotGPT2(f"config.json: {field} is {value!r}; expected a positive integer")
    return value


def hf_weights(state: Mapping[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """GPT-2's tensors (on the CPU, contiguous) from our ``GPT.state_dict()``; the tied head is left out,
    as ``save_pretrained`` leaves it out (safetensors refuses two names for one tensor)."""
    if not torch.equal(state["head.weight"], state["tok_emb.weight"]):
        raise NotGPT2("head.weight is not tied to tok_emb.weight, as GPT-2's lm_head is to wte")
    names = _names(config)
    expected = set(names) | {"head.weight"}
    if set(state) != expected:
        extra, missing = sorted(set(state) - expected), sorted(expected - set(state))
        raise NotGPT2(f"weights of another model: unexpected {extra}, missing {missing}")
    out: dict[str, torch.Tensor] = {}
    for ours, (theirs, transposed) in names.items():
        tensor = state[ours].detach().to("cpu")
        out[theirs] = (tensor.t() if transposed else tensor).contiguous()
    return out


def our_weights(tensors: Mapping[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our ``GPT`` state dict from GPT-2's tensors (as ``hf_weights`` writes them, or with the ``lm_head``
    that some writers add, if it equals ``wte``); ``NotGPT2`` naming what is missing or of the wrong shape."""
    names = _names(config)
    present = dict(tensors)
    head = present.pop("lm_head.weight", None)
    expected = {theirs for theirs, _ in names.values()}
    if set(present) != expected:
        extra, missing = sorted(set(present) - expected), sorted(expected - set(present))
        raise NotGPT2(
            f"model.safetensors holds another model's weights: unexpected {extra}, missing {missing}"
        )
    state: dict[str, torch.Tensor] = {}
    for ours, (theirs, transposed) in names.items():
        tensor = present[theirs]
        state[ours] = tensor.t().contiguous() if transposed else tensor
    if head is not None and not torch.equal(head, state["tok_emb.weight"]):
        raise NotGPT2("model.safetensors: lm_head.weight differs from wte; this model ties them")
    state["head.weight"] = state["tok_emb.weight"]
    return state


def _names(config: ModelConfig) -> dict[str, tuple[str, bool]]:
    """Each tensor of our state dict (but the tied head): its GPT-2 name, and whether it is transposed."""
    names: dict[str, tuple[str, bool]] = {
        "tok_emb.weight": (f"{_PREFIX}wte.weight", False),
        "pos_emb.weight": (f"{_PREFIX}wpe.weight", False),
        "ln_f.weight": (f"{_PREFIX}ln_f.weight", False),
        "ln_f.bias": (f"{_PREFIX}ln_f.bias", False),
    }
    for layer in range(config.n_layer):
        ours, theirs = f"blocks.{layer}.", f"{_PREFIX}h.{layer}."
        for norm in _NORMS:
            for part in ("weight", "bias"):
                names[f"{ours}{norm}.{part}"] = (f"{theirs}{norm}.{part}", False)
        for linear, conv1d in _PROJECTIONS.items():
            names[f"{ours}{linear}.weight"] = (f"{theirs}{conv1d}.weight", True)
            names[f"{ours}{linear}.bias"] = (f"{theirs}{conv1d}.bias", False)
    return names
