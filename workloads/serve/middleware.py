"""Pure ASGI middleware counting every response by endpoint and status, with its latency.

Pure ASGI rather than ``BaseHTTPMiddleware``: the latter buffers and re-wraps the receive
channel, which breaks streaming responses and disconnect detection.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workloads.serve.metrics import Metrics

# nginx's convention for "the client closed the connection before the response started".
CLIENT_CLOSED_REQUEST = 499


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED_REQUEST

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        except Exception:
            status = 500
            raise
        finally:
            self.metrics.record_request(scope["path"], status, time.perf_counter() - started)
