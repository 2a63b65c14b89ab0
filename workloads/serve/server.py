"""Process lifecycle: load the checkpoint, run uvicorn, drain on SIGTERM, exit 0.

The process's exit statuses are ``lepton_infra.contract.ServeExit``; ``CANNOT_LISTEN`` is uvicorn's own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType

import torch
import uvicorn

from lepton_infra.contract import ServeExit
from workloads.checkpoint import CheckpointStorageError, load_latest_checkpoint
from workloads.model import GPT, ModelConfig
from workloads.serve.app import create_app
from workloads.serve.engine import Engine
from workloads.serve.metrics import Metrics
from workloads.serve.settings import Settings

log = logging.getLogger(__name__)

# After the engine is idle, how long uvicorn may take to flush the last responses and close.
_CLOSE_GRACE_S = 3


class CheckpointError(Exception):
    pass


def load_model(checkpoint_dir: str, device: torch.device) -> tuple[GPT, int]:
    """The model of the newest loadable checkpoint, and its step."""
    state = load_latest_checkpoint(checkpoint_dir, map_location=device)
    if state is None:
        raise CheckpointError(f"no loadable checkpoint (step-*.pt) in {str(checkpoint_dir)!r}")
    try:
        model = GPT(ModelConfig.from_dict(state["model_config"]))
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        # RuntimeError: load_state_dict's missing/unexpected keys or shape mismatches.
        detail = " ".join(str(error).split())[:300] or type(error).__name__
        message = f"checkpoint in {str(checkpoint_dir)!r} does not fit the model: {detail}"
        raise CheckpointError(message) from None
    return model.to(device).eval(), int(state["step"])


class DrainingServer(uvicorn.Server):
    """uvicorn, except that SIGTERM drains the engine first and the process then exits 0.

    uvicorn's own handler re-raises the signal after shutting down (exit status -15), which
    Kubernetes reports as a failure; and it stops accepting at once, whereas a draining pod
    must keep answering its readiness probe (503) until the endpoints controller notices.
    """

    def __init__(self, config: uvicorn.Config, engine: Engine, drain_timeout_s: float) -> None:
        super().__init__(config)
        self.engine = engine
        self.drain_timeout_s = drain_timeout_s
        self._drain_deadline: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler may interrupt the loop's thread anywhere, even inside the engine's lock:
        # do the work as the loop's next callback instead (at once, not at the next tick).
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_signal, signal.Signals(sig).name)

    def _on_signal(self, name: str) -> None:
        if self._drain_deadline is None:
            log.info("received %s: draining for up to %.1f s", name, self.drain_timeout_s)
            self.engine.start_draining()
            self._drain_deadline = time.monotonic() + self.drain_timeout_s
        else:  # a second signal means "now"
            log.warning("received %s again: stopping without waiting", name)
            self.engine.abort_all()
            self.should_exit = self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self._drain_deadline is not None and not self.should_exit:
            if self.engine.idle:
                self.should_exit = True
            elif time.monotonic() >= self._drain_deadline:
                log.warning("drain timeout reached: failing the requests still running")
                self.engine.abort_all()
                self.should_exit = True
        return await super().on_tick(counter)


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "OMP_NUM_THREADS" not in os.environ:
        # A decoding step is a few small matmuls: intra-op threads only spin against the event
        # loop's thread (2.2x fewer tokens/s with 2 threads than with 1 on a 2-core machine).
        torch.set_num_threads(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model, step = load_model(settings.checkpoint_dir, device)
    except (CheckpointError, CheckpointStorageError) as error:
        print(f"python -m workloads.serve: error: {error}", file=sys.stderr)
        return ServeExit.BAD_INPUT
    log.info("serving step %d of %s on %s as %r", step, settings.checkpoint_dir, device, settings.model_name)
    metrics = Metrics()
    engine = Engine(
        model, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue, metrics=metrics
    )
    config = uvicorn.Config(
        create_app(engine, settings, metrics),
        host=settings.host,
        port=settings.port,
        lifespan="off",
        timeout_graceful_shutdown=_CLOSE_GRACE_S,
    )
    server = DrainingServer(config, engine, settings.drain_timeout_s)
    engine.start()  # warms up in the background; /readyz turns 200 when it is done
    try:
        server.run()  # exits ServeExit.CANNOT_LISTEN when the port cannot be bound
    finally:
        engine.stop()
    return ServeExit.OK
