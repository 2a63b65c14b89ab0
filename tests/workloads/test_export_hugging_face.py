"""The model handoff (issue 20) as Hugging Face's libraries read it: what the trainer exports is GPT-2,
exactly. transformers loads it with the architecture vLLM implements (the same config fields and weight
names: vllm/model_executor/models/gpt2.py) and gets our logits; both tokenizers read text as our bytes;
the stager's copy loads the same. Slow: importing transformers alone takes about ten seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from export_fixtures import CONFIG, TOLERANCE, export, trained_looking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lepton_infra.contract import export_name
from stager.copy import stage
from workloads.export import files
from workloads.export.tokenizer import byte_characters
from workloads.model import GPT, decode, encode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[GPT, Path]:
    model = trained_looking(0)
    return model, export(tmp_path_factory.mktemp("ckpt"), 42, model)


@pytest.fixture(scope="module")
def tokenizers() -> ModuleType:
    return pytest.importorskip("tokenizers")


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_transformers_loads_the_export_as_gpt2_and_gets_our_logits(
    transformers: Any, exported: tuple[GPT, Path], attention: str
) -> None:
    model, folder = exported
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder, attn_implementation=attention).eval()
    assert type(theirs).__name__ == "GPT2LMHeadModel"
    assert theirs.config.activation_function == "gelu" and theirs.config.tie_word_embeddings
    assert theirs.lm_head.weight.data_ptr() == theirs.transformer.wte.weight.data_ptr()
    tokens = torch.randint(0, 256, (4, CONFIG.seq_len), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, hf = model(tokens), theirs(tokens).logits
    torch.testing.assert_close(hf, ours, **TOLERANCE)
    # Greedy decoding picks the same bytes: what a vLLM replica and ours would answer with temperature 0.
    prompt = torch.tensor([encode("The quick brown")])
    with torch.no_grad():
        generated = theirs.generate(prompt, max_new_tokens=20, do_sample=False, pad_token_id=0)
        ours_tokens = prompt
        for _ in range(20):
            ours_tokens = torch.cat([ours_tokens, model(ours_tokens)[:, -1:].argmax(-1)], dim=1)
    assert generated.tolist() == ours_tokens.tolist()


def test_every_field_of_the_config_is_one_gpt2config_reads_as_written(
    transformers: Any, exported: tuple[GPT, Path]
) -> None:
    """A misspelt field would be kept as an unknown attribute and its GPT2Config default used instead:
    each field must come back from GPT2Config's own dictionary with the value written. ``torch_dtype`` is
    the name every transformers version reads (5.x reads it as ``dtype``, without a warning)."""
    _, folder = exported
    written = json.loads((folder / files.CONFIG).read_text())
    known = transformers.GPT2Config().to_dict()
    loaded = transformers.AutoConfig.from_pretrained(folder)
    assert type(loaded).__name__ == "GPT2Config"
    read = loaded.to_dict()
    for field, value in written.items():
        if field == "torch_dtype":
            assert str(loaded.dtype) in {value, f"torch.{value}"}
            continue
        assert field in known, f"config.json: {field} is not a GPT2Config field"
        assert read[field] == value, field


def test_gpt2s_default_activation_would_not_match_which_is_why_the_config_names_gelu(
    transformers: Any, exported: tuple[GPT, Path]
) -> None:
    """The check above has teeth: GPT-2's default (tanh) GELU moves the logits well past the tolerance."""
    model, folder = exported
    config = transformers.AutoConfig.from_pretrained(folder)
    config.activation_function = "gelu_new"
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder, config=config).eval()
    tokens = torch.randint(0, 256, (2, CONFIG.seq_len), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        difference = (theirs(tokens).logits - model(tokens)).abs().max().item()
    assert difference > 10 * TOLERANCE["atol"]  # measured: about 1e-3


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), raw=st.binary(max_size=64))
def test_both_hugging_face_tokenizers_read_text_as_our_bytes_and_decode_them_as_we_do(
    loaded_tokenizers: tuple[Any, Any], text: str, raw: bytes
) -> None:
    fast, auto = loaded_tokenizers
    assert fast.encode(text).ids == encode(text)
    assert auto(text)["input_ids"] == encode(text)
    # Any bytes, invalid UTF-8 included: replaced as Python's errors="replace" does.
    assert fast.decode(list(raw)) == decode(list(raw))
    assert auto.decode(list(raw)) == decode(list(raw))


@pytest.fixture(scope="module")
def loaded_tokenizers(transformers: Any, tokenizers: Any, exported: tuple[GPT, Path]) -> tuple[Any, Any]:
    """The export's tokenizer as ``tokenizers`` reads ``tokenizer.json``, and as transformers'
    ``AutoTokenizer`` (what vLLM calls) reads the folder."""
    _, folder = exported
    fast = tokenizers.Tokenizer.from_file(str(folder / files.TOKENIZER))
    return fast, transformers.AutoTokenizer.from_pretrained(folder)


def test_the_tokenizer_has_the_256_bytes_and_no_special_token(loaded_tokenizers: tuple[Any, Any]) -> None:
    _, auto = loaded_tokenizers
    assert len(auto) == 256 and auto.all_special_ids == []
    assert auto.eos_token_id is None and auto.model_max_length == CONFIG.seq_len
    assert len(set(byte_characters())) == 256


def test_the_stager_stages_what_the_trainer_wrote_and_transformers_loads_the_copy(
    transformers: Any, tmp_path: Path
) -> None:
    checkpoints, destination = tmp_path / "ckpt", tmp_path / "models" / "current"
    export(checkpoints, 10, trained_looking(1))
    newest = trained_looking(2)
    export(checkpoints, 20, newest)

    assert stage(str(checkpoints), destination, options={}, poll_seconds=0) == export_name(20)

    theirs = transformers.AutoModelForCausalLM.from_pretrained(destination).eval()
    tokens = torch.randint(0, 256, (2, 16), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(theirs(tokens).logits, newest(tokens), **TOLERANCE)
