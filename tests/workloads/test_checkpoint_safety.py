"""A checkpoint is data, never code: what a planted pickle cannot make the trainer or the server do.

Issue 15, item 1: ``torch.load(..., weights_only=False)`` ran any pickle found in the checkpoint folder, in
every training pod and serving replica, and the training role can write there by design. Each hostile file
below would create a marker file if it were unpickled with the full unpickler; it is planted as the newest
checkpoint, in every file of the layout, and the trainer and the server must skip it (warning once) and
take the good checkpoint before it, with the marker never written. torch's reference on the weights-only
unpickler: https://pytorch.org/docs/stable/notes/serialization.html#weights-only
"""

from __future__ import annotations

import builtins
import io
import logging
import os
import pickle
import random
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from workloads.checkpoint import (
    CheckpointFolder,
    checkpoint_path,
    load_latest_checkpoint,
    save_checkpoint,
    split,
)
from workloads.checkpoint.layout import Kind
from workloads.model import GPT, ModelConfig
from workloads.train.optim import build_optimizer, build_scheduler
from workloads.train.state import checkpoint_state, rank_state, restore_rng

TINY = ModelConfig(n_layer=1, n_head=2, n_embd=16, seq_len=8)


class _Payload:
    """Unpickled in full, this calls ``call(*args)``: the marker file appears."""

    def __init__(self, call: Callable[..., Any], *args: Any) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.call, self.args


def _payloads(marker: Path) -> dict[str, _Payload]:
    """Ways a pickle runs code: a builtin, the shell, a subprocess, a method of a class torch trusts."""
    write = f"open({str(marker)!r}, 'w').write('ran')"
    return {
        "exec": _Payload(builtins.exec, write),
        "eval": _Payload(builtins.eval, f"__import__('builtins').exec({write!r})"),
        "os.system": _Payload(os.system, f"touch {marker}"),
        "subprocess": _Payload(subprocess.call, ["touch", str(marker)]),
        "os.popen": _Payload(os.popen, f"touch {marker}"),
        # numpy is allowlisted for old files, but only what rebuilds an array: not its functions.
        "numpy function": _Payload(np.save, str(marker), np.zeros(1)),
    }


def _hostile_bytes(payload: _Payload, shape: str) -> bytes:
    """Bytes of one hostile file: the payload alone, or hidden inside what looks like our checkpoint."""
    if shape == "plain pickle":  # not torch's zip format at all
        return pickle.dumps({"step": 99, "model": payload, "model_config": TINY.to_dict()})
    buffer = io.BytesIO()
    if shape == "the whole object":
        torch.save(payload, buffer)
    elif shape == "inside the weights":
        torch.save({"step": 99, "model_config": TINY.to_dict(), "model": {"w": payload}}, buffer)
    else:  # deep in the training state, where only the trainer looks
        torch.save(
            {"step": 99, "optimizer": {"state": {0: {"m": payload}}}, "scheduler": {}, "ranks": []}, buffer
        )
    return buffer.getvalue()


SHAPES = ["the whole object", "plain pickle", "inside the weights", "deep in the training state"]
KINDS: list[Kind] = ["model", "train", "legacy"]


def _good(folder: Path, step: int = 10) -> None:
    torch.manual_seed(step)
    model = GPT(TINY)
    optimizer = build_optimizer(model, 1e-3, 0.1, torch.device("cpu"))
    scheduler = build_scheduler(optimizer, 2, 10)
    state = checkpoint_state(
        model, optimizer, scheduler, {"seed": 1}, [rank_state({"epoch": 0, "cursor": 1})]
    )
    save_checkpoint(folder, step, state)


def _plant(folder: Path, kind: Kind, data: bytes, step: int = 99) -> None:
    if kind == "train":  # a training file goes with a weights file; plant a good one beside it
        good = CheckpointFolder(folder).load(10, "serving")
        assert good is not None
        torch.save({**good, "step": step}, checkpoint_path(folder, step, "model"))
    if kind == "model":
        torch.save(
            {"step": step, "optimizer": {}, "scheduler": {}, "ranks": []},
            checkpoint_path(folder, step, "train"),
        )
    Path(checkpoint_path(folder, step, kind)).write_bytes(data)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(_payloads(Path("m"))))
def test_a_planted_pickle_runs_in_neither_the_trainer_nor_the_server(
    tmp_path: Path, name: str, kind: Kind, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder, marker = tmp_path / "ckpt", tmp_path / "marker"
    _good(folder)
    _plant(folder, kind, _hostile_bytes(_payloads(marker)[name], shape))

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        resumed = load_latest_checkpoint(folder, "training")
        served = load_latest_checkpoint(folder, "serving")

    assert not list(tmp_path.glob("marker*")), "the pickle ran"
    assert resumed is not None and resumed["step"] == 10
    # The server reads weights files only: a hostile training or legacy file is never opened by it.
    assert served is not None and served["step"] == (99 if kind == "train" else 10)
    assert "step-00000099" in caplog.text


def test_the_refusal_names_what_the_pickle_wanted_to_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, marker = tmp_path / "ckpt", tmp_path / "marker"
    _good(folder)
    _plant(folder, "model", _hostile_bytes(_payloads(marker)["os.system"], "the whole object"))

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        load_latest_checkpoint(folder, "serving")

    [warning] = [r.getMessage() for r in caplog.records if "step-00000099" in r.getMessage()]
    assert "refused to rebuild posix.system" in warning and "\n" not in warning


def test_what_the_trainer_writes_needs_no_global_beyond_torchs_defaults(tmp_path: Path) -> None:
    # So that the weights-only unpickler needs no allowlist for our own checkpoints: numpy's RNG state is
    # stored as a tensor, not as the ndarray np.random.get_state() returns.
    _good(tmp_path)
    for kind in ("model", "train"):
        path = checkpoint_path(tmp_path, 10, kind)  # type: ignore[arg-type]
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [], kind


def test_the_rng_state_survives_the_round_trip_bit_for_bit() -> None:
    random.seed(5)
    np.random.seed(5)
    np.random.normal()  # a cached Gaussian is part of numpy's state too
    torch.manual_seed(5)
    saved = rank_state({})["rng"]
    expected = (random.random(), np.random.normal(), np.random.rand(), torch.rand(1).item())
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    buffer.seek(0)

    restore_rng(torch.load(buffer, weights_only=True))

    assert (random.random(), np.random.normal(), np.random.rand(), torch.rand(1).item()) == expected


def _legacy(folder: Path, step: int) -> dict[str, Any]:
    """A checkpoint as earlier versions wrote it: one file, numpy's RNG state as an ndarray."""
    torch.manual_seed(step)
    model = GPT(TINY)
    optimizer = build_optimizer(model, 1e-3, 0.1, torch.device("cpu"))
    scheduler = build_scheduler(optimizer, 2, 10)
    rng = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    ranks = [{"data": {"epoch": 0, "cursor": 3}, "rng": rng}]
    state = {**checkpoint_state(model, optimizer, scheduler, {}, ranks), "step": step}
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, checkpoint_path(folder, step, "legacy"))
    return state


def test_a_checkpoint_of_the_old_single_file_layout_still_resumes_training(tmp_path: Path) -> None:
    written = _legacy(tmp_path, 30)

    state = load_latest_checkpoint(tmp_path, "training")

    assert state is not None and state["step"] == 30
    for name, tensor in written["model"].items():
        assert torch.equal(state["model"][name], tensor)
    numpy_state = state["ranks"][0]["rng"]["numpy"]
    assert isinstance(numpy_state[1], np.ndarray) and np.array_equal(
        numpy_state[1], written["ranks"][0]["rng"]["numpy"][1]
    )
    restore_rng(state["ranks"][0]["rng"])


def test_the_server_never_reads_an_old_single_file_checkpoint_until_its_weights_are_split_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _legacy(tmp_path, 30)
    assert load_latest_checkpoint(tmp_path, "serving") is None

    assert split.main([str(tmp_path)]) == 0

    assert capsys.readouterr().out.strip() == checkpoint_path(tmp_path, 30, "model")
    served = load_latest_checkpoint(tmp_path, "serving")
    assert served is not None and served["step"] == 30 and set(served) == {"step", "model_config", "model"}
    GPT(ModelConfig.from_dict(served["model_config"])).load_state_dict(served["model"])
    assert (tmp_path / "step-00000030.pt").exists()  # the trainer still resumes from the original


def test_loading_for_the_server_opens_only_weights_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _good(tmp_path, 10)
    _good(tmp_path, 20)
    opened: list[str] = []
    folder = CheckpointFolder(tmp_path)
    storage = folder._storage
    original = storage.open

    def spy(name: str) -> Any:
        opened.append(name)
        return original(name)

    monkeypatch.setattr(storage, "open", spy)

    assert folder.latest("serving") is not None

    assert opened == ["step-00000020.model.pt"]
