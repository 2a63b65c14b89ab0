"""The real server under abusive clients and impatient signals, on loopback (issue 15, items 8 and 9).

Slow headers, idle connections and trickling bodies used to hold connections forever (350 held after
30 s; 150 half-sent 1 MB bodies grew memory by about 200 MB); a second SIGTERM shortly after the first
ended the process with -15. Counts and times are kept small so the set stays quick; the bounds they check
are the server's flags.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_fixtures import (
    ServerProcess,
    completion_body,
    running_server,
    start_server,
    untrained_checkpoint,
    wait_ready,
)

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 1.0
REQUEST_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return untrained_checkpoint(tmp_path_factory.getbasetemp() / "abuse-checkpoint", 512)


@pytest.fixture(scope="module")
def server(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    flags = [
        "--header-timeout-s",
        str(HEADER_TIMEOUT_S),
        "--request-timeout-s",
        str(REQUEST_TIMEOUT_S),
        "--max-connections",
        "120",
        "--max-tokens-cap",
        "500",
    ]
    with running_server(checkpoint, tmp_path_factory.mktemp("logs"), *flags) as started:
        yield started


def _address(server: ServerProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _rss_kib(server: ServerProcess) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


async def _held_until_closed(host: str, port: int, send: bytes, trickle: bytes, limit_s: float) -> float:
    """Open a connection, send ``send``, then ``trickle`` a byte at a time; seconds until the server closed
    it (``limit_s`` if it never did)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(send)
        await writer.drain()
        for byte in trickle:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if not await asyncio.wait_for(reader.read(65536), 0.2):
                    return time.monotonic() - started
            except TimeoutError:
                pass
            if time.monotonic() - started > limit_s:
                return limit_s
        while time.monotonic() - started < limit_s:
            try:
                if not await asyncio.wait_for(reader.read(65536), limit_s):
                    return time.monotonic() - started
            except TimeoutError:
                return limit_s
        return limit_s
    except ConnectionError:
        return time.monotonic() - started
    finally:
        writer.close()


SLOW_HEADERS = {
    "nothing at all": (b"", b""),
    "a request line, then nothing": (b"GET /healthz HTTP/1.1\r\n", b""),
    "headers a byte every 0.2 s": (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200),
    "a POST's headers, trickled": (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n", b"Content-Type: a" * 20),
    "after a first request, the next one's headers": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n",
        b"X-Slow: " + b"b" * 200,
    ),
}


@pytest.mark.parametrize("case", sorted(SLOW_HEADERS))
def test_slow_headers_do_not_hold_a_connection_past_the_header_timeout(
    server: ServerProcess, case: str
) -> None:
    send, trickle = SLOW_HEADERS[case]
    host, port = _address(server)

    async def many() -> list[float]:
        return await asyncio.gather(*(_held_until_closed(host, port, send, trickle, 10.0) for _ in range(40)))

    held = asyncio.run(many())

    assert max(held) < HEADER_TIMEOUT_S + 2.0, held
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_a_request_whose_headers_came_too_slowly_hears_why(server: ServerProcess) -> None:
    with socket.create_connection(_address(server), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "timeout"


def test_connections_beyond_the_limit_are_refused_with_503_and_the_rest_still_served(
    server: ServerProcess,
) -> None:
    # As many as allowed, then more, all within the header timeout that would close the idle ones.
    held = [socket.create_connection(_address(server), timeout=10) for _ in range(120)]
    try:
        extra = [socket.create_connection(_address(server), timeout=10) for _ in range(10)]
        answers = [connection.recv(65536) for connection in extra]
        for connection in extra:
            connection.close()
    finally:
        for connection in held:
            connection.close()
    assert all(answer.startswith(b"HTTP/1.1 503 ") for answer in answers), answers[:2]
    body = json.loads(answers[0].split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "too_many_connections" and b"retry-after: 1" in answers[0]
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


async def _half_sent_body(host: str, port: int, size: int, sent: int) -> tuple[bytes, float]:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    writer.write(head.encode() + b'{"model": "lepton-gpt", "prompt": "' + b"a" * (sent - 35))
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return answer, time.monotonic() - started


def test_half_sent_bodies_are_answered_408_within_the_request_budget_and_memory_stays_bounded(
    server: ServerProcess,
) -> None:
    host, port = _address(server)
    megabyte = 1 << 20

    async def wave() -> list[tuple[bytes, float]]:
        return await asyncio.gather(
            *(_half_sent_body(host, port, megabyte, megabyte // 2) for _ in range(40))
        )

    before = _rss_kib(server)
    first = asyncio.run(wave())
    after_first = _rss_kib(server)
    second = asyncio.run(wave())
    after_second = _rss_kib(server)

    for answer, seconds in [*first, *second]:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"connection: close" in answer.lower()
        assert seconds < REQUEST_TIMEOUT_S + 2.0
    # 40 half-megabyte bodies at once: growth bounded by what was sent, and not growing wave after wave.
    assert after_first - before < 80 * 1024, (before, after_first)
    assert after_second - after_first < 20 * 1024, (after_first, after_second)
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def _stream(url: str) -> None:
    """A long streamed completion; it may end any way once the server is stopped."""
    body = completion_body("x", max_tokens=500, temperature=0, stream=True)
    with (
        contextlib.suppress(httpx.HTTPError),
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("POST", "/v1/completions", json=body) as response,
    ):
        for _ in response.iter_lines():
            pass


@pytest.mark.parametrize("gap_s", [0.0, 0.005, 0.05, 0.3, 1.0])
def test_a_second_sigterm_shortly_after_the_first_still_exits_0(
    checkpoint: Path, tmp_path: Path, gap_s: float
) -> None:
    server = start_server(checkpoint, tmp_path, "--drain-timeout-s", "20", "--max-tokens-cap", "500")
    process, url = server.process, server.url
    wait_ready(server)
    streams = [threading.Thread(target=_stream, args=(url,), daemon=True) for _ in range(2)]
    for stream in streams:
        stream.start()
    time.sleep(0.5)  # the requests are being decoded

    process.send_signal(signal.SIGTERM)
    time.sleep(gap_s)
    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=30) == 0, server.logs()
    for stream in streams:
        stream.join(timeout=30)
    assert "Traceback" not in server.logs()


def _wait_for_sigterm_handler(pid: int) -> None:
    """Until the process catches SIGTERM (its first statement installs the handler): a fixed sleep raced the
    interpreter's start on a loaded machine, and a SIGTERM before any Python runs ends any process by it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)
    raise AssertionError("the server never installed its SIGTERM handler")


@pytest.mark.parametrize(
    "when", ["before the port is open", "while waiting for a checkpoint", "twice while waiting"]
)
def test_sigterm_before_a_model_is_served_exits_0(tmp_path: Path, when: str) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    server = start_server(folder, tmp_path)
    if when == "before the port is open":
        _wait_for_sigterm_handler(server.process.pid)  # torch is still loading
    else:
        wait_ready(server, path="/healthz")
    server.process.send_signal(signal.SIGTERM)
    if when.startswith("twice"):
        time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)

    assert server.process.wait(timeout=30) == 0, server.logs()
    assert "Traceback" not in server.logs()
