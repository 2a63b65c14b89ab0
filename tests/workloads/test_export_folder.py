"""Exports on a disk and in a bucket: whole or not at all, ``latest`` written last, pruned with
``--keep-last``, and the checkpoints' data-loss rules when the store fails (issue 20, model handoff).

The contract (``lepton_infra.contract``): a reader that follows ``export/latest`` never sees a partial
export, and never lists ``export/``; writers may delete exports older than the one ``latest`` names.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest
import torch

from lepton_infra.contract import EXPORT_FILES, export_latest_marker, export_name, export_path
from workloads.checkpoint.errors import NoSpaceLeft, StorageUnavailable
from workloads.checkpoint.faults import translate
from workloads.checkpoint.storage import LocalStorage
from workloads.export import files
from workloads.export.folder import ExportFolder
from workloads.model import GPT, ModelConfig

CONFIG = ModelConfig(n_layer=1, n_head=2, n_embd=16, seq_len=16)


def _weights(step: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(step)
    return GPT(CONFIG).state_dict()


def _save(location: str, step: int, keep_last: int = 3) -> str:
    return ExportFolder(location).save(step, _weights(step), CONFIG, keep_last=keep_last)


def _ls(path: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(path)
    fs.invalidate_cache()
    try:
        return sorted(p.rstrip("/").rsplit("/", 1)[1] for p in fs.ls(root, detail=False))
    except FileNotFoundError:
        return []


def _exports(location: str) -> list[str]:
    """What ``export/`` holds: ``latest`` and each export with a file left (an object store keeps no empty
    folder; fsspec's memory:// still lists one)."""
    folder = f"{location}/export"
    return [name for name in _ls(folder) if name == "latest" or _ls(f"{folder}/{name}")]


def _marker(location: str) -> str:
    fs, path = fsspec.core.url_to_fs(export_latest_marker(location))
    return str(fs.cat_file(path).decode())


def test_an_export_is_written_whole_and_latest_names_it(location: str) -> None:
    assert _save(location, 7) == export_path(location, 7)
    assert _ls(export_path(location, 7)) == sorted(EXPORT_FILES)
    assert _marker(location) == "step-00000007\n"
    state = ExportFolder(location).latest()
    assert state is not None and state["step"] == 7
    assert all(torch.equal(state["model"][k], v) for k, v in _weights(7).items())


def test_saving_prunes_to_keep_last_and_leaves_newer_exports_alone(location: str) -> None:
    _save(location, 90)  # another run's, newer than this one: not ours to remove
    for step in (10, 20, 30, 40):
        _save(location, step, keep_last=2)
    assert _exports(location) == ["latest", "step-00000030", "step-00000040", "step-00000090"]
    assert _marker(location) == "step-00000040\n"


def test_an_incomplete_older_export_left_by_a_killed_writer_is_removed_and_never_counted(
    tmp_path: Path,
) -> None:
    location = str(tmp_path / "ckpt")
    _save(location, 10)
    killed = Path(export_path(location, 15))
    killed.mkdir()
    (killed / files.WEIGHTS).write_bytes(b"half")
    (killed / "config.json.partial").write_bytes(b"{")
    _save(location, 20, keep_last=2)
    assert _ls(f"{location}/export") == ["latest", "step-00000010", "step-00000020"]


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], None]:
    """Make every local write of the file ``name`` fail with ``code``, as the real write reports it."""

    def fail(name: str, code: int) -> None:
        real = LocalStorage.write

        def write(self: LocalStorage, written: str, save: Callable[..., None]) -> None:
            if written == name:
                raise translate(self.location, f"write {written}", OSError(code, "injected"))
            real(self, written, save)

        monkeypatch.setattr(LocalStorage, "write", write)

    return fail


@pytest.mark.parametrize("name", [files.CONFIG, files.TOKENIZER_CONFIG])
def test_a_store_that_fails_mid_export_leaves_latest_on_the_previous_one_and_nothing_partial(
    tmp_path: Path, failing: Callable[[str, int], None], name: str
) -> None:
    location = str(tmp_path / "ckpt")
    _save(location, 10)
    failing(name, errno.EIO)
    with pytest.raises(StorageUnavailable, match=f"cannot write {name}"):
        _save(location, 20)
    assert _marker(location) == "step-00000010\n"
    assert _ls(f"{location}/export") == ["latest", "step-00000010"]
    state = ExportFolder(location).latest()
    assert state is not None and state["step"] == 10


def test_a_full_disk_first_removes_older_exports_but_the_one_latest_names(
    tmp_path: Path, failing: Callable[[str, int], None], caplog: pytest.LogCaptureFixture
) -> None:
    location = str(tmp_path / "ckpt")
    for step in (10, 20, 30):
        _save(location, step)
    attempts: list[int] = []
    real = LocalStorage.write

    def full_once(self: LocalStorage, name: str, save: Callable[..., None]) -> None:
        if name == files.WEIGHTS and not attempts:
            attempts.append(1)
            raise translate(self.location, f"write {name}", OSError(errno.ENOSPC, "full"))
        real(self, name, save)

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.WARNING):
        patch.setattr(LocalStorage, "write", full_once)
        _save(location, 40)
    assert _ls(f"{location}/export") == ["latest", "step-00000030", "step-00000040"]
    assert "removed ['step-00000010', 'step-00000020'] to make room for the export of step 40" in caplog.text


def test_a_disk_still_full_after_that_raises_no_space_and_leaves_latest_alone(
    tmp_path: Path, failing: Callable[[str, int], None]
) -> None:
    location = str(tmp_path / "ckpt")
    _save(location, 10)
    failing(files.WEIGHTS, errno.ENOSPC)
    with pytest.raises(NoSpaceLeft, match="no older export to remove"):
        _save(location, 20)
    assert _marker(location) == "step-00000010\n"
    assert _ls(f"{location}/export") == ["latest", "step-00000010"]


@pytest.mark.parametrize("marker", ["../../etc", "step-1", "/abs/step-00000001", "", "step-00000001/x"])
def test_a_marker_naming_anything_but_an_export_is_ignored_with_one_warning(
    tmp_path: Path, marker: str, caplog: pytest.LogCaptureFixture
) -> None:
    location = str(tmp_path / "ckpt")
    _save(location, 1)
    Path(export_latest_marker(location)).write_text(marker)
    exports = ExportFolder(location)
    with caplog.at_level(logging.WARNING, logger="workloads.export"):
        assert exports.latest_step() is None
        assert exports.latest() is None
    assert len([r for r in caplog.records if "not an export" in r.getMessage()]) == 1


def test_an_export_pruned_between_marker_and_read_is_no_error(tmp_path: Path) -> None:
    location = str(tmp_path / "ckpt")
    _save(location, 5)
    for name in EXPORT_FILES:
        (Path(export_path(location, 5)) / name).unlink()
    assert ExportFolder(location).latest() is None


def test_export_names_are_the_contracts(location: str) -> None:
    _save(location, 123456789)
    assert _exports(location) == ["latest", export_name(123456789)]
    state = ExportFolder(location).latest()
    assert state is not None and state["step"] == 123456789
