"""Batches from this rank's shard of the corpus, in an order a checkpoint can resume exactly.

Rank ``r`` of ``W`` owns bytes ``[r·N/W, (r+1)·N/W)`` of the corpus' byte stream and nothing else. Its shard
is cut into non-overlapping windows of ``seq_len + 1`` bytes (input plus the next-byte target); each pass
over the shard (an epoch) visits the windows in a permutation drawn from ``(seed, rank, epoch)``. The whole
position is then two integers, epoch and cursor, which is what the checkpoint stores: no generator state,
and a resumed run draws the very batches the interrupted one would have drawn next.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from workloads.train.corpus import Corpus

log = logging.getLogger(__name__)


class DataError(Exception):
    """The corpus is too small for the requested shape; the message says what to change."""


class ShardSampler:
    """Random windows of this rank's shard, ``batch_size`` at a time."""

    def __init__(
        self, corpus: Corpus, *, rank: int, world_size: int, seq_len: int, batch_size: int, seed: int
    ) -> None:
        start = corpus.total_bytes * rank // world_size
        end = corpus.total_bytes * (rank + 1) // world_size
        self._tokens = read_bytes(corpus, start, end)
        self._fingerprint = {**corpus.fingerprint(), "world_size": world_size}
        self._windows = (len(self._tokens) - 1) // seq_len
        if self._windows < batch_size:
            raise DataError(
                f"rank {rank}'s shard of the corpus holds {max(self._windows, 0)} windows of {seq_len + 1} "
                f"bytes, fewer than --batch-size {batch_size}: "
                "use more data, fewer ranks, or a shorter --seq-len"
            )
        self._seq_len = seq_len
        self._batch_size = batch_size
        self._seed = seed
        self._rank = rank
        self._offsets = np.arange(seq_len + 1)
        self.epoch = 0
        self.cursor = 0
        self._order = self._permutation(0)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and next-byte targets, each ``(batch_size, seq_len)`` int64 on the CPU."""
        if self.cursor + self._batch_size > self._windows:
            # The tail shorter than a batch is skipped; the next permutation covers those windows again.
            self.epoch += 1
            self.cursor = 0
            self._order = self._permutation(self.epoch)
        picked = self._order[self.cursor : self.cursor + self._batch_size]
        self.cursor += self._batch_size
        windows = torch.from_numpy(
            self._tokens[picked[:, None] * self._seq_len + self._offsets].astype(np.int64)
        )
        return windows[:, :-1], windows[:, 1:]

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "cursor": self.cursor, "corpus": self._fingerprint}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["corpus"] == self._fingerprint:
            self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        else:
            # Positions in a different byte stream (files changed, or a different world size) mean nothing;
            # a fresh epoch number at least avoids replaying the permutation the run started with.
            log.warning(
                "data differs from the checkpoint's (%s, now %s): starting a new pass over the shard",
                state["corpus"],
                self._fingerprint,
            )
            self.epoch, self.cursor = int(state["epoch"]) + 1, 0
        self._order = self._permutation(self.epoch)

    def _permutation(self, epoch: int) -> npt.NDArray[np.int64]:
        return np.random.default_rng([self._seed, self._rank, epoch]).permutation(self._windows)


def read_bytes(corpus: Corpus, start: int, end: int) -> npt.NDArray[np.uint8]:
    """Bytes ``[start, end)`` of the corpus' stream.

    A range inside one file is memory-mapped, so a large single-file corpus costs page cache shared by
    the node's ranks rather than a private copy each; a range across files is read into memory.
    """
    pieces: list[tuple[Path, int, int]] = []
    offset = 0
    for file, size in zip(corpus.files, corpus.sizes, strict=True):
        lo, hi = max(start, offset), min(end, offset + size)
        if lo < hi:
            pieces.append((file, lo - offset, hi - lo))
        offset += size
    if len(pieces) == 1:
        file, at, length = pieces[0]
        return np.memmap(file, dtype=np.uint8, mode="r", offset=at, shape=(length,))
    buffer = bytearray()
    for file, at, length in pieces:
        with file.open("rb") as handle:
            handle.seek(at)
            chunk = handle.read(length)
        if len(chunk) != length:
            raise DataError(f"{file} shrank while the trainer was reading it")
        buffer += chunk
    return np.frombuffer(buffer, dtype=np.uint8)
