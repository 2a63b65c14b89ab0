"""Continuous batching against one-at-a-time serving, under the same concurrent load.

Starts ``python -m workloads.serve`` twice on loopback, with the default batch and with
``--max-batch-size 1``, drives each with the same clients (each sends its requests back to
back), and prints generated tokens per second and p50/p99 request latency for both.

    python -m bench.serve_batching [--clients 32] [--requests-per-client 6] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import torch

from workloads.checkpoint import save_checkpoint
from workloads.model import GPT, ModelConfig

PROMPTS = [
    "The quick brown fox ",
    "Once upon a time, in a land far away, ",
    "def fibonacci(n):\n    ",
    "Kubernetes schedules pods onto nodes that ",
    "In the beginning ",
    "The weather today is ",
    "SELECT name FROM users WHERE ",
    "A stitch in time ",
]


@dataclass(frozen=True)
class Result:
    label: str
    tokens_per_s: float
    p50_s: float
    p99_s: float


def write_checkpoint(directory: Path) -> None:
    # The default shape of the trainer; weights do not change the cost of a forward pass.
    torch.manual_seed(0)
    config = ModelConfig()
    save_checkpoint(directory, 0, {"model": GPT(config).state_dict(), "model_config": config.to_dict()})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}")
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not become ready in 60 s")


async def drive(
    url: str, clients: int, requests_per_client: int, max_tokens: int
) -> tuple[int, list[float], float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300.0) as http:

        async def one(index: int) -> tuple[int, float]:
            body = {
                "model": "lepton-gpt",
                "prompt": PROMPTS[index % len(PROMPTS)],
                "max_tokens": max_tokens,
                "temperature": 0.8,
                "seed": index,
            }
            started = time.perf_counter()
            response = await http.post("/v1/completions", json=body)
            response.raise_for_status()
            return response.json()["usage"]["completion_tokens"], time.perf_counter() - started

        async def client(number: int) -> list[tuple[int, float]]:
            return [await one(number * requests_per_client + i) for i in range(requests_per_client)]

        await asyncio.gather(*(one(i) for i in range(clients)))  # warm connections and caches
        started = time.perf_counter()
        per_client = await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    results = [result for client_results in per_client for result in client_results]
    return sum(tokens for tokens, _ in results), [latency for _, latency in results], elapsed


def run(label: str, checkpoint: Path, flags: list[str], args: argparse.Namespace) -> Result:
    port = free_port()
    command = [sys.executable, "-m", "workloads.serve", "--checkpoint-dir", str(checkpoint)]
    command += ["--host", "127.0.0.1", "--port", str(port), *flags]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            asyncio.run(wait_ready(url, process))
            tokens, latencies, elapsed = asyncio.run(
                drive(url, args.clients, args.requests_per_client, args.max_tokens)
            )
        finally:
            process.terminate()
            process.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(label, tokens / elapsed, cuts[49], cuts[98])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests-per-client", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--max-batch-size", type=int, default=32, help="the batching run's batch size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        checkpoint = Path(directory)
        write_checkpoint(checkpoint)
        batched = run(
            f"batching (max batch {args.max_batch_size})",
            checkpoint,
            ["--max-batch-size", str(args.max_batch_size)],
            args,
        )
        single = run("max batch 1", checkpoint, ["--max-batch-size", "1"], args)
    load = f"{args.clients} clients x {args.requests_per_client} requests, max_tokens {args.max_tokens}"
    print(f"{load}, {os.cpu_count()} CPUs")
    print(f"{'':28} {'tokens/s':>10} {'p50 s':>8} {'p99 s':>8}")
    for result in (batched, single):
        print(f"{result.label:28} {result.tokens_per_s:10.0f} {result.p50_s:8.3f} {result.p99_s:8.3f}")
    throughput = batched.tokens_per_s / single.tokens_per_s
    print(
        f"throughput ratio {throughput:.2f}x, p99 ratio {batched.p99_s / single.p99_s:.2f} (batched / single)"
    )
    goal = throughput >= 4.0 and batched.p99_s <= single.p99_s
    print(f"goal (>= 4x throughput at a p99 no worse): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
