"""The pieces under the batching engine: cached forward, sampling, text assembly."""

from __future__ import annotations

import pytest
import torch

from workloads.model import GPT, ModelConfig
from workloads.serve.decoder import CachedDecoder
from workloads.serve.sampling import sample
from workloads.serve.text import TextStream

ATOL = 1e-5


@pytest.fixture(scope="module")
def model() -> GPT:
    torch.manual_seed(0)
    return GPT(ModelConfig(n_layer=2, n_head=4, n_embd=64, seq_len=32)).eval()


def reference(model: GPT, tokens: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return model(torch.tensor([tokens]))[0, -1]


def test_cached_prefill_of_rows_of_different_lengths_matches_the_plain_forward(model: GPT) -> None:
    decoder = CachedDecoder(model, rows=4)
    prompts = [[5, 6, 7], list(range(40, 60)), [9]]
    logits = decoder.forward(0, [0, 0, 0], prompts)
    for row, prompt in enumerate(prompts):
        torch.testing.assert_close(logits[row], reference(model, prompt), atol=ATOL, rtol=0)


def test_decoding_token_by_token_from_the_cache_matches_the_plain_forward(model: GPT) -> None:
    decoder = CachedDecoder(model, rows=2)
    texts = [[1, 2, 3], list(range(100, 110))]
    decoder.forward(0, [0, 0], texts)
    for step in range(15):
        new = [[(step * 7 + row) % 256] for row in range(2)]
        logits = decoder.forward(0, [len(t) for t in texts], new)
        for row in range(2):
            texts[row] += new[row]
            torch.testing.assert_close(logits[row], reference(model, texts[row]), atol=ATOL, rtol=0)


def test_a_row_moved_to_another_slot_keeps_decoding_correctly(model: GPT) -> None:
    decoder = CachedDecoder(model, rows=3)
    texts = [[1, 2], [3, 4, 5], [6, 7, 8, 9]]
    decoder.forward(0, [0, 0, 0], texts)
    decoder.move_row(2, 0)  # row 0 left the batch; the last row takes its place
    logits = decoder.forward(0, [4, 3], [[10], [11]])
    torch.testing.assert_close(logits[0], reference(model, [*texts[2], 10]), atol=ATOL, rtol=0)
    torch.testing.assert_close(logits[1], reference(model, [*texts[1], 11]), atol=ATOL, rtol=0)


def test_a_row_filling_the_whole_context_decodes_its_last_position(model: GPT) -> None:
    decoder = CachedDecoder(model, rows=2)
    long = list(range(31))
    decoder.forward(0, [0, 0], [long, [1]])
    logits = decoder.forward(0, [31, 1], [[200], [2]])
    torch.testing.assert_close(logits[0], reference(model, [*long, 200]), atol=ATOL, rtol=0)


def generators(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_temperature_zero_is_greedy() -> None:
    logits = torch.randn(3, 256, generator=torch.Generator().manual_seed(1))
    tokens = sample(logits, [0.0, 0.0, 0.0], [1.0, 0.5, 0.0], generators(1, 2, 3))
    assert tokens == logits.argmax(dim=-1).tolist()


def test_a_seeded_row_samples_the_same_tokens_whatever_shares_its_batch() -> None:
    source = torch.Generator().manual_seed(2)
    mine = torch.randn(256, generator=source)
    alone, batched = generators(7), generators(99, 7, 5)
    for _ in range(50):
        others = torch.randn(2, 256, generator=source)
        solo = sample(mine[None], [0.9], [0.95], alone)
        together = sample(
            torch.stack([others[0], mine, others[1]]), [1.3, 0.9, 0.0], [1.0, 0.95, 1.0], batched
        )
        assert solo[0] == together[1]


def test_a_tiny_top_p_keeps_only_the_most_likely_token() -> None:
    logits = torch.randn(4, 256, generator=torch.Generator().manual_seed(3))
    tokens = sample(logits, [1.0] * 4, [1e-6] * 4, generators(1, 2, 3, 4))
    assert tokens == logits.argmax(dim=-1).tolist()


def test_sampling_follows_the_distribution() -> None:
    logits = torch.full((1, 256), -1e9)
    logits[0, 10], logits[0, 20] = 0.0, torch.log(torch.tensor(3.0))
    generator = generators(0)
    counts = {10: 0, 20: 0}
    for _ in range(2000):
        counts[sample(logits, [1.0], [1.0], generator)[0]] += 1
    assert 0.7 < counts[20] / 2000 < 0.8


def feed(stream: TextStream, data: bytes) -> tuple[list[str], bool]:
    released: list[str] = []
    for byte in data:
        text, stopped = stream.push(byte)
        released.append(text)
        if stopped:
            return released, True
    return released, False


def test_a_stop_sequence_ends_the_text_and_is_not_released() -> None:
    released, stopped = feed(TextStream(("\n\n", "END")), b"hello wor END more")
    assert stopped and "".join(released) == "hello wor "


def test_text_that_may_begin_a_stop_sequence_is_held_back_until_it_cannot() -> None:
    stream = TextStream(("abc",))
    assert feed(stream, b"xa")[0] == ["x", ""]
    assert feed(stream, b"b")[0] == [""]
    assert feed(stream, b"d")[0] == ["abd"]


def test_a_multibyte_character_is_released_whole() -> None:
    released, _ = feed(TextStream(()), "é!".encode())
    assert released == ["", "é", "!"]


def test_finishing_mid_character_releases_a_replacement_character() -> None:
    stream = TextStream(("zz",))
    assert feed(stream, b"z\xc3") == (["", ""], False)
    assert stream.finish() == "z\ufffd"
