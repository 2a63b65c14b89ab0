"""The model handoff end to end (issue 20), as the platform runs it: the trainer's command writes exports
beside its checkpoints, the stager copies the one ``latest`` names into a serving pod's folder, and both our
server (``--model-dir``, a real process) and transformers serve it, answering greedy requests alike.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from serve_fixtures import ServerProcess, free_port, wait_ready

from stager.copy import stage
from workloads.checkpoint import list_steps
from workloads.model import decode, encode

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--seq-len", "32", "--batch-size", "8"]
pytestmark = pytest.mark.slow


def _train(checkpoints: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CHECKPOINT_DIR"}
    command = [sys.executable, "-m", "workloads.train", *TINY, "--metrics-port", "0", "--log-every", "5"]
    return subprocess.run(
        [*command, "--checkpoint-dir", str(checkpoints), *flags],
        cwd=ROOT,
        env={**env, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_trainer_exports_are_pruned_like_checkpoints_and_staged_exports_serve_alike(
    transformers: Any, tmp_path: Path
) -> None:
    checkpoints, staged = tmp_path / "ckpt", tmp_path / "models" / "current"
    result = _train(checkpoints, "--max-steps", "20", "--checkpoint-every", "5", "--keep-last", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert list_steps(checkpoints) == [20, 15]
    exports = sorted(p.name for p in (checkpoints / "export").iterdir())
    assert exports == ["latest", "step-00000015", "step-00000020"]

    assert stage(str(checkpoints), staged, options={}, poll_seconds=0) == "step-00000020"

    prompt, tokens = "def main(", 12
    reference = transformers.AutoModelForCausalLM.from_pretrained(staged).eval()
    with torch.no_grad():
        generated = reference.generate(
            torch.tensor([encode(prompt)]), max_new_tokens=tokens, do_sample=False, pad_token_id=0
        )
    expected = decode(generated[0, len(encode(prompt)) :].tolist())

    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "workloads.serve", "--model-dir", str(staged)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server)
        body = {"model": "lepton-gpt", "prompt": prompt, "max_tokens": tokens, "temperature": 0}
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/readyz").json() == {"status": "ready", "step": 20}
            assert http.post("/v1/completions", json=body).json()["choices"][0]["text"] == expected
            streamed = http.post(
                "/v1/completions", json={**body, "stream": True, "stream_options": {"include_usage": True}}
            )
        events = [e.removeprefix("data: ") for e in streamed.text.split("\n\n") if e]
        chunks = [json.loads(e) for e in events[:-1]]
        assert events[-1] == "[DONE]" and "".join(c["choices"][0]["text"] for c in chunks[:-1]) == expected
        assert chunks[-1]["usage"] == {
            "prompt_tokens": len(prompt),
            "completion_tokens": tokens,
            "total_tokens": len(prompt) + tokens,
        }
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert "Traceback" not in server.logs()


def test_without_export_the_trainer_writes_none_and_a_later_run_exports_the_step_it_resumes(
    tmp_path: Path,
) -> None:
    checkpoints = tmp_path / "ckpt"
    first = _train(checkpoints, "--max-steps", "5", "--checkpoint-every", "5", "--no-export")
    assert first.returncode == 0, first.stderr[-3000:]
    assert not (checkpoints / "export").exists()

    resumed = _train(checkpoints, "--max-steps", "5", "--checkpoint-every", "5")

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (checkpoints / "export" / "latest").read_text() == "step-00000005\n"
