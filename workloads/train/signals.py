"""SIGTERM as a request to stop: Kubernetes sends it when a spot node is reclaimed, then waits a grace period.

The handler only records the request; the training loop acts on it at the end of the current optimizer
step, after every rank has agreed (see ``distributed.agree``), so all ranks stop at the same step and
exactly one checkpoint is written. A first Ctrl-C does the same for interactive runs; a second one aborts.
"""

from __future__ import annotations

import signal
from types import FrameType


class StopRequest:
    """Set by SIGTERM or SIGINT; read once per step by the training loop."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # A repeated SIGTERM (the launcher forwarding plus a direct kill) must not lose the checkpoint;
        # a repeated Ctrl-C is a person who does not want to wait for it.
        if signum == signal.SIGINT and self.signal is not None:
            raise KeyboardInterrupt
        if self.signal is None:
            self.signal = signal.Signals(signum)
