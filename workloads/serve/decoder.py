"""Incremental decoding of ``GPT`` with a key/value cache held in batch rows.

``GPT.forward`` recomputes the whole window on every call; a server that generates token by
token would then spend O(n^2) work per sequence. This runs the *same modules* of the model
(so a checkpoint needs no conversion) but keeps each layer's keys and values, so a decoding
step costs one token per row. ``tests/workloads/test_serve_decoder.py`` checks the logits
against ``GPT.forward`` so that a change to the model cannot silently diverge from this path.

Sequence ``i`` of the batch lives in cache row ``i``: the scheduler keeps running rows packed at
the front so that every forward works on a contiguous slice (a view, never a gather).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import torch
import torch.nn.functional as F

from workloads.model import GPT, Block


class CachedDecoder:
    """Runs ``model`` over new tokens of cache rows ``[first, first + batch)``."""

    def __init__(self, model: GPT, rows: int) -> None:
        config = model.config
        self.model = model.eval()
        self.seq_len = config.seq_len
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        parameter = next(model.parameters())
        self.device = parameter.device
        # One extra column at index seq_len takes the writes of padding tokens, so that the
        # real entries of a row are never overwritten by the padding of a shorter row.
        shape = (config.n_layer, rows, config.seq_len + 1, config.n_head, self.head_dim)
        self.keys = torch.zeros(shape, dtype=parameter.dtype, device=self.device)
        self.values = torch.zeros(shape, dtype=parameter.dtype, device=self.device)

    def move_row(self, source: int, target: int) -> None:
        """Copy one row's cache into another (used to keep running rows packed)."""
        self.keys[:, target] = self.keys[:, source]
        self.values[:, target] = self.values[:, source]

    @torch.inference_mode()
    def forward(self, first: int, cached: list[int], new_tokens: list[list[int]]) -> torch.Tensor:
        """Logits (batch, vocab) for the last new token of each row.

        Row ``first + b`` already holds ``cached[b]`` tokens in its cache; ``new_tokens[b]`` (at
        least one) follow them and are appended to the cache. Shorter rows are right-padded:
        causal masking means no real token ever attends to a padding position.
        """
        batch, width = len(new_tokens), max(len(tokens) for tokens in new_tokens)
        device = self.device
        tokens = torch.zeros(batch, width, dtype=torch.long)
        for row, row_tokens in enumerate(new_tokens):
            tokens[row, : len(row_tokens)] = torch.tensor(row_tokens, dtype=torch.long)
        tokens = tokens.to(device)
        starts = torch.tensor(cached, dtype=torch.long, device=device)
        lengths = torch.tensor([len(t) for t in new_tokens], dtype=torch.long, device=device)
        offsets = torch.arange(width, device=device)
        positions = starts[:, None] + offsets[None, :]
        real = offsets[None, :] < lengths[:, None]
        write_at = torch.where(real, positions, self.seq_len)
        span = max(c + len(t) for c, t in zip(cached, new_tokens, strict=True))
        # Query at absolute position p sees keys 0..p; padding queries see stale keys, harmlessly.
        attend = (torch.arange(span, device=device)[None, None, :] <= positions[:, :, None])[:, None]
        row_index = torch.arange(batch, device=device)[:, None]

        model = self.model
        x = model.tok_emb(tokens) + model.pos_emb(positions.clamp(max=self.seq_len - 1))
        channels = x.shape[-1]
        for layer, block in enumerate(cast(Iterable[Block], model.blocks)):
            attn = block.attn
            q, k, v = attn.qkv(block.ln_1(x)).split(channels, dim=2)
            shape = (batch, width, self.n_head, self.head_dim)
            layer_keys = self.keys[layer, first : first + batch]
            layer_values = self.values[layer, first : first + batch]
            layer_keys[row_index, write_at] = k.view(shape)
            layer_values[row_index, write_at] = v.view(shape)
            y = F.scaled_dot_product_attention(
                q.view(shape).transpose(1, 2),
                layer_keys[:, :span].transpose(1, 2),
                layer_values[:, :span].transpose(1, 2),
                attn_mask=attend,
            )
            x = x + attn.proj(y.transpose(1, 2).reshape(batch, width, channels))
            x = x + block.mlp(block.ln_2(x))
        last = x[torch.arange(batch, device=device), lengths - 1]
        logits: torch.Tensor = model.head(model.ln_f(last))
        return logits
