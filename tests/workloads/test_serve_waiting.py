"""The server on a fresh platform: alive and not ready until a first checkpoint exists, then serving it.

Issue 12, item 4: the inference Deployment starts before training wrote anything, and the server used to
exit 2 and crash-loop. Now it waits: ``/healthz`` 200 (liveness and startup probes keep passing),
``/readyz`` 503 ``waiting_for_checkpoint``, a log line every minute naming where it looks and for how
long; then it loads the first checkpoint whose weights load and turns ready. A first checkpoint that does
not fit the model, a location that refuses the pod, or a store that does not answer ends the wait loudly.
With ``--follow-checkpoints`` it serves newer steps as training writes them, never mixing two models in
one sequence. In process, with the watcher's clock sped up a thousandfold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import pytest
import torch
from serve_fixtures import MODEL_NAME, AppClient, completion_body
from test_checkpoint_faults import FlakyFileSystem

from lepton_infra.contract import ServeExit
from workloads.checkpoint import Retry, checkpoint_path, save_checkpoint
from workloads.model import GPT, ModelConfig, decode, encode
from workloads.serve.app import create_app
from workloads.serve.engine import Engine, SamplingParams
from workloads.serve.metrics import Metrics
from workloads.serve.settings import Settings
from workloads.serve.watcher import CheckpointWatcher

CONFIG = ModelConfig(n_layer=1, n_head=2, n_embd=32, seq_len=256)
FAST_RETRY = Retry(attempts=3, first_delay_s=0.001)


def _model(seed: int, config: ModelConfig = CONFIG) -> GPT:
    torch.manual_seed(seed)
    return GPT(config).eval()


def _write(folder: Path | str, step: int, seed: int, config: ModelConfig = CONFIG) -> GPT:
    model = _model(seed, config)
    save_checkpoint(folder, step, {"model": model.state_dict(), "model_config": config.to_dict()})
    return model


def _settings(folder: Path | str, *, model_dir: bool = False) -> Settings:
    return Settings(
        checkpoint_dir=str(folder),
        model_dir=model_dir,
        host="127.0.0.1",
        port=8080,
        max_batch_size=4,
        max_queue=16,
        max_tokens_cap=256,
        request_timeout_s=30.0,
        max_body_bytes=4096,
        drain_timeout_s=5.0,
        model_name=MODEL_NAME,
    )


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class Replica:
    """An engine without a model, its app, and a watcher on ``folder`` (a checkpoint location, or with
    ``model_dir`` one export folder) whose clock runs 1000x fast."""

    def __init__(
        self, folder: Path | str, *, follow: bool = False, model_dir: bool = False, retry: Retry = FAST_RETRY
    ) -> None:
        self.engine = Engine(None, max_batch_size=4, max_queue=16, metrics=Metrics())
        self.app = create_app(self.engine, _settings(folder, model_dir=model_dir), Metrics())
        self.watcher = CheckpointWatcher(
            str(folder),
            self.engine,
            poll_s=0.01,
            follow=follow,
            model_dir=model_dir,
            retry=retry,
            clock=lambda: time.monotonic() * 1000,
        )

    def __enter__(self) -> Replica:
        self.engine.start()
        self.watcher.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.watcher.stop()
        self.engine.stop()


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    return folder


def test_without_a_checkpoint_the_server_is_alive_not_ready_and_says_where_it_waits(
    empty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def waits() -> list[str]:
        return [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]

    started = time.monotonic()
    with (
        caplog.at_level(logging.INFO, logger="workloads.serve"),
        Replica(empty) as replica,
        AppClient(replica.app) as http,
    ):
        wait_until(lambda: len(waits()) >= 3)  # three minutes or more on the watcher's clock
        assert http.get("/healthz").status_code == 200
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"status": "waiting_for_checkpoint"}
        assert http.get("/v1/models").json()["error"]["code"] == "model_not_ready"
        completion = http.post("/v1/completions", json=completion_body("hi"))
        assert completion.status_code == 503 and completion.json()["error"]["code"] == "model_not_ready"
        assert replica.watcher.failure is None

        _write(empty, 10, seed=1)
        wait_until(lambda: http.get("/readyz").status_code == 200)

        assert http.get("/readyz").json() == {"status": "ready", "step": 10}
        assert http.post("/v1/completions", json=completion_body("hi", max_tokens=3)).status_code == 200
    minutes = (time.monotonic() - started) * 1000 / 60  # on the watcher's clock, 1000x fast
    lines = waits()
    assert lines[0].startswith(f"no checkpoint to serve in {empty} yet")
    assert any(f"still waiting for a first checkpoint in {empty}: " in w for w in lines[1:])
    # A line a minute, not a line a poll (a poll is every 10 s on that clock: six times as many).
    assert 3 <= len(lines) <= minutes + 2, (minutes, lines)


def test_a_corrupt_first_file_is_skipped_once_and_the_wait_goes_on(
    empty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Path(checkpoint_path(empty, 5, "model")).write_bytes(b"torn")

    def skipped() -> int:
        return len([r for r in caplog.records if "step-00000005.model.pt" in r.getMessage()])

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"), Replica(empty) as replica:
        # Until the watcher has met the torn file and finished that look: the warning is logged while the
        # engine still says "loading" (a fixed sleep, then reading the state at once, raced it).
        wait_until(lambda: skipped() > 0 and replica.engine.state == "waiting_for_checkpoint")
        assert replica.watcher.failure is None
        _write(empty, 10, seed=1)
        wait_until(lambda: replica.engine.ready)
    assert skipped() == 1


def test_a_first_checkpoint_that_does_not_fit_the_model_ends_the_wait_with_bad_input(empty: Path) -> None:
    config = ModelConfig(n_layer=1, n_head=2, n_embd=32, seq_len=16)
    save_checkpoint(
        empty, 3, {"model": {"unrelated.weight": torch.zeros(1)}, "model_config": config.to_dict()}
    )

    with Replica(empty) as replica:
        wait_until(lambda: replica.watcher.failure is not None)

    failure = replica.watcher.failure
    assert failure is not None and failure.status == ServeExit.BAD_INPUT
    assert failure.message.startswith(f"{empty}/step-00000003 does not fit the model: ")
    assert "\n" not in failure.message and not replica.engine.ready


@pytest.fixture
def flaky() -> Iterator[type[FlakyFileSystem]]:
    fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)
    FlakyFileSystem.store.clear()
    FlakyFileSystem.faults.clear()
    yield FlakyFileSystem
    FlakyFileSystem.faults.clear()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (lambda: TimeoutError("read timed out"), ServeExit.STORAGE_UNAVAILABLE),
        (lambda: OSError(5, "Input/output error"), ServeExit.STORAGE_UNAVAILABLE),
        (lambda: PermissionError(13, "Permission denied"), ServeExit.BAD_INPUT),
    ],
)
def test_a_store_that_fails_before_a_model_is_served_ends_the_wait_in_one_line(
    flaky: type[FlakyFileSystem], error: Callable[[], BaseException], status: ServeExit
) -> None:
    flaky.faults["list"] = [error() for _ in range(100)]

    with Replica("flaky://bucket/serve") as replica:
        wait_until(lambda: replica.watcher.failure is not None)

    failure = replica.watcher.failure
    assert failure is not None and failure.status == status
    assert failure.message.startswith("flaky://bucket/serve: cannot list checkpoints: ")


def test_a_store_that_fails_once_serving_only_warns_and_the_model_keeps_serving(
    flaky: type[FlakyFileSystem], caplog: pytest.LogCaptureFixture
) -> None:
    location = "flaky://bucket/follow"
    _write(location, 10, seed=1)
    with caplog.at_level(logging.WARNING), Replica(location, follow=True) as replica:
        wait_until(lambda: replica.engine.ready)
        flaky.faults["list"] = [TimeoutError("read timed out") for _ in range(10)]
        wait_until(lambda: not flaky.faults["list"])
        assert replica.engine.ready and replica.watcher.failure is None
    assert "still serving step 10" in caplog.text


def _greedy(model: GPT, prompt: str, tokens: int) -> str:
    ids = encode(prompt)
    with torch.inference_mode():
        for _ in range(tokens):
            ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    return decode(ids[len(encode(prompt)) :])


async def _generate(engine: Engine, prompt: str, tokens: int, started: asyncio.Event | None = None) -> str:
    loop = asyncio.get_running_loop()
    submission = engine.submit([encode(prompt)], [SamplingParams(tokens, 0.0, 1.0, (), 0)])
    text = ""
    async for chunk in submission.chunks(loop.time() + 60):
        text += chunk.text
        if started is not None:
            started.set()
    return text


def test_following_checkpoints_never_mixes_two_models_in_one_sequence(
    empty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old, prompt = _write(empty, 10, seed=1), "The quick brown fox"
    new = _model(2)

    async def scenario(replica: Replica) -> tuple[str, str]:
        started = asyncio.Event()
        long = asyncio.create_task(_generate(replica.engine, prompt, 200, started))
        await started.wait()
        _write(empty, 20, seed=2)  # training writes a newer step while a sequence is being decoded
        while replica.watcher.step != 20:
            await asyncio.sleep(0.005)
        after = await _generate(replica.engine, prompt, 20)
        return await long, after

    with caplog.at_level(logging.INFO, logger="workloads.serve"), Replica(empty, follow=True) as replica:
        wait_until(lambda: replica.engine.ready)
        during, after = asyncio.run(scenario(replica))
        assert replica.engine.served_step == 20

    assert during == _greedy(old, prompt, 200)
    assert after == _greedy(new, prompt, 20)
    assert "serving step 20 from now on, instead of step 10" in caplog.text


def test_following_refuses_a_step_of_another_shape_and_keeps_serving(
    empty: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(empty, 10, seed=1)
    with caplog.at_level(logging.WARNING, logger="workloads.serve"), Replica(empty, follow=True) as replica:
        wait_until(lambda: replica.engine.ready)
        _write(empty, 20, seed=2, config=ModelConfig(n_layer=2, n_head=2, n_embd=32, seq_len=256))
        wait_until(lambda: any("step-00000020" in r.getMessage() for r in caplog.records))
        time.sleep(0.1)  # more polls: the refusal is not repeated
        assert replica.engine.served_step == 10 and replica.watcher.failure is None
    refusals = [r.getMessage() for r in caplog.records if "step-00000020" in r.getMessage()]
    assert len(refusals) == 1 and "another shape" in refusals[0] and "still serving step 10" in refusals[0]


def test_without_following_the_first_checkpoint_stays_served(empty: Path) -> None:
    _write(empty, 10, seed=1)
    with Replica(empty) as replica:
        wait_until(lambda: replica.engine.ready)
        _write(empty, 20, seed=2)
        time.sleep(0.2)
        assert replica.engine.served_step == 10


def test_stopping_ends_the_wait_at_once(empty: Path) -> None:
    replica = Replica(empty)
    with replica:
        time.sleep(0.05)
    started = time.monotonic()
    replica.watcher.join(5)
    assert time.monotonic() - started < 1.0


def test_a_model_that_cannot_run_fails_liveness_so_the_pod_is_restarted(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one case /healthz fails: the engine thread died (here while warming the model up).
    def broken(*_: object) -> None:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr("workloads.serve.decoder.CachedDecoder.forward", broken)
    _write(empty, 10, seed=1)
    with Replica(empty) as replica, AppClient(replica.app) as http:
        wait_until(lambda: http.get("/healthz").status_code == 503)
        assert http.get("/readyz").json() == {"status": "failed"}
