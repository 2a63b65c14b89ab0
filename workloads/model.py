"""The byte-level decoder-only transformer shared by training and serving.

Byte-level (vocabulary of 256) so that neither container downloads a tokenizer.
Attention goes through ``scaled_dot_product_attention`` so the GPU picks a fused kernel.
``forward`` accepts a key padding mask with per-row positions so that a left-padded
batch gives each row the same logits it would get alone (what batched serving needs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

VOCAB_SIZE = 256


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the model; stored in every checkpoint so a server can rebuild it."""

    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    seq_len: int = 128
    vocab_size: int = VOCAB_SIZE
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        for field in ("n_layer", "n_head", "n_embd", "seq_len", "vocab_size"):
            if getattr(self, field) <= 0:
                raise ValueError(f"{field} must be positive, got {getattr(self, field)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**data)

    def flops_per_token(self) -> float:
        """Training FLOPs per token, ``6N + 12·L·d·T`` as in PaLM's appendix B, for MFU.

        N counts the transformer blocks' weights (embeddings do no matmul work); the attention term
        counts the full score matrix, as PaLM and nanoGPT do, so MFU figures compare with theirs.
        """
        params = 12 * self.n_layer * self.n_embd**2
        attention = 12 * self.n_layer * self.n_embd * self.seq_len
        return 6.0 * params + attention


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        batch, time, channels = x.shape
        q, k, v = self.qkv(x).split(channels, dim=2)
        shape = (batch, time, self.n_head, channels // self.n_head)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        dropout = self.dropout if self.training else 0.0
        if attn_mask is None:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout)
        y = y.transpose(1, 2).contiguous().view(batch, time, channels)
        projected: torch.Tensor = self.proj(y)
        return projected


class MLP(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected: torch.Tensor = self.proj(F.gelu(self.fc(x)))
        return projected


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), attn_mask)
        out: torch.Tensor = x + self.mlp(self.ln_2(x))
        return out


class GPT(nn.Module):
    """Pre-norm GPT with learned positions and tied input/output embeddings."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.seq_len, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight
        self.apply(self._init_weights)
        # GPT-2's scaled init of residual projections keeps activations stable with depth.
        for name, param in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of shape (batch, time, vocab).

        ``padding_mask`` (batch, time), True for real tokens, marks left padding: each row's
        positions then start at its first real token and padded keys are never attended.
        """
        _, time = idx.shape
        if time > self.config.seq_len:
            limit = self.config.seq_len
            raise ValueError(f"sequence of {time} tokens exceeds the model's context of {limit}")
        attn_mask: torch.Tensor | None = None
        if padding_mask is None:
            positions = torch.arange(time, device=idx.device).unsqueeze(0)
        else:
            positions = (padding_mask.long().cumsum(dim=1) - 1).clamp(min=0)
            causal = torch.ones(time, time, dtype=torch.bool, device=idx.device).tril()
            keys = padding_mask[:, None, None, :]
            # A padded query row would attend to nothing (NaN); letting it see itself keeps it finite.
            diagonal = torch.eye(time, dtype=torch.bool, device=idx.device)
            attn_mask = (causal & keys) | diagonal
        x = self.tok_emb(idx) + self.pos_emb(positions)
        for block in self.blocks:
            x = block(x, attn_mask)
        logits: torch.Tensor = self.head(self.ln_f(x))
        return logits

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def encode(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def decode(tokens: list[int]) -> str:
    return bytes(tokens).decode("utf-8", errors="replace")
