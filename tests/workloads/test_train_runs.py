"""Real training runs on the CPU: learning under torchrun, and surviving SIGTERM and corrupt checkpoints.

With ``--preempted-exit-code`` (``LEPTON_PREEMPTED_EXIT_CODE``, which the TrainingJob sets to 75), a run
stopped by SIGTERM exits with that status instead of 0, so a Kubernetes Job retries the pod.

Tiny models (2 layers, 32 wide, 32-byte context) so that hundreds of steps take about a second. Runs go
through the same command lines a user or the TrainingJob uses; the two-rank runs use gloo.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workloads.checkpoint import list_steps
from workloads.model import GPT, ModelConfig

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--seq-len", "32", "--batch-size", "8"]
QUIET = ["--metrics-port", "0", "--log-every", "1", "--warmup-steps", "5"]
# A run that only SIGTERM ends: no periodic checkpoint, so any checkpoint found was written on the way out.
UNTIL_STOPPED = ["--max-steps", "100000", "--checkpoint-every", "100000"]
PREEMPTED = "LEPTON_PREEMPTED_EXIT_CODE"

pytestmark = pytest.mark.slow


def _command(ranks: int, *flags: str) -> list[str]:
    if ranks == 1:
        return [sys.executable, "-m", "workloads.train", *TINY, *QUIET, *flags]
    # The launcher the training image installs as `torchrun`: torchrun's CLI, SIGTERM as a clean stop.
    launch = [sys.executable, "-m", "workloads.train.launch", "--standalone", f"--nproc-per-node={ranks}"]
    return [*launch, "-m", "workloads.train", *TINY, *QUIET, *flags]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHECKPOINT_DIR", PREEMPTED)}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **extra}


def _run(command: list[str], expect: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == expect, result.stderr[-3000:]
    return result


def _run_until_sigterm(command: list[str], after_step: int, **env: str) -> tuple[int, str, str]:
    """Start ``command`` in its own process group, SIGTERM the group once ``after_step`` is logged."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if json.loads(line)["step"] >= after_step:
            break
    os.killpg(process.pid, signal.SIGTERM)
    rest, stderr = process.communicate(timeout=120)
    return process.returncode, "".join(seen) + rest, stderr


def _steps(stdout: str) -> list[dict[str, float]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _load(folder: Path, step: int) -> dict[str, object]:
    """Both files of a checkpoint, read as the trainer reads them: weights only, no allowlist."""
    state: dict[str, object] = {}
    for part in ("model", "train"):
        state.update(torch.load(folder / f"step-{step:08d}.{part}.pt", map_location="cpu", weights_only=True))
    return state


@pytest.fixture
def train_text_folder(tmp_path: Path) -> Path:
    """A folder of text files, as users pass with --data: a few copies of this very test module."""
    folder = tmp_path / "corpus"
    (folder / "nested").mkdir(parents=True)
    source = Path(__file__).read_text()
    for index in range(3):
        (folder / f"part-{index}.txt").write_text(source)
        (folder / "nested" / f"part-{index}.txt").write_text(source.upper())
    return folder


def test_two_ranks_under_torchrun_learn_and_the_loss_falls_clearly(tmp_path: Path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun), "--standalone", "--nproc-per-node=2", "-m", "workloads.train", *TINY, *QUIET]
    # Two micro-batches per step, so gradients also go through DDP's no_sync accumulation.
    steps = ["--max-steps", "60", "--grad-accum-steps", "2", "--lr", "3e-3"]

    result = _run([*command, *steps, "--checkpoint-dir", str(tmp_path / "ckpt")])

    losses = [entry["loss"] for entry in _steps(result.stdout)]
    assert len(losses) == 60
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert first > 5.0  # about ln(256): a byte-level model that knows nothing yet
    assert last < first - 1.0
    assert list_steps(tmp_path / "ckpt") == [60]


def test_sigterm_midway_and_restart_end_bit_identical_to_an_uninterrupted_run(tmp_path: Path) -> None:
    # Dropout makes the result depend on the restored RNG state as well as on weights, optimizer and data.
    same = ["--max-steps", "300", "--checkpoint-every", "1000", "--dropout", "0.1", "--seed", "7"]
    _run(_command(1, *same, "--checkpoint-dir", str(tmp_path / "straight")))

    interrupted = tmp_path / "interrupted"
    returncode, stdout, stderr = _run_until_sigterm(
        _command(1, *same, "--checkpoint-dir", str(interrupted)), 20
    )
    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    (stopped_at,) = list_steps(interrupted)
    assert 20 <= stopped_at < 300
    assert _steps(stdout)[-1]["step"] == stopped_at

    resumed = _run(_command(1, *same, "--checkpoint-dir", str(interrupted)))
    assert _steps(resumed.stdout)[0]["step"] == stopped_at + 1

    straight = _load(tmp_path / "straight", 300)
    restarted = _load(interrupted, 300)
    assert isinstance(straight["model"], dict) and isinstance(restarted["model"], dict)
    assert straight["model"].keys() == restarted["model"].keys()
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, restarted["model"][name]), name
    # What the server does with it: a plain GPT takes the weights as saved, with no wrapper prefixes.
    assert isinstance(restarted["model_config"], dict)
    GPT(ModelConfig.from_dict(restarted["model_config"])).load_state_dict(restarted["model"])


def test_sigterm_to_the_torchrun_group_writes_one_checkpoint_every_rank_exits_0_and_the_restart_resumes(
    tmp_path: Path,
) -> None:
    checkpoints = tmp_path / "ckpt"

    returncode, _, stderr = _run_until_sigterm(
        _command(2, *UNTIL_STOPPED, "--checkpoint-dir", str(checkpoints)), 10
    )

    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    (stopped_at,) = list_steps(checkpoints)
    for rank in (0, 1):
        assert re.search(rf"rank {rank} INFO .*stopping after step {stopped_at}\b", stderr), stderr
    ranks = _load(checkpoints, stopped_at)["ranks"]
    assert isinstance(ranks, list) and len(ranks) == 2  # each rank's data position and RNG states

    resumed = _run(_command(2, "--max-steps", str(stopped_at + 5), "--checkpoint-dir", str(checkpoints)))

    assert [entry["step"] for entry in _steps(resumed.stdout)] == list(range(stopped_at + 1, stopped_at + 6))
    assert list_steps(checkpoints)[0] == stopped_at + 5


def test_a_truncated_newest_checkpoint_is_skipped_and_training_resumes_from_the_one_before(
    tmp_path: Path, train_text_folder: Path
) -> None:
    checkpoints = tmp_path / "ckpt"
    data = ["--data", str(train_text_folder), "--checkpoint-dir", str(checkpoints)]
    _run(_command(1, *data, "--checkpoint-every", "10", "--max-steps", "30"))
    newest = checkpoints / "step-00000030.train.pt"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])

    resumed = _run(_command(1, *data, "--checkpoint-every", "10", "--max-steps", "40"))

    assert "skipping unreadable checkpoint" in resumed.stderr and newest.name in resumed.stderr
    assert _steps(resumed.stdout)[0]["step"] == 21
    # The torn step 30 was rewritten whole by the resumed run, and counted once it loaded again.
    assert list_steps(checkpoints) == [40, 30, 20]


def test_with_a_preempted_exit_code_a_sigterm_stop_exits_with_it_and_the_restart_resumes(
    tmp_path: Path,
) -> None:
    checkpoints = tmp_path / "ckpt"
    flags = [*UNTIL_STOPPED, "--checkpoint-dir", str(checkpoints)]

    returncode, stdout, stderr = _run_until_sigterm(_command(1, *flags, "--preempted-exit-code", "75"), 10)

    assert returncode == 75, stderr
    assert "Traceback" not in stderr
    (stopped_at,) = list_steps(checkpoints)
    assert _steps(stdout)[-1]["step"] == stopped_at
    assert re.search(rf"rank 0 INFO .*stopping after step {stopped_at}\b", stderr), stderr

    # A restart that reaches --max-steps is a finished run: it exits 0 though the option is still set.
    resumed = _run(
        _command(1, "--max-steps", str(stopped_at + 3), "--checkpoint-dir", str(checkpoints)),
        **{PREEMPTED: "75"},
    )
    assert [entry["step"] for entry in _steps(resumed.stdout)] == list(range(stopped_at + 1, stopped_at + 4))


def test_under_the_launcher_every_rank_stops_once_and_the_launcher_exits_with_the_preempted_code(
    tmp_path: Path,
) -> None:
    # As the TrainingJob runs it: the code from the environment, torchrun allowed to restart its workers,
    # and the checkpoint location as a URI (file://: the memory:// of the checkpoint tests is per process).
    location = f"file://{tmp_path}/ckpt"
    command = [*_command(2, *UNTIL_STOPPED, "--checkpoint-dir", location)]
    command.insert(command.index("-m", 2), "--max-restarts=3")

    returncode, stdout, stderr = _run_until_sigterm(command, 10, **{PREEMPTED: "75"})

    assert returncode == 75, stderr
    assert "Traceback" not in stderr
    (stopped_at,) = list_steps(location)
    for rank in (0, 1):
        # Once each: the agent restarted no worker (a restarted group would resume and train on).
        assert len(re.findall(rf"rank {rank} INFO .*stopping after step {stopped_at}\b", stderr)) == 1, stderr
    assert "resumed from" not in stderr and "failed (exitcode" not in stderr
    assert _steps(stdout)[-1]["step"] == stopped_at

    resumed = _run(_command(2, "--max-steps", str(stopped_at + 3), "--checkpoint-dir", location))
    assert [entry["step"] for entry in _steps(resumed.stdout)] == list(range(stopped_at + 1, stopped_at + 4))
    assert f"resumed from {location}/step-{stopped_at:08d}" in resumed.stderr


def test_under_the_launcher_a_worker_that_fails_still_fails_the_launch(tmp_path: Path) -> None:
    # Bad flags make every worker exit 2: a failure, not a preemption, whatever the preempted code.
    command = _command(2, "--n-embd", "30", "--n-head", "4", "--checkpoint-dir", str(tmp_path / "ckpt"))

    result = _run(command, expect=1, **{PREEMPTED: "75"})

    assert "--n-embd (30) must be divisible by --n-head (4)" in result.stderr
