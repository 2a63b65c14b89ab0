"""Token sampling for a whole batch, with one random stream per sequence.

Each sequence draws its uniform number from its own ``torch.Generator`` (seeded from the
request's ``seed``), and everything else is a per-row computation, so what a sequence samples
does not depend on which other sequences share its batch.
"""

from __future__ import annotations

import torch


def sample(
    logits: torch.Tensor, temperatures: list[float], top_ps: list[float], generators: list[torch.Generator]
) -> list[int]:
    """One token per row of ``logits`` (batch, vocab): greedy where temperature is 0, else nucleus."""
    logits = logits.float().cpu()
    greedy = logits.argmax(dim=-1)
    sampled_rows = [row for row, temperature in enumerate(temperatures) if temperature > 0.0]
    if not sampled_rows:
        greedy_tokens: list[int] = greedy.tolist()
        return greedy_tokens
    rows = torch.tensor(sampled_rows)
    temperature = torch.tensor([temperatures[row] for row in sampled_rows])
    top_p = torch.tensor([top_ps[row] for row in sampled_rows])
    probs = torch.softmax(logits[rows] / temperature[:, None], dim=-1)
    # A stable sort keeps ties in vocabulary order, so equal inputs always pick the same token.
    sorted_probs, order = probs.sort(dim=-1, descending=True, stable=True)
    # Nucleus: keep the smallest prefix whose mass reaches top_p (always at least one token).
    outside = (sorted_probs.cumsum(dim=-1) - sorted_probs) >= top_p[:, None]
    cumulative = sorted_probs.masked_fill(outside, 0.0).cumsum(dim=-1)
    uniform = torch.cat([torch.rand(1, generator=generators[row]) for row in sampled_rows])
    choice = torch.searchsorted(cumulative, (uniform * cumulative[:, -1])[:, None], right=True)
    # u * total can round up to total itself: fall back to the last token inside the nucleus.
    choice = torch.minimum(choice, (~outside).sum(dim=-1, keepdim=True) - 1)
    chosen = greedy.clone()
    chosen[rows] = order.gather(1, choice)[:, 0]
    tokens: list[int] = chosen.tolist()
    return tokens
