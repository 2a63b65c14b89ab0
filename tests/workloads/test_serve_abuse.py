"""The real server under abusive clients and impatient signals, on loopback (issue 15, items 8 and 9).

Slow headers, idle connections and trickling bodies used to hold connections forever (350 held after
30 s; 150 half-sent 1 MB bodies grew memory by about 200 MB); a second SIGTERM shortly after the first
ended the process with -15. Counts and times are kept small so the set stays quick; the bounds they check
are the server's flags.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from serve_fixtures import (
    completion_body,
    free_port,
    serve_command,
    untrained_checkpoint,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return untrained_checkpoint(tmp_path_factory.getbasetemp() / "abuse-checkpoint", 512)


def _start(folder: Path, logs: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = logs / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(serve_command(folder, port, *flags), stdout=sink, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}", log


def _wait(url: str, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(log.read_text())


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
    process, url, log = _start(checkpoint, tmp_path, "--drain-timeout-s", "20", "--max-tokens-cap", "500")
    _wait(url, "/readyz", process, log)
    streams = [threading.Thread(target=_stream, args=(url,), daemon=True) for _ in range(2)]
    for stream in streams:
        stream.start()
    time.sleep(0.5)  # the requests are being decoded

    process.send_signal(signal.SIGTERM)
    time.sleep(gap_s)
    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=30) == 0, log.read_text()
    for stream in streams:
        stream.join(timeout=30)
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize(
    "when", ["before the port is open", "while waiting for a checkpoint", "twice while waiting"]
)
def test_sigterm_before_a_model_is_served_exits_0(tmp_path: Path, when: str) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    process, url, log = _start(folder, tmp_path)
    if when == "before the port is open":
        time.sleep(0.3)  # Python has started; torch is still loading
    else:
        _wait(url, "/healthz", process, log)
    process.send_signal(signal.SIGTERM)
    if when.startswith("twice"):
        time.sleep(0.01)
        process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
