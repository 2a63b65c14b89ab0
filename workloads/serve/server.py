"""Process lifecycle: listen at once, load the checkpoint in the background, drain on SIGTERM, exit 0.

The port is bound first (``ServeExit.CANNOT_LISTEN``, uvicorn's own status, when it cannot be), so that
``/healthz`` answers from the start; the checkpoint watcher then finds the model (waiting for a first
checkpoint if there is none yet) and the engine warms it up, after which ``/readyz`` turns 200. The
process's exit statuses are ``lepton_infra.contract.ServeExit``.

Signals (``signals``): one handler for the whole life of the process, installed before anything else;
uvicorn's own, which it would install while serving and take away after, is not used. So a SIGTERM or
SIGINT never ends the process by the signal (status -15), whenever it comes: the first one drains (at
once, with nothing accepted yet), a second one stops without waiting, and the process exits 0 either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Generator
from types import FrameType

import torch
import uvicorn

from lepton_infra.contract import ServeExit
from workloads.serve.app import create_app
from workloads.serve.engine import Engine
from workloads.serve.metrics import Metrics
from workloads.serve.protocol import bounded_protocol
from workloads.serve.settings import Settings
from workloads.serve.signals import Signals
from workloads.serve.watcher import CheckpointWatcher

log = logging.getLogger(__name__)

PROG = "python -m workloads.serve"
# After the engine is idle, how long uvicorn may take to flush the last responses and close.
_CLOSE_GRACE_S = 3


class DrainingServer(uvicorn.Server):
    """uvicorn, except that SIGTERM drains the engine first and the process then exits 0.

    uvicorn's own handler re-raises the signal after shutting down (exit status -15), which
    Kubernetes reports as a failure; and it stops accepting at once, whereas a draining pod
    must keep answering its readiness probe (503) until the endpoints controller notices.
    It also starts the checkpoint watcher once the port is bound, and stops when the watcher fails.
    """

    def __init__(
        self, config: uvicorn.Config, engine: Engine, watcher: CheckpointWatcher, drain_timeout_s: float
    ) -> None:
        super().__init__(config)
        self.engine = engine
        self.watcher = watcher
        self.drain_timeout_s = drain_timeout_s
        self._drain_deadline: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[str] = []  # signals that came before the event loop ran

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        for name in self._early:
            self._on_signal(name)
        await super().serve(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The process's handler (``signals``) outlives this server and hands signals to handle_exit.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # exits ServeExit.CANNOT_LISTEN when the port cannot be bound
        if self.started:
            self.watcher.start()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler may interrupt the loop's thread anywhere, even inside the engine's lock:
        # do the work as the loop's next callback instead (at once, not at the next tick).
        name = signal.Signals(sig).name
        if self._loop is None:
            self._early.append(name)
            return
        try:
            self._loop.call_soon_threadsafe(self._on_signal, name)
        except RuntimeError:  # the loop has closed: the process is on its way out already
            log.info("received %s while exiting", name)

    def _on_signal(self, name: str) -> None:
        if self._drain_deadline is None:
            log.info("received %s: draining for up to %.1f s", name, self.drain_timeout_s)
            self.engine.start_draining()
            self.watcher.stop()
            self._drain_deadline = time.monotonic() + self.drain_timeout_s
        else:  # a second signal means "now"
            log.warning("received %s again: stopping without waiting", name)
            self.engine.abort_all()
            self.should_exit = self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.watcher.failure is not None and not self.should_exit:
            self.should_exit = True
        if self._drain_deadline is not None and not self.should_exit:
            if self.engine.idle:
                self.should_exit = True
            elif time.monotonic() >= self._drain_deadline:
                log.warning("drain timeout reached: failing the requests still running")
                self.engine.abort_all()
                self.should_exit = True
        return await super().on_tick(counter)


def run(settings: Settings, signals: Signals | None = None) -> int:
    """Serve until a signal or a failure of the watcher; the process's exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "OMP_NUM_THREADS" not in os.environ:
        # A decoding step is a few small matmuls: intra-op threads only spin against the event
        # loop's thread (2.2x fewer tokens/s with 2 threads than with 1 on a 2-core machine).
        torch.set_num_threads(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    metrics = Metrics()
    engine = Engine(
        None,
        max_batch_size=settings.max_batch_size,
        max_queue=settings.max_queue,
        metrics=metrics,
        device=device,
    )
    watcher = CheckpointWatcher(
        settings.checkpoint_dir,
        engine,
        poll_s=settings.checkpoint_poll_s,
        follow=settings.follow_checkpoints,
        model_dir=settings.model_dir,
    )
    config = uvicorn.Config(
        create_app(engine, settings, metrics),
        host=settings.host,
        port=settings.port,
        lifespan="off",
        timeout_graceful_shutdown=_CLOSE_GRACE_S,
        http=bounded_protocol(
            header_timeout_s=settings.header_timeout_s, max_connections=settings.max_connections
        ),
    )
    server = DrainingServer(config, engine, watcher, settings.drain_timeout_s)
    (signals or Signals().install()).hand_to(server.handle_exit)
    log.info(
        "serving %s on %s as %r once a checkpoint loads", settings.checkpoint_dir, device, settings.model_name
    )
    engine.start()  # waits for the watcher's model, warms it up; /readyz turns 200 when it is done
    try:
        server.run()  # exits ServeExit.CANNOT_LISTEN when the port cannot be bound
    finally:
        watcher.stop()
        engine.stop()
    if watcher.failure is not None:
        print(f"{PROG}: error: {watcher.failure.message}", file=sys.stderr)
        return watcher.failure.status
    return ServeExit.OK
