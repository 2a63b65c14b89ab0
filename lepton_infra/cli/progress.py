"""A live count of the resources a plan has registered, on a terminal only.

A plan of a large stack runs for seconds; on a terminal a line on stderr says it is working and how far it
got, redrawn in place and cleared when the plan is done. Anywhere else (CI logs, a pipe, a file) it prints
nothing: a log gains nothing from a counter, and stdout stays what the command promises (``--json -``).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TextIO

# Redraws per second at most: a 1,000-resource plan registers them in a few seconds.
_INTERVAL_S = 0.1
_CLEAR_LINE = "\r\x1b[K"


class Progress:
    """``with Progress(sys.stderr, "planning aws-dev") as progress: run(on_record=progress.update)``."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._live = stream.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, count: int) -> None:
        if not self._live:
            return
        now = time.monotonic()
        if now - self._last < _INTERVAL_S:
            return
        self._last = now
        self._shown = True
        self._stream.write(f"{_CLEAR_LINE}{self._label}: {count} resource(s) registered")
        self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._shown:
            self._stream.write(_CLEAR_LINE)
            self._stream.flush()
