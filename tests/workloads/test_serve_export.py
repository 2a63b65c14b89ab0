"""Our server on the model handoff (issue 20): it serves the export ``export/latest`` names, or a staged
export directory (``--model-dir``), loaded on the CPU and then moved, and keeps waiting for the first one.

At equal steps the export is read (what vLLM and the stager read too), the checkpoint's weights file is the
fallback; a newer step wins whichever file holds it. In process, with the watcher's clock sped up.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from serve_fixtures import AppClient, completion_body
from test_serve_waiting import Replica, wait_until

from lepton_infra.contract import ServeExit, export_path
from stager.copy import stage
from workloads.checkpoint import checkpoint_path, save_checkpoint
from workloads.export import files
from workloads.export.folder import ExportFolder
from workloads.model import GPT, ModelConfig
from workloads.serve.settings import parse_settings

CONFIG = ModelConfig(n_layer=1, n_head=2, n_embd=32, seq_len=64)


def _model(seed: int) -> GPT:
    torch.manual_seed(seed)
    return GPT(CONFIG).eval()


def _export(folder: Path, step: int, seed: int) -> GPT:
    model = _model(seed)
    ExportFolder(folder).save(step, model.state_dict(), CONFIG, keep_last=3)
    return model


def _checkpoint(folder: Path, step: int, seed: int) -> GPT:
    model = _model(seed)
    save_checkpoint(folder, step, {"model": model.state_dict(), "model_config": CONFIG.to_dict()})
    return model


def _served(replica: Replica, prompt: str = "ab") -> list[float]:
    """The served model's logits for ``prompt``'s last byte, read from the engine's own model."""
    decoder = replica.engine._decoder
    assert decoder is not None
    model = decoder.model
    tokens = torch.tensor([list(prompt.encode())], device=next(model.parameters()).device)
    with torch.no_grad():
        return [round(v, 5) for v in model(tokens)[0, -1, :4].tolist()]


def _logits(model: GPT, prompt: str = "ab") -> list[float]:
    with torch.no_grad():
        return [round(v, 5) for v in model(torch.tensor([list(prompt.encode())]))[0, -1, :4].tolist()]


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    return folder


def test_a_location_with_only_exports_is_waited_for_then_served(empty: Path) -> None:
    with Replica(empty) as replica, AppClient(replica.app) as http:
        time.sleep(0.1)
        assert http.get("/readyz").json() == {"status": "waiting_for_checkpoint"}
        model = _export(empty, 30, seed=3)
        wait_until(lambda: replica.engine.ready)
        assert http.get("/readyz").json() == {"status": "ready", "step": 30}
        assert http.post("/v1/completions", json=completion_body("hi", max_tokens=3)).status_code == 200
        assert _served(replica) == _logits(model)


def test_at_equal_steps_the_export_is_read_and_the_weights_file_is_the_fallback(empty: Path) -> None:
    _checkpoint(empty, 10, seed=1)
    exported = _export(empty, 10, seed=2)  # a different model under the same step, to tell them apart
    with Replica(empty) as replica:
        wait_until(lambda: replica.engine.ready)
        assert _served(replica) == _logits(exported)

    weights = Path(export_path(str(empty), 10)) / files.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-1])
    with Replica(empty) as replica:
        wait_until(lambda: replica.engine.ready)
        assert _served(replica) == _logits(_model(1)) and replica.engine.served_step == 10


def test_a_newer_checkpoint_than_the_export_is_served(empty: Path) -> None:
    _export(empty, 10, seed=1)
    newer = _checkpoint(empty, 20, seed=2)
    with Replica(empty) as replica:
        wait_until(lambda: replica.engine.ready)
        assert replica.engine.served_step == 20 and _served(replica) == _logits(newer)


def test_following_serves_each_newer_export(empty: Path) -> None:
    _export(empty, 10, seed=1)
    with Replica(empty, follow=True) as replica:
        wait_until(lambda: replica.engine.served_step == 10)
        newer = _export(empty, 20, seed=2)
        wait_until(lambda: replica.engine.served_step == 20)
        assert _served(replica) == _logits(newer)


def test_a_staged_export_directory_is_served_with_the_step_it_records(tmp_path: Path) -> None:
    checkpoints, staged = tmp_path / "ckpt", tmp_path / "models" / "current"
    model = _export(checkpoints, 42, seed=4)
    stage(str(checkpoints), staged, options={}, poll_seconds=0)
    with Replica(staged, model_dir=True) as replica:
        wait_until(lambda: replica.engine.ready)
        assert replica.engine.served_step == 42 and _served(replica) == _logits(model)


def test_a_model_dir_that_is_no_export_ends_the_server_with_bad_input_naming_what_it_lacks(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "current"
    folder.mkdir()
    (folder / files.CONFIG).write_text("{}")
    with Replica(folder, model_dir=True) as replica:
        wait_until(lambda: replica.watcher.failure is not None)
    failure = replica.watcher.failure
    assert failure is not None and failure.status == ServeExit.BAD_INPUT
    assert failure.message == (
        f"{folder} is not a model export: it lacks model.safetensors, tokenizer.json, tokenizer_config.json"
    )


def test_a_model_dir_of_another_architecture_is_refused_naming_the_field(tmp_path: Path) -> None:
    checkpoints = tmp_path / "ckpt"
    _export(checkpoints, 1, seed=1)
    folder = Path(export_path(str(checkpoints), 1))
    config = folder / files.CONFIG
    config.write_text(config.read_text().replace('"gelu"', '"gelu_new"'))
    with Replica(folder, model_dir=True) as replica:
        wait_until(lambda: replica.watcher.failure is not None)
    failure = replica.watcher.failure
    assert failure is not None and failure.status == ServeExit.BAD_INPUT
    assert "activation_function is 'gelu_new'" in failure.message


def test_model_dir_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECKPOINT_DIR", str(tmp_path))
    settings = parse_settings(["--model-dir", str(tmp_path)])
    assert settings.model_dir and settings.checkpoint_dir == str(tmp_path)
    assert not parse_settings([]).model_dir


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--model-dir", "{tmp}", "--checkpoint-dir", "{tmp}"],
            "give --checkpoint-dir or --model-dir, not both",
        ),
        (["--model-dir", "{tmp}/nowhere"], "does not exist"),
        (["--model-dir", "{tmp}", "--follow-checkpoints"], "a --model-dir is read once"),
    ],
)
def test_bad_model_dir_flags_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_settings([flag.format(tmp=tmp_path) for flag in flags])
    assert exit_.value.code == ServeExit.BAD_INPUT
    [line] = capsys.readouterr().err.splitlines()
    assert message in line


def test_a_corrupt_checkpoint_weights_file_is_not_read_when_the_export_of_its_step_loads(
    empty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _checkpoint(empty, 10, seed=1)
    Path(checkpoint_path(empty, 10, "model")).write_bytes(b"torn")
    _export(empty, 10, seed=1)
    with Replica(empty) as replica:
        wait_until(lambda: replica.engine.ready)
    assert "step-00000010.model.pt" not in caplog.text
