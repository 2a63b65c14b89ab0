"""The real server process on loopback: determinism, concurrency, hostile input, disconnects, SIGTERM.

Every test starts a server process (or the command line's), after training a small checkpoint: slow.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from serve_fixtures import (
    CORPUS,
    ServerProcess,
    completion_body,
    free_port,
    running_server,
    train_checkpoint,
    untrained_checkpoint,
    wait_ready,
)
from test_checkpoint_safety import _hostile_bytes, _payloads

from lepton_infra.contract import ServeExit
from workloads.checkpoint import checkpoint_path, load_latest_checkpoint, save_checkpoint
from workloads.model import GPT, ModelConfig, decode, encode

LONG_CONTEXT = 2048

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_checkpoint(tmp_path_factory.getbasetemp() / "serve-checkpoint")


@pytest.fixture(scope="module")
def long_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return untrained_checkpoint(tmp_path_factory.getbasetemp() / "serve-long-checkpoint", LONG_CONTEXT)


@pytest.fixture(scope="module")
def server(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    logs = tmp_path_factory.mktemp("logs")
    with running_server(checkpoint, logs, "--max-batch-size", "16", "--max-queue", "128") as started:
        yield started


def complete(server: ServerProcess, body: dict[str, Any]) -> dict[str, Any]:
    with server.client() as http:
        response = http.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def metric(exposition: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} (\S+)$", exposition, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def greedy_reference(checkpoint: Path, prompt: str, tokens: int) -> str:
    """Greedy decoding with the model's own full-window forward, no server code involved."""
    state = load_latest_checkpoint(checkpoint, "serving")
    assert state is not None
    model = GPT(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    ids = encode(prompt)
    torch.set_num_threads(1)  # other processes share the cores: spinning OpenMP threads only slow this
    with torch.inference_mode():
        for _ in range(tokens):
            ids.append(int(model.eval()(torch.tensor([ids]))[0, -1].argmax()))
    return decode(ids[len(encode(prompt)) :])


def test_greedy_completions_are_deterministic_and_match_the_model(
    server: ServerProcess, checkpoint: Path
) -> None:
    body = completion_body("The early bird", max_tokens=30, temperature=0)
    first, second = complete(server, body), complete(server, body)
    assert first["choices"] == second["choices"]
    assert first["choices"][0]["text"] == greedy_reference(checkpoint, "The early bird", 30)


def test_seeded_sampling_is_deterministic_and_the_seed_matters(server: ServerProcess) -> None:
    body = completion_body("A stitch in", max_tokens=30, temperature=1.0, seed=1234)
    assert complete(server, body)["choices"] == complete(server, body)["choices"]
    texts = {complete(server, {**body, "seed": seed})["choices"][0]["text"] for seed in (1, 2, 3)}
    assert len(texts) > 1


def concurrent_bodies() -> list[dict[str, Any]]:
    bodies = []
    for index in range(64):
        start = (index * 37) % 300
        prompt = CORPUS[start : start + 8 + index % 17]
        fields: dict[str, Any] = {"max_tokens": 4 + (index * 7) % 37}
        if index % 2:
            fields.update(temperature=0.6 + (index % 5) / 5, top_p=0.9, seed=index)
        else:
            fields.update(temperature=0)
        if index % 8 == 0:
            fields["stop"] = ["e ", "."]
        bodies.append(completion_body(prompt, **fields))
    return bodies


async def post_all(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as http:
        return await asyncio.gather(*(http.post("/v1/completions", json=body) for body in bodies))


def test_64_concurrent_clients_each_get_what_they_get_alone(server: ServerProcess) -> None:
    bodies = concurrent_bodies()
    alone = [complete(server, body) for body in bodies]
    with server.client() as http:
        before = http.get("/metrics").text
    together = asyncio.run(post_all(server.url, bodies))
    assert [r.status_code for r in together] == [200] * 64
    for body, single, batched in zip(bodies, alone, together, strict=True):
        result = batched.json()
        assert result["choices"] == single["choices"], body
        assert result["usage"] == single["usage"]
    with server.client() as http:
        after = http.get("/metrics").text
    steps = metric(after, "lepton_serve_batch_size_count") - metric(before, "lepton_serve_batch_size_count")
    small = metric(after, 'lepton_serve_batch_size_bucket{le="4.0"}') - metric(
        before, 'lepton_serve_batch_size_bucket{le="4.0"}'
    )
    assert steps > small, "no decoding step batched more than 4 sequences"


def raw_exchange(server: ServerProcess, payload: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(payload)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_hostile_input_over_http_gets_4xx_and_the_server_keeps_serving(server: ServerProcess) -> None:
    cases: list[tuple[bytes, int]] = [
        (b'{"model": "lepton-gpt", "prompt": "a", "temperature": NaN}', 400),
        (b'{"model": "lepton-gpt", "prompt": "\xc3\x28"}', 400),
        (b"{not json", 400),
        (b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": -3}', 400),
        (b'{"model": "lepton-gpt", "prompt": "a", "max_tokens": 100000000000}', 400),
        (b'{"model": "lepton-gpt", "prompt": ["a", {"b": 1}]}', 400),
        (b"x" * (2 << 20), 413),
    ]
    with server.client() as http:
        for body, status in cases:
            response = http.post("/v1/completions", content=body)
            assert response.status_code == status, response.text
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    declared = raw_exchange(
        server, b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n"
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
    assert raw_exchange(server, b"\x16\x03\x01 not http at all\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert (
        complete(server, completion_body("The quick", max_tokens=5))["choices"][0]["finish_reason"]
        == "length"
    )
    with server.client() as http:
        exposition = http.get("/metrics").text
    # (/readyz answered 503 while the model warmed up, before the fixture saw it ready: that is its job.)
    assert 'endpoint="/v1/completions",status="5' not in exposition


def wait_idle(http: httpx.Client) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        exposition = http.get("/metrics").text
        if (
            metric(exposition, "lepton_serve_running_sequences")
            + metric(exposition, "lepton_serve_queue_depth")
            == 0
        ):
            return exposition
        time.sleep(0.02)
    raise AssertionError("sequences still running")


def test_a_client_that_disconnects_frees_its_batch_row(
    long_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("logs")
    with running_server(long_checkpoint, logs, "--max-batch-size", "1", "--max-tokens-cap", "4000") as server:
        body = completion_body("x", max_tokens=LONG_CONTEXT - 1, temperature=0)
        with server.client() as http:
            with http.stream("POST", "/v1/completions", json={**body, "stream": True}) as response:
                next(response.iter_lines())
            with pytest.raises(httpx.ReadTimeout):
                http.post("/v1/completions", json=body, timeout=0.3)
            exposition = wait_idle(http)
        # Both requests left long before their 2047 tokens: the engine stopped generating for them.
        assert metric(exposition, "lepton_serve_generated_tokens_total") < LONG_CONTEXT
        assert metric(exposition, 'lepton_serve_requests_total{endpoint="/v1/completions",status="499"}') >= 1


async def stream_to_end(http: httpx.AsyncClient, body: dict[str, Any], accepted: asyncio.Event) -> list[str]:
    async with http.stream("POST", "/v1/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        accepted.set()
        return [line.removeprefix("data: ") async for line in response.aiter_lines() if line]


async def sigterm_during_load(server: ServerProcess, requests: int, max_tokens: int) -> tuple[list[Any], Any]:
    body = completion_body("x", max_tokens=max_tokens, temperature=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0) as http:
        accepted = [asyncio.Event() for _ in range(requests)]
        streams = [asyncio.create_task(stream_to_end(http, body, event)) for event in accepted]
        await asyncio.gather(*(event.wait() for event in accepted))
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.05)
        refused = await asyncio.gather(
            http.get("/readyz"), http.post("/v1/completions", json=body), return_exceptions=True
        )
        return await asyncio.gather(*streams, return_exceptions=True), refused


def test_sigterm_finishes_in_flight_requests_refuses_new_ones_and_exits_0(
    long_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("logs")
    flags = ("--max-batch-size", "2", "--max-tokens-cap", "4000", "--drain-timeout-s", "30")
    with running_server(long_checkpoint, logs, *flags) as server:
        streams, (readyz, completion) = asyncio.run(sigterm_during_load(server, requests=6, max_tokens=600))
        assert server.process.wait(timeout=40) == 0, server.logs()
    assert readyz.status_code == 503 and readyz.json() == {"status": "draining", "step": 1}
    assert completion.status_code == 503 and completion.json()["error"]["code"] == "shutting_down"
    assert completion.headers["retry-after"]
    for events in streams:
        assert not isinstance(events, BaseException), events
        assert events[-1] == "[DONE]"
        assert json.loads(events[-2])["choices"][0]["finish_reason"] == "length"


def test_past_the_drain_timeout_requests_are_failed_and_the_process_still_exits_0(
    long_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("logs")
    flags = ("--max-batch-size", "1", "--max-tokens-cap", "4000", "--drain-timeout-s", "0.2")
    with running_server(long_checkpoint, logs, *flags) as server:
        streams, _ = asyncio.run(sigterm_during_load(server, requests=3, max_tokens=LONG_CONTEXT - 1))
        assert server.process.wait(timeout=20) == 0, server.logs()
    aborted = [
        events for events in streams if not isinstance(events, BaseException) and events[-1] != "[DONE]"
    ]
    assert aborted, streams
    assert json.loads(aborted[0][-1])["error"]["code"] == "shutting_down"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # On a free loopback port unless the case names one: a server that gets past its flags now listens.
    where = [] if "--port" in args else ["--host", "127.0.0.1", "--port", str(free_port())]
    return subprocess.run(
        [sys.executable, "-m", "workloads.serve", *where, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "http"],
        ["--max-batch-size", "0"],
        ["--request-timeout-s", "nan"],
        ["--no-such-flag"],
        ["--checkpoint-dir", "/nonexistent/checkpoints"],
    ],
)
def test_bad_flags_exit_2_with_one_line_and_no_traceback(args: list[str], tmp_path: Path) -> None:
    result = run_cli(
        *(["--checkpoint-dir", str(tmp_path), *args] if "--checkpoint-dir" not in args else args)
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bucket_whose_storage_package_is_missing_names_the_package_to_install() -> None:
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed in this environment; the case needs it missing")
    result = run_cli("--checkpoint-dir", "s3://lepton-artifacts/checkpoints/pretrain")
    assert result.returncode == 2
    assert "s3fs" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_checkpoint_that_does_not_fit_the_model_exits_2_with_one_error_line(tmp_path: Path) -> None:
    config = ModelConfig(n_layer=1, n_head=2, n_embd=32, seq_len=16)
    save_checkpoint(
        tmp_path, 3, {"model": {"unrelated.weight": torch.zeros(1)}, "model_config": config.to_dict()}
    )
    result = run_cli("--checkpoint-dir", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    # The log says what the server did up to then; the last line says why it stopped.
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors == [result.stderr.strip().splitlines()[-1]]
    assert errors[0].startswith(f"python -m workloads.serve: error: {tmp_path}/step-00000003 does not fit")


def test_a_server_started_before_any_checkpoint_waits_alive_then_serves_the_first_one(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # As on a fresh platform (issue 12 item 4): the Deployment starts before training wrote anything.
    folder = tmp_path / "ckpt"
    folder.mkdir()
    logs = tmp_path_factory.mktemp("logs")
    with running_server(folder, logs, "--checkpoint-poll-s", "0.2", ready=False) as server:
        with server.client() as http:
            time.sleep(1.0)
            assert server.process.poll() is None
            assert http.get("/healthz").status_code == 200
            waiting = http.get("/readyz")
            assert waiting.status_code == 503 and waiting.json() == {"status": "waiting_for_checkpoint"}

            train_checkpoint(folder)
            wait_ready(server)

            assert http.get("/readyz").json() == {"status": "ready", "step": 400}
            text = complete(server, completion_body("The early bird", max_tokens=10, temperature=0))
            assert text["choices"][0]["text"] == greedy_reference(folder, "The early bird", 10)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    assert f"no checkpoint to serve in {folder} yet" in server.logs()
    assert "Traceback" not in server.logs()


def test_the_server_skips_a_planted_pickle_without_running_it(
    checkpoint: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder, marker = tmp_path / "ckpt", tmp_path / "marker"
    shutil.copytree(checkpoint, folder)
    hostile = _hostile_bytes(_payloads(marker)["os.system"], "the whole object")
    Path(checkpoint_path(folder, 999, "model")).write_bytes(hostile)
    logs = tmp_path_factory.mktemp("logs")

    with running_server(folder, logs) as server, server.client() as http:
        assert http.get("/readyz").json() == {"status": "ready", "step": 400}

    assert not list(tmp_path.glob("marker*")), "the pickle ran"
    assert "refused to rebuild posix.system" in server.logs()


def test_a_port_already_taken_exits_with_the_contracts_cannot_listen_status(long_checkpoint: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_cli("--checkpoint-dir", str(long_checkpoint), "--host", "127.0.0.1", "--port", port)
    assert result.returncode == ServeExit.CANNOT_LISTEN == 3
    assert "address already in use" in result.stderr and "Traceback" not in result.stderr
