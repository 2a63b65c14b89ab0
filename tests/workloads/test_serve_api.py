"""The HTTP contract, in process: OpenAI shapes, limits, and every bad request answered with a 4xx."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_fixtures import MODEL_NAME, AppClient, completion_body, in_process, train_checkpoint
from starlette.applications import Starlette

from workloads.serve.engine import Engine
from workloads.serve.metrics import Metrics

PROMPT = "The quick brown"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_checkpoint(tmp_path_factory.getbasetemp() / "serve-checkpoint")


@pytest.fixture(scope="module")
def stack(checkpoint: Path) -> Iterator[tuple[Starlette, Engine, Metrics]]:
    with in_process(checkpoint) as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: tuple[Starlette, Engine, Metrics]) -> Iterator[AppClient]:
    with AppClient(stack[0]) as test_client:
        yield test_client


def assert_openai_error(response: httpx.Response, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and error["type"]
    if param is not None:
        assert error["param"] == param
    return error


def test_a_completion_has_the_openai_shape_and_counts_tokens(client: AppClient) -> None:
    response = client.post("/v1/completions", json=completion_body(PROMPT, max_tokens=5, temperature=0))
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("cmpl-") and body["object"] == "text_completion"
    assert body["model"] == MODEL_NAME and isinstance(body["created"], int)
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["logprobs"] is None and choice["finish_reason"] == "length"
    assert len(choice["text"].encode()) == 5
    assert body["usage"] == {
        "prompt_tokens": len(PROMPT),
        "completion_tokens": 5,
        "total_tokens": len(PROMPT) + 5,
    }


def test_a_prompt_list_with_n_returns_prompt_major_choices_each_equal_to_its_prompt_alone(
    client: AppClient,
) -> None:
    prompts = ["The early", "All that"]
    fields = {"max_tokens": 8, "temperature": 0.9, "seed": 11}
    both = client.post("/v1/completions", json=completion_body(prompts, n=2, **fields)).json()
    assert [c["index"] for c in both["choices"]] == [0, 1, 2, 3]
    for position, prompt in enumerate(prompts):
        alone = client.post("/v1/completions", json=completion_body(prompt, **fields)).json()
        assert both["choices"][position * 2]["text"] == alone["choices"][0]["text"]
    assert both["usage"]["prompt_tokens"] == sum(len(p) for p in prompts)


def test_a_stop_sequence_ends_the_choice_with_finish_reason_stop(client: AppClient) -> None:
    free = client.post("/v1/completions", json=completion_body(PROMPT, max_tokens=30, temperature=0)).json()
    text = free["choices"][0]["text"]
    stop = text[3:5]
    stopped = client.post(
        "/v1/completions", json=completion_body(PROMPT, max_tokens=30, temperature=0, stop=[stop, "\u2603"])
    ).json()
    assert stopped["choices"][0] == {
        "text": text[: text.index(stop)],
        "index": 0,
        "logprobs": None,
        "finish_reason": "stop",
    }


def test_streaming_sends_the_same_text_as_server_sent_events_ending_with_done(client: AppClient) -> None:
    fields = {"max_tokens": 12, "temperature": 0.7, "seed": 5}
    whole = client.post("/v1/completions", json=completion_body(PROMPT, **fields)).json()
    response = client.post("/v1/completions", json=completion_body(PROMPT, stream=True, **fields))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    raw = response.text
    events = [block.removeprefix("data: ") for block in raw.split("\n\n") if block]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert len({chunk["id"] for chunk in chunks}) == 1 and chunks[0]["id"].startswith("cmpl-")
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == whole["choices"][0]["text"]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks][-1] == "length"


def _events(response: httpx.Response) -> list[Any]:
    events = [block.removeprefix("data: ") for block in response.text.split("\n\n") if block]
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


def test_a_stream_asked_for_usage_ends_with_openais_usage_event(client: AppClient) -> None:
    """OpenAI (API reference, completions, ``stream_options.include_usage``): "an additional chunk will be
    streamed before the data: [DONE] message. The usage field on this chunk shows the token usage statistics
    for the entire request, and the choices field will always be an empty array. All other chunks will also
    include a usage field, but with a null value." Each prompt is counted once, whatever ``n``, as in the
    response without a stream."""
    fields = {"prompt": [PROMPT, "ab"], "n": 2, "max_tokens": 5, "seed": 3, "temperature": 0.8}
    whole = client.post("/v1/completions", json=completion_body(**fields)).json()
    streamed = client.post(
        "/v1/completions",
        json=completion_body(**fields, stream=True, stream_options={"include_usage": True}),
    )
    assert streamed.status_code == 200
    *chunks, last = _events(streamed)
    assert last["choices"] == [] and last["object"] == "text_completion"
    assert last["id"] == chunks[0]["id"] and last["model"] == MODEL_NAME
    assert last["usage"] == whole["usage"]
    assert whole["usage"]["prompt_tokens"] == len(PROMPT) + 2
    assert all(chunk["usage"] is None and chunk["choices"] for chunk in chunks)
    for index, choice in enumerate(whole["choices"]):
        text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"][0]["index"] == index)
        assert text == choice["text"]


@pytest.mark.parametrize("options", [None, {"include_usage": False}, {}])
def test_a_stream_not_asked_for_usage_has_no_usage_event(client: AppClient, options: Any) -> None:
    body = completion_body(PROMPT, max_tokens=4, stream=True, stream_options=options)
    chunks = _events(client.post("/v1/completions", json=body))
    assert all(chunk["choices"] and chunk["usage"] is None for chunk in chunks)


def test_unknown_stream_options_are_ignored_like_unknown_fields(client: AppClient) -> None:
    options = {"include_usage": True, "continuous_usage_stats": True, "include_obfuscation": False}
    body = completion_body(PROMPT, max_tokens=2, stream=True, stream_options=options)
    assert _events(client.post("/v1/completions", json=body))[-1]["choices"] == []


def test_generation_stops_with_length_when_the_context_is_full(client: AppClient, stack: Any) -> None:
    seq_len = stack[1].seq_len
    prompt = "x" * (seq_len - 3)
    body = client.post("/v1/completions", json=completion_body(prompt, max_tokens=50, temperature=0)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    one = client.post("/v1/completions", json=completion_body("x" * (seq_len - 1), max_tokens=5)).json()
    assert one["usage"]["completion_tokens"] == 1


# Prompts that leave no room for a single token (the context is 64 bytes): each must be a 400, and the
# server must log no ERROR (issue 15 item 9: a full-context prompt used to crash a decoding step, logged
# with a traceback, though the client got a 200).
FULL_CONTEXT = [
    ("exactly the context", {"prompt": "x" * 64}),
    ("the context, streamed", {"prompt": "x" * 64, "stream": True}),
    ("the context, n=3", {"prompt": "x" * 64, "n": 3}),
    ("the context, max_tokens 1", {"prompt": "x" * 64, "max_tokens": 1}),
    ("the context, greedy", {"prompt": "x" * 64, "temperature": 0}),
    ("two-byte characters filling it", {"prompt": "\u00e9" * 32}),
    ("three-byte characters filling it", {"prompt": "x" + "\u20ac" * 21}),
    ("one full prompt of a list", {"prompt": ["short", "y" * 64]}),
    ("the last of a list", {"prompt": ["a", "b", "z" * 64], "n": 2}),
    ("one byte over", {"prompt": "x" * 65}),
]


@pytest.mark.parametrize("fields", [c[1] for c in FULL_CONTEXT], ids=[c[0] for c in FULL_CONTEXT])
def test_a_prompt_that_fills_the_context_is_a_400_and_logs_no_error(
    client: AppClient, stack: Any, fields: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = client.post("/v1/completions", json={"model": MODEL_NAME, **fields})
        wait_until(lambda: stack[1].idle)
    assert assert_openai_error(response, 400, "prompt")["code"] == "context_length_exceeded"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert client.post("/v1/completions", json=completion_body(PROMPT, max_tokens=2)).status_code == 200


def test_models_lists_the_served_model(client: AppClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [(m["id"], m["object"]) for m in body["data"]] == [(MODEL_NAME, "model")]


def test_unknown_fields_are_ignored(client: AppClient) -> None:
    response = client.post(
        "/v1/completions", json=completion_body(PROMPT, max_tokens=2, not_a_field={"x": 1})
    )
    assert response.status_code == 200


BAD_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("invalid json", b'{"model": "lepton-gpt", "prompt": ', 400, None),
    ("json that is not an object", b'["lepton-gpt"]', 400, None),
    ("empty body", b"", 400, None),
    ("invalid utf-8", b'{"model": "lepton-gpt", "prompt": "\xff\xfe"}', 400, None),
    ("missing model", b'{"prompt": "hi"}', 400, "model"),
    ("missing prompt", b'{"model": "lepton-gpt"}', 400, "prompt"),
    ("unknown model", b'{"model": "gpt-4", "prompt": "hi"}', 404, "model"),
    ("prompt of wrong type", b'{"model": "lepton-gpt", "prompt": 42}', 400, "prompt"),
    ("prompt list with a number", b'{"model": "lepton-gpt", "prompt": ["a", 1]}', 400, "prompt"),
    ("token-id prompt", b'{"model": "lepton-gpt", "prompt": [1, 2, 3]}', 400, "prompt"),
    ("empty prompt", b'{"model": "lepton-gpt", "prompt": ""}', 400, "prompt"),
    ("max_tokens as string", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": "5"}', 400, "max_tokens"),
    ("max_tokens as float", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": 5.0}', 400, "max_tokens"),
    ("max_tokens as bool", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": true}', 400, "max_tokens"),
    ("negative max_tokens", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": -1}', 400, "max_tokens"),
    ("zero max_tokens", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": 0}', 400, "max_tokens"),
    ("huge max_tokens", b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": 1e400}', 400, "max_tokens"),
    (
        "max_tokens over the cap",
        b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": 65}',
        400,
        "max_tokens",
    ),
    (
        "bigint max_tokens",
        b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": ' + b"9" * 40 + b"}",
        400,
        "max_tokens",
    ),
    ("NaN temperature", b'{"model": "lepton-gpt", "prompt": "a", "temperature": NaN}', 400, "temperature"),
    ("Infinity top_p", b'{"model": "lepton-gpt", "prompt": "a", "top_p": Infinity}', 400, "top_p"),
    (
        "-Infinity temperature",
        b'{"model": "lepton-gpt", "prompt": "a", "temperature": -Infinity}',
        400,
        "temperature",
    ),
    (
        "negative temperature",
        b'{"model": "lepton-gpt", "prompt": "a", "temperature": -0.1}',
        400,
        "temperature",
    ),
    ("top_p above one", b'{"model": "lepton-gpt", "prompt": "a", "top_p": 1.5}', 400, "top_p"),
    ("stream as string", b'{"model": "lepton-gpt", "prompt": "a", "stream": "yes"}', 400, "stream"),
    ("stop as number", b'{"model": "lepton-gpt", "prompt": "a", "stop": 3}', 400, "stop"),
    (
        "five stop sequences",
        b'{"model": "lepton-gpt", "prompt": "a", "stop": ["a","b","c","d","e"]}',
        400,
        "stop",
    ),
    ("negative seed", b'{"model": "lepton-gpt", "prompt": "a", "seed": -1}', 400, "seed"),
    # OpenAI: stream_options "Only set this when you set stream: true".
    (
        "stream_options without stream",
        b'{"model": "lepton-gpt", "prompt": "a", "stream_options": {"include_usage": true}}',
        400,
        "stream_options",
    ),
    (
        "stream_options with stream false",
        b'{"model": "lepton-gpt", "prompt": "a", "stream": false, "stream_options": {}}',
        400,
        "stream_options",
    ),
    (
        "stream_options not an object",
        b'{"model": "lepton-gpt", "prompt": "a", "stream": true, "stream_options": true}',
        400,
        "stream_options",
    ),
    (
        "include_usage as string",
        b'{"model": "lepton-gpt", "prompt": "a", "stream": true, "stream_options": {"include_usage": "yes"}}',
        400,
        "stream_options",
    ),
    (
        "include_usage as number",
        b'{"model": "lepton-gpt", "prompt": "a", "stream": true, "stream_options": {"include_usage": 1}}',
        400,
        "stream_options",
    ),
    (
        "seed beyond 63 bits",
        b'{"model": "lepton-gpt", "prompt": "a", "seed": 9223372036854775808}',
        400,
        "seed",
    ),
    ("n of zero", b'{"model": "lepton-gpt", "prompt": "a", "n": 0}', 400, "n"),
    ("more sequences than the queue", b'{"model": "lepton-gpt", "prompt": ["a", "b"], "n": 33}', 400, "n"),
    ("echo", b'{"model": "lepton-gpt", "prompt": "a", "echo": true}', 400, "echo"),
    ("logprobs", b'{"model": "lepton-gpt", "prompt": "a", "logprobs": 2}', 400, "logprobs"),
    ("best_of", b'{"model": "lepton-gpt", "prompt": "a", "best_of": 3}', 400, "best_of"),
    (
        "prompt longer than the context",
        b'{"model": "lepton-gpt", "prompt": "' + b"a" * 65 + b'"}',
        400,
        "prompt",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "param"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_bad_requests_get_an_openai_error_and_a_4xx(
    client: AppClient, body: bytes, status: int, param: str | None
) -> None:
    response = client.post("/v1/completions", content=body, headers={"content-type": "application/json"})
    assert_openai_error(response, status, param)


def test_a_declared_oversized_body_is_refused_with_413_before_it_is_read(client: AppClient) -> None:
    response = client.post("/v1/completions", content=b"x" * 5000)
    assert assert_openai_error(response, 413)["code"] == "request_too_large"


def test_an_oversized_body_without_content_length_is_refused_with_413(client: AppClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"model": "lepton-gpt", "prompt": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    response = client.post("/v1/completions", content=chunks())
    assert "content-length" not in response.request.headers
    assert_openai_error(response, 413)


def test_unknown_routes_and_methods_get_openai_errors(client: AppClient) -> None:
    assert_openai_error(client.get("/v1/nothing"), 404)
    assert_openai_error(client.get("/v1/completions"), 405)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
)
FIELDS = {
    "model": st.just(MODEL_NAME) | JSON_VALUES,
    "prompt": st.text(max_size=80) | st.lists(st.text(max_size=10), max_size=4) | JSON_VALUES,
    "max_tokens": st.integers(-5, 100) | JSON_VALUES,
    "temperature": st.floats(-1, 3) | JSON_VALUES,
    "top_p": st.floats(-1, 2) | JSON_VALUES,
    "n": st.integers(-1, 40) | JSON_VALUES,
    "stream": st.booleans() | JSON_VALUES,
    "stop": st.text(max_size=3) | st.lists(st.text(max_size=3), max_size=5) | JSON_VALUES,
    "seed": st.integers(-(2**64), 2**64) | JSON_VALUES,
    "echo": JSON_VALUES,
    "stream_options": st.fixed_dictionaries({}, optional={"include_usage": st.booleans() | JSON_VALUES})
    | JSON_VALUES,
}
BODIES = st.fixed_dictionaries({}, optional=FIELDS) | JSON_VALUES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_no_json_body_makes_the_server_fail(client: AppClient, body: Any) -> None:
    response = client.post("/v1/completions", content=json.dumps(body, allow_nan=True))
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code == 200:
        text = response.text
        assert text.startswith("data: ") if body.get("stream") is True else response.json()["choices"]
    else:
        assert_openai_error(response, response.status_code)


def test_after_all_that_the_server_still_serves_and_counted_no_5xx(
    client: AppClient, stack: tuple[Starlette, Engine, Metrics]
) -> None:
    response = client.post("/v1/completions", json=completion_body(PROMPT, max_tokens=3))
    assert response.status_code == 200
    exposition = client.get("/metrics").text
    assert 'lepton_serve_requests_total{endpoint="/v1/completions",status="400"}' in exposition
    assert 'status="5' not in exposition
    assert stack[1].idle


def test_metrics_expose_the_serving_families(client: AppClient) -> None:
    client.post("/v1/completions", json=completion_body(PROMPT, max_tokens=2))
    exposition = client.get("/metrics").text
    for family in (
        "lepton_serve_requests_total",
        "lepton_serve_request_duration_seconds_bucket",
        "lepton_serve_time_to_first_token_seconds_bucket",
        "lepton_serve_generated_tokens_total",
        "lepton_serve_batch_size_bucket",
        "lepton_serve_queue_depth",
    ):
        assert f"\n{family}" in exposition, family


def test_a_full_queue_answers_429_with_retry_after(checkpoint: Path) -> None:
    async def burst(app: Starlette) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as http:
            body = completion_body(PROMPT, max_tokens=40, temperature=0)
            return await asyncio.gather(*(http.post("/v1/completions", json=body) for _ in range(12)))

    with in_process(checkpoint, max_batch_size=1, max_queue=1) as (app, engine, _):
        responses = asyncio.run(burst(app))
        assert engine.idle
    refused = [r for r in responses if r.status_code == 429]
    assert refused and all(r.status_code in (200, 429) for r in responses)
    assert refused[0].headers["retry-after"] == "1"
    assert assert_openai_error(refused[0], 429)["code"] == "queue_full"


def test_a_request_past_its_time_limit_gets_408_and_frees_its_row(checkpoint: Path) -> None:
    with in_process(checkpoint, request_timeout_s=0.001) as (app, engine, _), AppClient(app) as http:
        response = http.post("/v1/completions", json=completion_body(PROMPT, max_tokens=48))
        assert assert_openai_error(response, 408)["code"] == "timeout"
        wait_until(lambda: engine.idle)


def test_readiness_follows_warm_up_and_draining(checkpoint: Path) -> None:
    with in_process(checkpoint, start=False) as (app, engine, _), AppClient(app) as http:
        assert http.get("/readyz").json() == {"status": "loading"}
        response = http.post("/v1/completions", json=completion_body(PROMPT))
        assert assert_openai_error(response, 503)["code"] == "model_not_ready"
        assert http.get("/healthz").status_code == 200
        engine.start()
        wait_until(lambda: http.get("/readyz").status_code == 200)
        assert http.get("/readyz").json() == {"status": "ready", "step": 0}
        engine.start_draining()
        assert http.get("/readyz").json() == {"status": "draining", "step": 0}
        assert http.get("/healthz").status_code == 200
        response = http.post("/v1/completions", json=completion_body(PROMPT))
        assert assert_openai_error(response, 503)["code"] == "shutting_down"


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_requests_aborted_at_the_drain_deadline_get_503_not_500(checkpoint: Path) -> None:
    async def abort_during_load(app: Starlette, engine: Engine) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as http:
            body = completion_body(PROMPT, max_tokens=48)
            requests = [asyncio.create_task(http.post("/v1/completions", json=body)) for _ in range(4)]
            while engine.idle:
                await asyncio.sleep(0.001)
            engine.abort_all()
            return await asyncio.gather(*requests)

    with in_process(checkpoint, max_batch_size=1) as (app, engine, _):
        responses = asyncio.run(abort_during_load(app, engine))
        wait_until(lambda: engine.idle)
    aborted = [r for r in responses if r.status_code == 503]
    assert aborted and all(r.status_code in (200, 503) for r in responses)
    assert assert_openai_error(aborted[0], 503)["code"] == "shutting_down"


def test_an_omitted_max_tokens_defaults_to_16_or_the_cap_when_lower(checkpoint: Path) -> None:
    with in_process(checkpoint, max_tokens_cap=4) as (app, _, _), AppClient(app) as http:
        body = http.post("/v1/completions", json=completion_body(PROMPT)).json()
    assert body["usage"]["completion_tokens"] == 4


@pytest.mark.parametrize("pause_s", [0.0, 0.5])
def test_a_body_that_trickles_past_the_request_budget_gets_408_and_closes_the_connection(
    checkpoint: Path, pause_s: float
) -> None:
    # Issue 15 item 8: the request's budget covers reading its body, which used to have no limit at all.
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"model": "lepton-gpt", "prompt": "'
        for _ in range(20):
            await asyncio.sleep(pause_s or 0.05)
            yield b"a"
        yield b'"}'

    with in_process(checkpoint, request_timeout_s=0.3) as (app, _, _), AppClient(app) as http:
        response = http.post("/v1/completions", content=trickle())
    assert assert_openai_error(response, 408)["code"] == "timeout"
    assert response.headers["connection"] == "close"
