"""SIGTERM and SIGINT for the whole life of the server process, from its first instruction to its last.

Kubernetes may send SIGTERM at any moment: while torch is still being imported, while the server waits
for a checkpoint, while it drains, or (a second one, from a preStop hook or an impatient operator) while
it shuts down. Left to Python's default, any of these ends the process by the signal (status -15, which
Kubernetes reports as an error); uvicorn's own handler re-raises it after shutting down. So one handler is
installed before anything else and stays: it records each signal, and hands it to the server once there
is one (``DrainingServer.handle_exit``: the first drains, a second stops at once; both exit 0).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

Handler = Callable[[int, FrameType | None], None]
HANDLED = (signal.SIGTERM, signal.SIGINT)


class Signals:
    """The process's handler for ``HANDLED``; ``hand_to`` passes on what came before and what comes after."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._handler: Handler | None = None

    def install(self) -> Signals:
        for sig in HANDLED:
            signal.signal(sig, self._on_signal)
        return self

    def hand_to(self, handler: Handler) -> None:
        self._handler = handler
        for signum in self.received:
            handler(signum, None)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if self._handler is not None:
            self._handler(signum, frame)
