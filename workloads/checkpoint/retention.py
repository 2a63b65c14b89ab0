"""Which checkpoints pruning may remove: never the newest one that loads, and only loadable ones count.

A file can carry a checkpoint's name without being one that loads: corrupt, truncated, foreign, or written
by another run. If such files counted toward ``--keep-last``, a few of them newer than the good ones would
push every good checkpoint out of the window, and the next start would begin from step 1. So, after step
``current`` is written:

- steps newer than ``current`` are not this run's (it would have resumed from them): never counted, never
  removed;
- going back from ``current``, the window holds ``current`` and then each older checkpoint that loads,
  until it holds ``keep_last``; one that does not load is neither counted nor removed while the window is
  still open;
- everything older than the window is removed, loadable or not, and so is any half-written checkpoint
  (weights without training state, or the reverse) older than ``current``.

Loading is asked for lazily, newest first, and only until the window is full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from workloads.checkpoint.layout import Kind, complete, files


def stale_files(
    entries: Mapping[int, frozenset[Kind]], current: int, keep_last: int, loadable: Callable[[int], bool]
) -> list[str]:
    """File names to remove once ``current`` is written, keeping ``keep_last`` loadable checkpoints."""
    kept = 1  # current itself
    stale: list[str] = []
    for step in sorted((s for s in entries if s < current), reverse=True):
        kinds = entries[step]
        if not complete(kinds, "training") or kept >= max(keep_last, 1):
            stale += files(step, kinds)
        elif loadable(step):
            kept += 1
    return stale


def newer_steps(entries: Mapping[int, frozenset[Kind]], current: int) -> list[int]:
    """Steps newer than ``current``: not this run's, left alone."""
    return sorted((step for step in entries if step > current), reverse=True)
