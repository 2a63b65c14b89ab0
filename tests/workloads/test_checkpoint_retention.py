"""Pruning never costs the run its checkpoints: only loadable ones count, the newest loadable one stays.

Issue 15, item 5: files that carried a checkpoint's name without loading (corrupt, truncated, foreign,
another run's newer steps) counted toward ``--keep-last``, so a few of them made pruning delete every
valid checkpoint, and the next start began from step 1 while the logs said success. Each bad file below is
planted newer than, among, or older than good checkpoints; then a run writes its next checkpoint, and
what must hold is checked: the new checkpoint and the ``keep_last`` newest loadable ones before it remain,
and the run resumes from the new one.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from checkpoint_fixtures import training_state

from workloads.checkpoint import CheckpointFolder, checkpoint_path, list_steps, save_checkpoint
from workloads.checkpoint.layout import Kind, catalog
from workloads.checkpoint.retention import stale_files


def _state(step: float) -> dict[str, object]:
    return training_state(step, width=2)


def _torch_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _good_bytes(step: int, kind: Kind) -> bytes:
    state = {"step": step, **_state(step)}
    if kind == "model":
        return _torch_bytes({k: state[k] for k in ("step", "model", "model_config")})
    return _torch_bytes({k: v for k, v in state.items() if k not in ("model", "model_config")})


# Bad files: which of a step's files are written, and with which bytes.
BadFile = Callable[[int], dict[Kind, bytes]]
BAD_FILES: dict[str, BadFile] = {
    "empty training file": lambda s: {"model": _good_bytes(s, "model"), "train": b""},
    "empty weights file": lambda s: {"model": b"", "train": _good_bytes(s, "train")},
    "truncated training file": lambda s: {
        "model": _good_bytes(s, "model"),
        "train": _good_bytes(s, "train")[:200],
    },
    "truncated weights file": lambda s: {
        "model": _good_bytes(s, "model")[:-30],
        "train": _good_bytes(s, "train"),
    },
    "garbage": lambda s: {"model": b"\x00garbage" * 50, "train": b"not a zip"},
    "flipped zip header": lambda s: {
        "model": b"QK" + _good_bytes(s, "model")[2:],
        "train": _good_bytes(s, "train"),
    },
    "foreign torch file": lambda s: {"legacy": _torch_bytes({"weights": [1, 2, 3]})},
    "foreign plain pickle": lambda s: {"legacy": pickle.dumps({"model": {}, "step": s})},
    "wrong keys": lambda s: {
        "model": _torch_bytes({"step": s, "params": {}}),
        "train": _good_bytes(s, "train"),
    },
    "wrong types": lambda s: {
        "model": _torch_bytes({"step": s, "model": [1], "model_config": "big"}),
        "train": _good_bytes(s, "train"),
    },
    "another step inside": lambda s: {
        "model": _good_bytes(s + 1, "model"),
        "train": _good_bytes(s + 1, "train"),
    },
    "step as a string": lambda s: {
        "model": _torch_bytes({"step": str(s), "model": {}, "model_config": {}}),
        "train": _good_bytes(s, "train"),
    },
    "weights without training state": lambda s: {"model": _good_bytes(s, "model")},
    "training state without weights": lambda s: {"train": _good_bytes(s, "train")},
    "refused global": lambda s: {
        "model": _torch_bytes({"step": s, "model": {"w": io.BytesIO()}}),
        "train": b"",
    },
}
# Where the bad steps sit relative to the good checkpoints 10, 20, 30 and the next write, 40.
PLACES = {
    "newer than the run (another run's)": [41, 50, 99_999_999],
    "among the good ones": [15, 25, 35],
    "older than all": [1, 2, 3],
}


def _plant(folder: Path, step: int, files: dict[Kind, bytes]) -> None:
    for kind, data in files.items():
        Path(checkpoint_path(folder, step, kind)).write_bytes(data)


def _contents(folder: Path, steps: list[int]) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if any(f"{s:08d}" in p.name for s in steps)}


@pytest.mark.parametrize("keep_last", [1, 2, 3])
@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("bad", sorted(BAD_FILES))
def test_bad_files_never_make_pruning_remove_a_checkpoint_it_should_keep(
    tmp_path: Path, bad: str, place: str, keep_last: int
) -> None:
    folder = tmp_path / "ckpt"
    for step in (10, 20, 30):
        save_checkpoint(folder, step, _state(step), keep_last=3)
    bad_steps = PLACES[place]
    for step in bad_steps:
        _plant(folder, step, BAD_FILES[bad](step))
    newer = [s for s in bad_steps if s > 40]
    before = _contents(folder, newer)

    # A run resumes from the newest checkpoint that loads, and writes its next one.
    run = CheckpointFolder(folder)
    resumed = run.latest("training")
    assert resumed is not None and resumed["step"] == 30
    run.save(40, _state(40), keep_last=keep_last)

    loadable = [s for s in list_steps(folder) if CheckpointFolder(folder).load(s) is not None]
    assert loadable == [40, 30, 20][:keep_last], "the newest loadable checkpoints are kept, and only those"
    assert _contents(folder, newer) == before, "another run's files are left alone"
    again = CheckpointFolder(folder).latest("training")
    assert again is not None and again["step"] == 40


def _entries(spec: dict[int, str]) -> dict[int, frozenset[Kind]]:
    kinds: dict[str, frozenset[Kind]] = {
        "split": frozenset({"model", "train"}),
        "legacy": frozenset({"legacy"}),
        "weights only": frozenset({"model"}),
        "training only": frozenset({"train"}),
    }
    return {step: kinds[kind] for step, kind in spec.items()}


def _both(step: int) -> list[str]:
    return [f"step-{step:08d}.train.pt", f"step-{step:08d}.model.pt"]


@pytest.mark.parametrize(
    ("spec", "bad", "current", "keep_last", "expected"),
    [
        # Corrupt newer steps neither count nor go (the failure of issue 15 item 5).
        ({90: "split", 95: "split", 10: "split", 20: "split"}, {90, 95}, 30, 2, _both(10)),
        # A corrupt one among the good is kept while the window is open, removed once older than it.
        ({25: "split", 20: "split", 10: "split", 5: "split"}, {25}, 30, 3, _both(5)),
        ({25: "split", 20: "split", 10: "split"}, {25, 20, 10}, 30, 2, []),
        (
            {40: "split", 30: "split", 27: "split", 25: "split", 20: "split"},
            {27, 25},
            50,
            3,
            [*_both(27), *_both(25), *_both(20)],
        ),
        # Half-written steps older than the current one are garbage.
        ({25: "weights only", 20: "split"}, set(), 30, 3, ["step-00000025.model.pt"]),
        ({25: "training only", 20: "split"}, set(), 30, 3, ["step-00000025.train.pt"]),
        # Old single-file checkpoints count like the others.
        ({20: "legacy", 10: "legacy"}, set(), 30, 2, ["step-00000010.pt"]),
        # keep_last 1 keeps the current one only, whatever was before.
        ({20: "split", 10: "legacy"}, set(), 30, 1, [*_both(20), "step-00000010.pt"]),
    ],
)
def test_stale_files_follow_the_rules(
    spec: dict[int, str], bad: set[int], current: int, keep_last: int, expected: list[str]
) -> None:
    asked: list[int] = []

    def loadable(step: int) -> bool:
        asked.append(step)
        return step not in bad

    stale = stale_files(_entries(spec), current, keep_last, loadable)

    # Training state before weights: a removal cut short never leaves training state without its weights.
    assert stale == expected
    assert all(step < current for step in asked), "steps newer than the run are never even loaded"


def test_loading_is_asked_for_lazily_and_only_until_the_window_is_full() -> None:
    entries = catalog(f"step-{s:08d}.{k}.pt" for s in range(1, 101) for k in ("model", "train"))
    asked: list[int] = []

    stale_files(entries, 101, 3, lambda step: asked.append(step) is None)

    assert asked == [100, 99]
