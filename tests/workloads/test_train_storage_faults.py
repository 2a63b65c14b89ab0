"""Real training runs whose checkpoint store fails: one line, the status the contract documents, no hang.

A full disk mid-run (issue 15, item 6) and a store that cannot be read at start (item 7), alone and under
the launcher with two ranks, where the status must reach the Job through the launcher (torchrun would
turn a worker's failure into 1) and no rank may be left waiting for one that stopped. The faults are
injected into the real entry point by a wrapper script (torchrun runs it in place of ``-m
workloads.train``); and a planted pickle, which the resumed run must not run (item 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_checkpoint_safety import _hostile_bytes, _payloads

from lepton_infra.contract import TrainExit
from workloads.checkpoint import checkpoint_path, list_steps

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--seq-len", "32", "--batch-size", "8"]
QUIET = ["--metrics-port", "0", "--log-every", "1", "--warmup-steps", "5"]
PROG = "python -m workloads.train: error: "

pytestmark = pytest.mark.slow

# Runs the trainer's entry point with a fault: LEPTON_TEST_FAULT=full-after:N makes every fsync after the
# first N fail with ENOSPC (a checkpoint takes four: two files, each with its folder; its export ten);
# =unreadable makes every checkpoint file fail to open with EIO. Retries are shortened to keep the test quick.
INJECT = """
import errno, os, runpy, sys
from workloads.checkpoint import faults, storage

faults.DEFAULT_RETRY = faults.Retry(attempts=3, first_delay_s=0.01)
fault = os.environ["LEPTON_TEST_FAULT"]
if fault.startswith("full-after:"):
    allowed, real = [int(fault.split(":")[1])], os.fsync

    def fsync(fd):
        if allowed[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        allowed[0] -= 1
        return real(fd)

    storage.os.fsync = fsync
elif fault == "unreadable":
    def unreadable(path, mode="r", *args, **kwargs):
        if "r" in mode and str(path).endswith(".pt"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return open(path, mode, *args, **kwargs)

    storage.open = unreadable  # what the local storage opens files with
sys.argv[0] = "workloads.train"
runpy.run_module("workloads.train", run_name="__main__", alter_sys=True)
"""


def _trainer(tmp_path: Path, ranks: int, *flags: str) -> list[str]:
    script = tmp_path / "inject.py"
    script.write_text(INJECT)
    if ranks == 1:
        return [sys.executable, str(script), *TINY, *QUIET, *flags]
    launch = [sys.executable, "-m", "workloads.train.launch", "--standalone", f"--nproc-per-node={ranks}"]
    return [*launch, str(script), *TINY, *QUIET, *flags]


def _run(command: list[str], fault: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHECKPOINT_DIR", "LEPTON_PREEMPTED_EXIT_CODE")}
    env.update(
        OMP_NUM_THREADS="1",
        LEPTON_TEST_FAULT=fault,
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(PROG)]


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_disk_that_fills_up_mid_run_ends_it_with_no_space_and_nothing_partial(
    tmp_path: Path, ranks: int
) -> None:
    checkpoints = tmp_path / "ckpt"
    flags = ["--max-steps", "30", "--checkpoint-every", "5", "--checkpoint-dir", str(checkpoints)]

    result = _run(_trainer(tmp_path, ranks, *flags, "--no-export"), "full-after:4")

    assert result.returncode == TrainExit.NO_SPACE == 74, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    [error] = _errors(result.stderr)
    assert error == (
        f"{PROG}no space left on {checkpoints}: no older checkpoint to remove (the newest that loads is kept)"
    )
    # The first checkpoint stays, the second left nothing behind, and a restart resumes from the first.
    assert list_steps(checkpoints) == [5]
    assert sorted(p.name for p in checkpoints.iterdir()) == [
        "step-00000005.model.pt",
        "step-00000005.train.pt",
    ]


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_disk_that_fills_up_at_the_export_ends_the_run_with_no_space_and_the_retry_exports_first(
    tmp_path: Path, ranks: int
) -> None:
    """Issue 20: the export follows the checkpoints' data-loss rules. The checkpoint of step 5 is written
    (four fsyncs), its export is not: 74, no partial export, no ``latest``; the retried pod resumes from
    step 5 and exports it before training on."""
    checkpoints = tmp_path / "ckpt"
    flags = ["--checkpoint-every", "5", "--checkpoint-dir", str(checkpoints)]

    result = _run(_trainer(tmp_path, ranks, "--max-steps", "30", *flags), "full-after:4")

    assert result.returncode == TrainExit.NO_SPACE == 74, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    [error] = _errors(result.stderr)
    export = checkpoints / "export" / "step-00000005"
    assert (
        error == f"{PROG}no space left on {export}: no older export to remove (the one latest names is kept)"
    )
    assert list_steps(checkpoints) == [5]
    assert not export.exists() and not (checkpoints / "export" / "latest").exists()

    retried = _run(_trainer(tmp_path, 1, "--max-steps", "6", *flags), "none")

    assert retried.returncode == 0, retried.stderr[-3000:]
    assert f"exported {export}, which had no export yet" in retried.stderr
    assert (checkpoints / "export" / "latest").read_text() == "step-00000006\n"
    assert sorted(p.name for p in (checkpoints / "export").iterdir()) == [
        "latest",
        "step-00000005",
        "step-00000006",
    ]


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_store_that_cannot_be_read_at_start_ends_the_run_unavailable_never_resuming_older(
    tmp_path: Path, ranks: int
) -> None:
    checkpoints = tmp_path / "ckpt"
    flags = ["--max-steps", "10", "--checkpoint-every", "5", "--checkpoint-dir", str(checkpoints)]
    assert _run(_trainer(tmp_path, 1, *flags), "none").returncode == 0

    result = _run(_trainer(tmp_path, ranks, "--max-steps", "20", *flags[2:]), "unreadable")

    assert result.returncode == TrainExit.STORAGE_UNAVAILABLE == 69, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and '"step"' not in result.stdout  # not one step trained
    [error] = _errors(result.stderr)
    assert error.startswith(f"{PROG}{checkpoints}: cannot read step-00000010.model.pt: Input/output error")
    assert error.endswith("(tried 3 times over 0 s)")
    assert list_steps(checkpoints) == [10, 5]


def test_a_resumed_run_skips_a_planted_pickle_without_running_it(tmp_path: Path) -> None:
    checkpoints, marker = tmp_path / "ckpt", tmp_path / "marker"
    flags = ["--checkpoint-every", "5", "--checkpoint-dir", str(checkpoints)]
    assert _run(_trainer(tmp_path, 1, "--max-steps", "10", *flags), "none").returncode == 0
    for kind in ("legacy", "model"):
        hostile = _hostile_bytes(_payloads(marker)["os.system"], "the whole object")
        Path(checkpoint_path(checkpoints, 99 if kind == "legacy" else 98, kind)).write_bytes(hostile)

    result = _run(_trainer(tmp_path, 1, "--max-steps", "12", *flags), "none")

    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(tmp_path.glob("marker*")), "the pickle ran"
    assert f"resumed from {checkpoints}/step-00000010" in result.stderr
    assert "refused to rebuild posix.system" in result.stderr
