"""A misconfigured training run says what is wrong in one line and exits 2, without a traceback.

Most cases run the real entry point in a process of its own (a second or more each, for torch to load):
those are marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workloads.train.config import parse_config

ROOT = Path(__file__).resolve().parents[2]


def _train(
    tmp_path: Path, *flags: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("CHECKPOINT_DIR", "LEPTON_PREEMPTED_EXIT_CODE")
    }
    return subprocess.run(
        [sys.executable, "-m", "workloads.train", "--checkpoint-dir", str(tmp_path / "ckpt"), *flags],
        cwd=ROOT,
        env={**inherited, "OMP_NUM_THREADS": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def train_config_with_a_typo(tmp_path: Path) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text("max_steps: 10\nbatch-size: 4\nlearning_rate: 0.1\n")
    return path


@pytest.fixture
def train_empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-stpes", "5"], "unrecognized arguments: --max-stpes"),
        (["--max-steps", "-3"], "argument --max-steps: must be positive, got '-3'"),
        (["--batch-size", "eight"], "argument --batch-size: expected an integer, got 'eight'"),
        (["--lr", "nan"], "argument --lr: must be finite"),
        (["--metrics-port", "70000"], "argument --metrics-port: must be a TCP port"),
        (["--n-embd", "30", "--n-head", "4"], "--n-embd (30) must be divisible by --n-head (4)"),
        (["--data", "/nonexistent/corpus"], "--data /nonexistent/corpus: no such file or folder"),
    ],
)
def test_bad_flags_exit_2_with_one_clear_line(tmp_path: Path, flags: list[str], message: str) -> None:
    result = _train(tmp_path, *flags)

    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.slow
def test_a_data_folder_with_nothing_to_read_is_refused(tmp_path: Path, train_empty_folder: Path) -> None:
    result = _train(tmp_path, "--data", str(train_empty_folder))

    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"--data {train_empty_folder}: no non-empty files to train on (see --help)"
    )


@pytest.mark.slow
def test_an_unknown_key_in_the_config_file_is_named(tmp_path: Path, train_config_with_a_typo: Path) -> None:
    result = _train(tmp_path, "--config", str(train_config_with_a_typo))

    assert result.returncode == 2
    assert f"--config {train_config_with_a_typo}: unknown setting 'learning_rate'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_data_too_small_for_the_batch_is_refused_without_a_traceback(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("print('hello')\n" * 4)

    result = _train(tmp_path, "--data", str(corpus), "--seq-len", "64", "--metrics-port", "0")

    assert result.returncode == 2
    assert "fewer than --batch-size 16" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (["--preempted-exit-code", "1"], {}, "argument --preempted-exit-code: must be 0 or 3-125"),
        ([], {"LEPTON_PREEMPTED_EXIT_CODE": "137"}, "$LEPTON_PREEMPTED_EXIT_CODE: must be 0 or 3-125"),
        ([], {"LEPTON_PREEMPTED_EXIT_CODE": "soon"}, "$LEPTON_PREEMPTED_EXIT_CODE: expected an integer"),
    ],
)
def test_a_preempted_exit_code_that_means_failure_is_refused(
    tmp_path: Path, flags: list[str], env: dict[str, str], message: str
) -> None:
    result = _train(tmp_path, *flags, env=env)

    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_preempted_exit_code_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEPTON_PREEMPTED_EXIT_CODE", "75")

    assert parse_config([]).preempted_exit_code == 75
    assert parse_config(["--preempted-exit-code", "0"]).preempted_exit_code == 0
    monkeypatch.delenv("LEPTON_PREEMPTED_EXIT_CODE")
    assert parse_config([]).preempted_exit_code == 0


@pytest.mark.slow
def test_a_bucket_uri_whose_storage_package_is_missing_exits_2_naming_it(tmp_path: Path) -> None:
    # Block the import even where s3fs is installed, then run the trainer's real entry point.
    trainer = (
        "import runpy, sys; sys.modules['s3fs'] = None; "
        "runpy.run_module('workloads.train', run_name='__main__')"
    )
    env = {k: v for k, v in os.environ.items() if k != "CHECKPOINT_DIR"}

    result = subprocess.run(
        [sys.executable, "-c", trainer, "--checkpoint-dir", "s3://ml-artifacts/checkpoints/pretrain"],
        cwd=ROOT,
        env={**env, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith(
        "python -m workloads.train: error: --checkpoint-dir s3://ml-artifacts/checkpoints/pretrain: "
        "s3:// needs the Python package s3fs"
    )
    assert "pip install s3fs" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
