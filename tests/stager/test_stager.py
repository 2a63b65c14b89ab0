"""The model stager on a real folder: it waits for an export, copies the one `latest` names, whole or not at
all, and refuses a marker that names anything but an export. The store is a local folder (a volume
checkpoint); buckets go through the same fsspec calls and the trainer's credential code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfiles import copied_files

from lepton_infra.contract import EXPORT_FILES, export_latest_marker, export_name, export_path
from stager.__main__ import BAD_EXPORT, main
from stager.copy import StageError, stage

ROOT = Path(__file__).resolve().parents[2]


def _export(checkpoints: Path, step: int, *, files: tuple[str, ...] = EXPORT_FILES) -> Path:
    folder = Path(export_path(str(checkpoints), step))
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_bytes(f"{name} of step {step}".encode())
    return folder


def _point_latest(checkpoints: Path, step: int) -> None:
    Path(export_latest_marker(str(checkpoints))).write_text(export_name(step) + "\n")


def test_the_export_latest_names_is_copied_whole(tmp_path: Path) -> None:
    checkpoints, destination = tmp_path / "ckpt", tmp_path / "models" / "current"
    _export(checkpoints, 10)
    _export(checkpoints, 20)
    _point_latest(checkpoints, 10)  # 20 is still being written: `latest` does not name it yet
    assert stage(str(checkpoints), destination, options={}, poll_seconds=0) == "step-00000010"
    assert sorted(p.name for p in destination.iterdir()) == sorted(EXPORT_FILES)
    assert (destination / "config.json").read_text() == "config.json of step 10"
    assert not destination.with_name("current.partial").exists()


def test_it_waits_for_a_first_export(tmp_path: Path) -> None:
    checkpoints, destination = tmp_path / "ckpt", tmp_path / "current"
    checkpoints.mkdir()
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 3:  # the trainer exports meanwhile
            _export(checkpoints, 7)
            _point_latest(checkpoints, 7)

    assert stage(str(checkpoints), destination, options={}, poll_seconds=30, sleep=sleep) == "step-00000007"
    assert polls == [30, 30, 30]


def test_a_restart_replaces_a_half_copied_folder(tmp_path: Path) -> None:
    checkpoints, destination = tmp_path / "ckpt", tmp_path / "current"
    _export(checkpoints, 3)
    _point_latest(checkpoints, 3)
    partial = destination.with_name("current.partial")
    partial.mkdir()
    (partial / "model.safetensors").write_text("torn")
    stage(str(checkpoints), destination, options={}, poll_seconds=0)
    assert (destination / "model.safetensors").read_text() == "model.safetensors of step 3"


@pytest.mark.parametrize("marker", ["../../etc", "step-1", "/abs/step-00000001", ""])
def test_a_marker_naming_anything_but_an_export_is_refused(tmp_path: Path, marker: str) -> None:
    checkpoints = tmp_path / "ckpt"
    (checkpoints / "export").mkdir(parents=True)
    Path(export_latest_marker(str(checkpoints))).write_text(marker)
    with pytest.raises(StageError, match="not an export"):
        stage(str(checkpoints), tmp_path / "current", options={}, poll_seconds=0)


def test_an_export_missing_a_file_fails_with_status_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoints = tmp_path / "ckpt"
    _export(checkpoints, 5, files=("config.json", "model.safetensors"))
    _point_latest(checkpoints, 5)
    status = main(["--source", str(checkpoints), "--destination", str(tmp_path / "current")])
    assert status == BAD_EXPORT
    assert "lacks tokenizer.json, tokenizer_config.json" in capsys.readouterr().err


def test_it_runs_as_its_image_lays_it_out_without_torch(tmp_path: Path) -> None:
    """stager/Dockerfile copies the contract, the checkpoint credentials and errors with an empty package
    __init__ (the real one imports the torch-based layout), and the stager; no torch in that image."""
    app = tmp_path / "app"
    for path in copied_files(ROOT / "stager" / "Dockerfile"):
        if path.suffix != ".py":
            continue  # the storage packages' pins
        source = path.relative_to(ROOT)
        (app / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, app / source)
    (app / "workloads/checkpoint/__init__.py").write_text("")
    checkpoints = tmp_path / "ckpt"
    _export(checkpoints, 9)
    _point_latest(checkpoints, 9)
    destination = tmp_path / "models" / "current"
    script = (
        "import runpy, sys; sys.modules['torch'] = None; "
        f"sys.argv = ['stager', '--source', {str(checkpoints)!r}, '--destination', {str(destination)!r}]; "
        "runpy.run_module('stager', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=app,
        env={"PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (destination / "model.safetensors").read_text() == "model.safetensors of step 9"
