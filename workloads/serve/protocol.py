"""uvicorn's HTTP/1.1 protocol (h11) with the bounds it lacks: time to send headers, connections at once.

uvicorn closes a keep-alive connection left idle after a response (``timeout_keep_alive``), but nothing
limits how long a client may take to send a request's headers, nor how many connections may be open: a
client that opens connections and sends their headers a byte at a time (slowloris) holds each for as long
as it likes (seen: 350 held after 30 s). Here, as nginx's ``client_header_timeout`` and
``worker_connections`` do:

- a request's headers must be complete within ``header_timeout_s`` of the moment the server starts waiting
  for them (the connection opened, or the previous response ended); past it the connection is closed,
  with a 408 if part of a request had arrived;
- beyond ``max_connections`` open at once, a new connection is answered 503 (``too_many_connections``,
  ``Retry-After``) and closed before anything is read from it.

The body is the application's to bound: the request's budget (``--request-timeout-s``) covers reading it
(``completions``), and its size is capped by ``--max-body-bytes``; so memory held by half-sent bodies stays
below ``max_connections`` times that cap, and only for a request's budget.

This subclasses uvicorn's ``H11Protocol`` (pinned: 0.54.0 in the image) and relies on its ``cycle``
attribute changing when a request's headers have been parsed; ``tests/workloads`` check the behaviour
against the real server.
"""

from __future__ import annotations

import asyncio
import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

from workloads.serve.schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

# At most one "refused" warning per this many seconds: a flood must not flood the log too.
_WARN_EVERY_S = 10.0


def _raw_response(status: str, code: str, message: str, extra: str = "") -> bytes:
    detail = ErrorDetail(message=message, type="server_error", param=None, code=code)
    body = ErrorResponse(error=detail).model_dump_json().encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


_TOO_MANY = _raw_response(
    "503 Service Unavailable",
    "too_many_connections",
    "The server has too many connections open; retry later.",
    "retry-after: 1\r\n",
)
_TOO_SLOW = _raw_response("408 Request Timeout", "timeout", "The request headers did not arrive in time.")


class BoundedH11Protocol(H11Protocol):
    """H11Protocol with a header deadline and a connection cap (set by ``bounded_protocol``)."""

    header_timeout_s: float = 10.0
    max_connections: int = 512
    _last_warning = 0.0

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._warn(f"more than {self.max_connections} connections open: refusing new ones with 503")
            transport.write(_TOO_MANY)
            transport.close()
            return
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers were parsed: the application has it now
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle is cycle:  # no pipelined request started
            self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _wait_for_headers(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.conn.trailing_data[0]:  # part of a request came: say why it ends
            self.transport.write(_TOO_SLOW)
        self.transport.close()

    @classmethod
    def _warn(cls, message: str) -> None:
        now = time.monotonic()
        if now - BoundedH11Protocol._last_warning >= _WARN_EVERY_S:
            BoundedH11Protocol._last_warning = now
            log.warning("%s", message)


def bounded_protocol(*, header_timeout_s: float, max_connections: int) -> type[BoundedH11Protocol]:
    """The protocol class to hand uvicorn (``Config(http=...)``), with these bounds."""
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
