"""Shared helpers of the serve tests: a tiny trained checkpoint and a real server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import torch
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette

from workloads.checkpoint import save_checkpoint
from workloads.model import GPT, ModelConfig, encode
from workloads.serve.app import create_app
from workloads.serve.engine import Engine
from workloads.serve.metrics import Metrics
from workloads.serve.settings import Settings
from workloads.serve.watcher import load_model

MODEL_NAME = "lepton-gpt"
CONFIG = ModelConfig(n_layer=2, n_head=4, n_embd=64, seq_len=64)
CORPUS = (
    "The quick brown fox jumps over the lazy dog. A stitch in time saves nine. "
    "All that glitters is not gold. Where there is smoke there is fire. "
    "The early bird catches the worm. Actions speak louder than words. "
) * 8


def train_checkpoint(directory: Path, steps: int = 400) -> Path:
    """Train the tiny model on a few proverbs, so that greedy decoding has clear winners."""
    if any(directory.glob("step-*.pt")):
        return directory
    # One thread: when other test processes share the cores, spinning OpenMP workers make
    # these small steps several times slower, not faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = GPT(CONFIG)
        data = torch.tensor(encode(CORPUS))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(steps):
            starts = torch.randint(0, len(data) - CONFIG.seq_len - 1, (16,))
            batch = torch.stack([data[s : s + CONFIG.seq_len + 1] for s in starts.tolist()])
            logits = model(batch[:, :-1])
            targets = batch[:, 1:].reshape(-1)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    save_checkpoint(directory, steps, {"model": model.state_dict(), "model_config": CONFIG.to_dict()})
    return directory


def untrained_checkpoint(directory: Path, seq_len: int) -> Path:
    """A random model with a long context: generation then takes long enough to interrupt."""
    if not any(directory.glob("step-*.pt")):
        torch.manual_seed(1)
        config = ModelConfig(n_layer=2, n_head=4, n_embd=64, seq_len=seq_len)
        save_checkpoint(directory, 1, {"model": GPT(config).state_dict(), "model_config": config.to_dict()})
    return directory


@contextmanager
def in_process(
    checkpoint_dir: Path, *, start: bool = True, **overrides: Any
) -> Iterator[tuple[Starlette, Engine, Metrics]]:
    """The app and its engine (warmed up unless ``start`` is False) in this process."""
    model, _ = load_model(checkpoint_dir, torch.device("cpu"))
    fields: dict[str, Any] = {
        "checkpoint_dir": checkpoint_dir,
        "host": "127.0.0.1",
        "port": 8080,
        "max_batch_size": 8,
        "max_queue": 64,
        "max_tokens_cap": 64,
        "request_timeout_s": 30.0,
        "max_body_bytes": 4096,
        "drain_timeout_s": 5.0,
        "model_name": MODEL_NAME,
    }
    settings = Settings(**{**fields, **overrides})
    metrics = Metrics()
    engine = Engine(
        model, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue, metrics=metrics
    )
    app = create_app(engine, settings, metrics)
    if start:
        engine.start()
    try:
        deadline = time.monotonic() + 30
        while start and not engine.ready and time.monotonic() < deadline:
            time.sleep(0.01)
        yield app, engine, metrics
    finally:
        engine.stop()


class AppClient:
    """Synchronous requests to an in-process app, through httpx's ASGI transport.

    One event loop on a helper thread serves every request, as a real server's would.
    (Starlette's TestClient does the same but is deprecated with httpx.)
    """

    def __init__(self, app: Starlette) -> None:
        self._app = app
        self._stack = ExitStack()

    def __enter__(self) -> AppClient:
        self._portal = self._stack.enter_context(start_blocking_portal())
        transport = httpx.ASGITransport(app=self._app)
        self._http = httpx.AsyncClient(transport=transport, base_url="http://serve", timeout=30.0)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._portal.call(self._http.aclose)
        self._stack.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self._portal.call(partial(self._http.request, method, url, **kwargs))
        return response

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


def serve_command(checkpoint_dir: Path, port: int, *flags: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "workloads.serve",
        "--checkpoint-dir",
        str(checkpoint_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *flags,
    ]


@contextmanager
def running_server(
    checkpoint_dir: Path, log_dir: Path, *flags: str, ready: bool = True
) -> Iterator[ServerProcess]:
    """Start ``python -m workloads.serve`` on a free loopback port and wait until it is ready (or, with
    ``ready=False``, only alive: for a server that waits for its first checkpoint)."""
    server = start_server(checkpoint_dir, log_dir, *flags)
    try:
        wait_ready(server, path="/readyz" if ready else "/healthz")
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)


def start_server(checkpoint_dir: Path, log_dir: Path, *flags: str) -> ServerProcess:
    """Start ``python -m workloads.serve`` on a free loopback port, without waiting for anything."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    with log.open("wb") as sink:
        # Output goes to a file: a pipe nobody reads would block the server once it fills.
        process = subprocess.Popen(
            serve_command(checkpoint_dir, port, *flags),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return ServerProcess(process, f"http://127.0.0.1:{port}", log)


def wait_ready(server: ServerProcess, timeout_s: float = 60.0, path: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n{server.logs()}")
        try:
            if httpx.get(f"{server.url}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready after {timeout_s} s:\n{server.logs()}")


def completion_body(prompt: str | list[str], **fields: Any) -> dict[str, Any]:
    return {"model": MODEL_NAME, "prompt": prompt, **fields}
