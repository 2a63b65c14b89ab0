"""The model handoff (issue 20), without Hugging Face's libraries: the export holds exactly the contract's
files, our server reads back the very weights the trainer exported, and a ``config.json`` or weights file
of another model is refused naming what is wrong. ``test_export_hugging_face.py`` (slow) loads the same
exports with transformers and tokenizers.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import torch
from export_fixtures import CONFIG, export, trained_looking

from lepton_infra.contract import EXPORT_FILES, export_latest_marker, export_name
from stager.copy import stage
from workloads.export import files, gpt2
from workloads.export.folder import ExportFolder
from workloads.model import GPT


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[GPT, Path]:
    model = trained_looking(0)
    return model, export(tmp_path_factory.mktemp("ckpt"), 42, model)


def test_the_export_holds_exactly_the_files_the_contract_names(exported: tuple[GPT, Path]) -> None:
    _, folder = exported
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPORT_FILES)
    assert set(files.WRITE_ORDER) == set(EXPORT_FILES)
    assert Path(export_latest_marker(str(folder.parent.parent))).read_text() == "step-00000042\n"


def test_our_server_reads_back_the_very_weights_the_trainer_exported(exported: tuple[GPT, Path]) -> None:
    model, folder = exported
    state = ExportFolder(folder.parent.parent).load(42)
    assert state is not None and state["step"] == 42
    assert state["model_config"] == CONFIG.to_dict()
    original = model.state_dict()
    assert set(state["model"]) == set(original)
    assert all(torch.equal(state["model"][name], tensor) for name, tensor in original.items())


def _config(**changes: object) -> dict[str, object]:
    return {**gpt2.hf_config(CONFIG), **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"activation_function": "gelu_new"}, "activation_function"),
        ({"layer_norm_epsilon": 1e-6}, "layer_norm_epsilon"),
        ({"n_inner": 128}, "n_inner"),
        ({"tie_word_embeddings": False}, "tie_word_embeddings"),
        ({"scale_attn_by_inverse_layer_idx": True}, "scale_attn_by_inverse_layer_idx"),
        ({"reorder_and_upcast_attn": True}, "reorder_and_upcast_attn"),
        ({"model_type": "llama"}, "model_type"),
        ({"n_head": "4"}, "n_head"),
        ({"n_head": 5}, "divisible"),
        ({"attn_pdrop": 1.5}, "attn_pdrop"),
    ],
)
def test_a_config_of_another_model_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(gpt2.NotGPT2, match=field):
        gpt2.model_config(_config(**changes))


def test_a_config_that_leaves_out_the_activation_means_gpt2s_default_and_is_refused() -> None:
    config = _config()
    del config["activation_function"]
    with pytest.raises(gpt2.NotGPT2, match="activation_function is 'gelu_new'"):
        gpt2.model_config(config)


def test_the_config_round_trips_to_the_same_model_shape() -> None:
    assert gpt2.model_config(json.loads(json.dumps(gpt2.hf_config(CONFIG)))) == CONFIG


def test_the_config_names_no_special_token_of_gpt2s_vocabulary() -> None:
    """GPT2Config defaults ``bos_token_id`` and ``eos_token_id`` to 50256 (transformers'
    configuration_gpt2.py), an id past our 256: left out, a generator would stop on, or index, a token
    that does not exist. The export says null."""
    config = gpt2.hf_config(CONFIG)
    assert config["bos_token_id"] is None and config["eos_token_id"] is None


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda w: w[:100], "truncated"),
        (lambda w: b"\x00" * len(w), "does not load|not safetensors"),
        (lambda w: w[:8] + b"[" + w[9:], "not safetensors"),
        (lambda w: w[:-5] + bytes([w[-5] ^ 1]) + w[-4:], "fails its SHA-256 check"),
    ],
)
def test_a_damaged_weights_file_is_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object, reason: str
) -> None:
    folder = export(tmp_path, 5, trained_looking(3))
    weights = folder / files.WEIGHTS
    weights.write_bytes(damage(weights.read_bytes()))  # type: ignore[operator]
    exports = ExportFolder(tmp_path)
    with caplog.at_level(logging.WARNING, logger="workloads.export"):
        assert exports.latest() is None
        assert exports.latest() is None
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"skipping export {folder}: ")
    assert re.search(reason, warning), warning


@pytest.mark.parametrize("step", [7, 123456789])
def test_the_stager_copies_byte_for_byte_the_export_the_trainer_named_latest(
    tmp_path: Path, step: int
) -> None:
    """The trainer (``ExportFolder``) and the platform's stager find the export through the contract's one
    layout (``export_path``, ``named_export_path``), steps beyond eight digits included."""
    checkpoints, destination = tmp_path / "ckpt", tmp_path / "models" / "current"
    export(checkpoints, 1, trained_looking(1))
    folder = export(checkpoints, step, trained_looking(2))

    assert stage(str(checkpoints), destination, options={}, poll_seconds=0) == export_name(step)

    assert {p.name: p.read_bytes() for p in destination.iterdir()} == {
        p.name: p.read_bytes() for p in folder.iterdir()
    }
