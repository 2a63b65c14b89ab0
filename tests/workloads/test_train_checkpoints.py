"""Checkpoint storage, the same suite on a local folder and on an object store (fsspec's ``memory://``).

``memory://`` is a real fsspec file system without rename, so it goes down the object-store path: each
checkpoint uploaded whole to its final name. What is checked is what a preempted run relies on: a write
that fails part-way never shows, the newest loadable checkpoint wins over a torn one, old ones are pruned;
and what a server relies on: the weights are a file of their own.
"""

from __future__ import annotations

import importlib
import io
import logging
import sys
from pathlib import Path

import fsspec
import pytest
import torch
from checkpoint_fixtures import training_state

from workloads.checkpoint import (
    CheckpointFolder,
    CheckpointStorageError,
    check_location,
    check_writable,
    checkpoint_path,
    list_steps,
    load_latest_checkpoint,
    save_checkpoint,
)


def _state(step: float) -> dict[str, object]:
    return training_state(step, width=4)


def _steps(location: str) -> list[int]:
    return list_steps(location)


def _files(location: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(location)
    try:
        return sorted(p.rsplit("/", 1)[1] for p in fs.ls(root, detail=False))
    except FileNotFoundError:
        return []


def _read_path(path: str) -> io.BytesIO:
    return io.BytesIO(_read_bytes(path))


def _read_bytes(path: str) -> bytes:
    with fsspec.open(path, "rb") as handle:
        data: bytes = handle.read()
    return data


def _write_bytes(path: str, data: bytes) -> None:
    with fsspec.open(path, "wb") as handle:
        handle.write(data)


class _FailsToPickle:
    """Stands for anything that breaks serialization half-way (a full disk, a kill, a bad object)."""

    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("serialization interrupted")


def test_a_saved_checkpoint_is_listed_and_loads_back(location: str) -> None:
    assert list_steps(location) == []
    assert load_latest_checkpoint(location) is None

    written = save_checkpoint(location, 7, _state(7.0))

    assert written == f"{location}/step-00000007"
    assert list_steps(location) == list_steps(location, "serving") == [7]
    state = load_latest_checkpoint(location)
    assert state is not None and state["step"] == 7
    assert torch.equal(state["model"]["weight"], torch.full((4, 4), 7.0))
    assert state["scheduler"] == {"last_epoch": 7} and state["ranks"][0]["data"]["cursor"] == 7


def test_the_weights_are_a_file_of_their_own_and_a_server_loads_only_that(location: str) -> None:
    save_checkpoint(location, 7, _state(7.0))

    assert _files(location) == ["step-00000007.model.pt", "step-00000007.train.pt"]
    weights = torch.load(_read_path(checkpoint_path(location, 7, "model")), weights_only=True)
    assert set(weights) == {"step", "model_config", "model"}
    training = torch.load(_read_path(checkpoint_path(location, 7, "train")), weights_only=True)
    assert "model" not in training and {"optimizer", "scheduler", "ranks"} <= set(training)
    served = load_latest_checkpoint(location, "serving")
    assert served is not None and set(served) == {"step", "model_config", "model"}


@pytest.mark.parametrize("part", ["model", "train"])
def test_a_write_that_fails_part_way_leaves_the_previous_set_untouched(location: str, part: str) -> None:
    save_checkpoint(location, 1, _state(1.0))
    before = _files(location), _read_bytes(checkpoint_path(location, 1, "model"))
    broken = _state(2.0)
    if part == "model":
        broken["model"] = {"weight": _FailsToPickle()}
    else:
        broken["extra"] = _FailsToPickle()

    with pytest.raises(RuntimeError, match="serialization interrupted"):
        save_checkpoint(location, 2, broken)

    # Nothing of step 2 shows, not even the weights written before the training state failed.
    assert (_files(location), _read_bytes(checkpoint_path(location, 1, "model"))) == before
    state = load_latest_checkpoint(location)
    assert state is not None and state["step"] == 1


def test_a_partial_write_left_by_a_killed_writer_is_never_listed_and_is_cleaned_up(tmp_path: Path) -> None:
    # Only a local folder has partial files: an object store never shows an unfinished upload.
    location = tmp_path / "ckpt"
    save_checkpoint(location, 1, _state(1.0))
    leftover = location / "step-00000002.train.pt.partial"
    leftover.write_bytes(b"half a checkpoint")

    assert _steps(str(location)) == [1]
    save_checkpoint(location, 3, _state(3.0))
    assert not leftover.exists()
    assert _steps(str(location)) == [3, 1]


def test_a_truncated_newest_checkpoint_is_skipped_with_a_warning(
    location: str, caplog: pytest.LogCaptureFixture
) -> None:
    save_checkpoint(location, 10, _state(10.0))
    save_checkpoint(location, 20, _state(20.0))
    newest = checkpoint_path(location, 20, "train")
    data = _read_bytes(newest)
    _write_bytes(newest, data[: len(data) // 2])

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        state = load_latest_checkpoint(location)

    assert state is not None and state["step"] == 10
    assert "skipping unreadable checkpoint" in caplog.text and "step-00000020.train.pt" in caplog.text
    assert CheckpointFolder(location).load(20) is None
    # A server needs only the weights, which are whole.
    served = load_latest_checkpoint(location, "serving")
    assert served is not None and served["step"] == 20


def test_something_else_under_the_name_is_skipped(location: str, caplog: pytest.LogCaptureFixture) -> None:
    save_checkpoint(location, 1, _state(1.0))
    with fsspec.open(checkpoint_path(location, 2, "legacy"), "wb") as handle:
        torch.save({"weights": "not ours"}, handle)

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        state = load_latest_checkpoint(location)

    assert state is not None and state["step"] == 1
    assert "not a lepton-infra checkpoint (it has no 'model_config', 'model'" in caplog.text


def test_saving_prunes_to_the_newest_keep_last(location: str) -> None:
    for step in (100, 200, 300, 400, 500):
        save_checkpoint(location, step, _state(float(step)), keep_last=2)

    assert _steps(location) == [500, 400]
    # Nothing else stays behind: no probe, spool or partial file.
    assert _files(location) == [
        "step-00000400.model.pt",
        "step-00000400.train.pt",
        "step-00000500.model.pt",
        "step-00000500.train.pt",
    ]


def test_steps_sort_by_number_not_by_name(location: str) -> None:
    for step in (9, 100_000_000, 10):
        save_checkpoint(location, step, _state(float(step)), keep_last=5)

    assert _steps(location) == [100_000_000, 10, 9]


def test_the_write_probe_leaves_nothing_behind(location: str) -> None:
    check_writable(location)

    fs, root = fsspec.core.url_to_fs(location)
    assert fs.find(root) == []


def test_a_local_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "ckpt"
    not_a_folder.write_text("")

    with pytest.raises(CheckpointStorageError, match="exists and is not a folder"):
        check_location(not_a_folder)
    with pytest.raises(CheckpointStorageError, match="cannot write there"):
        check_writable(not_a_folder)


def test_a_file_uri_and_a_plain_path_are_the_same_folder(tmp_path: Path) -> None:
    save_checkpoint(f"file://{tmp_path}/ckpt", 5, _state(5.0))

    assert _steps(str(tmp_path / "ckpt")) == [5]
    assert (tmp_path / "ckpt" / "step-00000005.model.pt").is_file()


@pytest.mark.parametrize(
    ("uri", "package"),
    [("s3://bucket/checkpoints/run", "s3fs"), ("az://artifacts/run", "adlfs"), ("oss://bucket/run", "ossfs")],
)
def test_a_uri_whose_storage_package_is_missing_names_it_in_one_line(
    monkeypatch: pytest.MonkeyPatch, uri: str, package: str
) -> None:
    # As if the package were not installed, even where it is: a None entry makes its import fail.
    monkeypatch.setitem(sys.modules, package, None)
    # ... and fsspec must not hold on to the class it loaded for an earlier test.
    loaded = importlib.import_module("fsspec.registry")._registry
    monkeypatch.delitem(loaded, uri.split("://", maxsplit=1)[0], raising=False)

    for use in (check_location, list_steps, load_latest_checkpoint, check_writable):
        with pytest.raises(CheckpointStorageError) as raised:
            use(uri)
        message = str(raised.value)
        assert message.startswith(f"{uri}: ") and f"needs the Python package {package}" in message
        assert f"pip install {package}" in message and "\n" not in message


def test_an_unknown_protocol_is_refused_in_one_line() -> None:
    with pytest.raises(CheckpointStorageError, match=r"^nope://x/y: Protocol not known: nope$"):
        check_location("nope://x/y")
