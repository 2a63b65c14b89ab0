"""``POST /v1/completions``: from raw bytes to a JSON response or a server-sent event stream.

The body is read and parsed here rather than by FastAPI, so that its size is bounded while it
streams in, the time it may take counts against the request's budget (a body that trickles in gets 408
and its connection closed), and every way it can be wrong maps to one OpenAI-shaped 4xx.

Choices are numbered as OpenAI does: prompt ``p``, sample ``j`` of ``n`` is choice ``p * n + j``,
sampled with seed ``seed + j``; so each prompt of a list gets what it would get alone.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator

from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from workloads.model import encode
from workloads.serve.engine import (
    Chunk,
    Engine,
    FinishReason,
    GenerationFailed,
    NotAccepting,
    QueueFull,
    SamplingParams,
    Submission,
)
from workloads.serve.errors import APIError, from_validation_error, internal_error
from workloads.serve.middleware import CLIENT_CLOSED_REQUEST
from workloads.serve.schemas import Completion, CompletionChoice, CompletionRequest, ErrorResponse, Usage
from workloads.serve.settings import Settings

# Seconds a client should wait before retrying a full queue: about one short generation.
RETRY_AFTER_S = "1"
# For answers given before the body was read whole: the connection cannot carry another request.
_CLOSE = {"Connection": "close"}


class _Response:
    """Identity shared by every chunk of one response."""

    def __init__(self, model: str) -> None:
        self.id = f"cmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def completion(self, choices: list[CompletionChoice], usage: Usage | None = None) -> Completion:
        return Completion(id=self.id, created=self.created, model=self.model, choices=choices, usage=usage)


async def create_completion(request: Request, engine: Engine, settings: Settings) -> Response:
    deadline = asyncio.get_running_loop().time() + settings.request_timeout_s
    if not engine.ready:
        raise unavailable(engine)
    try:
        async with asyncio.timeout_at(deadline):
            raw = await _read_body(request, settings.max_body_bytes)
    except TimeoutError:
        raise APIError(
            408,
            "The request body did not arrive within the server's time limit.",
            code="timeout",
            headers=_CLOSE,
        ) from None
    body = _parse(raw)
    prompts, max_tokens = _within_limits(body, engine, settings)
    seed = secrets.randbits(62) if body.seed is None else body.seed
    params = [
        SamplingParams(max_tokens, body.temperature, body.top_p, body.stop_sequences, seed + j)
        for _ in prompts
        for j in range(body.n)
    ]
    submission = _submit(engine, [prompt for prompt in prompts for _ in range(body.n)], params)
    identity = _Response(settings.model_name)
    prompt_tokens = sum(len(prompt) for prompt in prompts)
    if body.stream:
        usage_of = _UsageCounter(prompt_tokens, len(submission.sequences)) if body.include_usage else None
        return StreamingResponse(
            _stream(submission, deadline, identity, usage_of),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            # Also frees the rows if the client leaves while the stream is paused at a yield.
            background=BackgroundTask(submission.cancel),
        )
    return await _complete(request, submission, deadline, identity, prompt_tokens)


def _within_limits(
    body: CompletionRequest, engine: Engine, settings: Settings
) -> tuple[list[list[int]], int]:
    """The encoded prompts and the effective max_tokens, or the 4xx of the first limit broken."""
    if body.model != settings.model_name:
        raise APIError(
            404, f"The model '{body.model}' does not exist.", param="model", code="model_not_found"
        )
    max_tokens = body.max_tokens
    if "max_tokens" not in body.model_fields_set:
        max_tokens = min(max_tokens, settings.max_tokens_cap)  # OpenAI's default of 16 may exceed the cap
    elif max_tokens > settings.max_tokens_cap:
        message = f"max_tokens is {max_tokens}; this server allows at most {settings.max_tokens_cap}."
        raise APIError(400, message, param="max_tokens", code="invalid_value")
    prompts = [encode(prompt) for prompt in body.prompts]
    longest = max(len(prompt) for prompt in prompts)
    if longest >= engine.seq_len:
        # A prompt that fills the context leaves no room for a single token: nothing to complete.
        message = (
            f"This model's maximum context length is {engine.seq_len} tokens; the prompt has {longest}, "
            "which leaves no room for a completion."
        )
        raise APIError(400, message, param="prompt", code="context_length_exceeded")
    if len(prompts) * body.n > engine.max_queue:
        message = (
            f"{len(prompts)} prompts x n={body.n} exceed the {engine.max_queue} sequences the queue holds."
        )
        raise APIError(400, message, param="n", code="invalid_value")
    return prompts, max_tokens


def _submit(engine: Engine, prompts: list[list[int]], params: list[SamplingParams]) -> Submission:
    try:
        return engine.submit(prompts, params)
    except QueueFull:
        raise APIError(
            429,
            "The server's queue is full; retry later.",
            error_type="rate_limit_error",
            code="queue_full",
            headers={"Retry-After": RETRY_AFTER_S},
        ) from None
    except NotAccepting:
        raise unavailable(engine) from None


def unavailable(engine: Engine) -> APIError:
    draining = engine.draining
    return APIError(
        503,
        "The server is shutting down." if draining else "The model is not loaded yet.",
        error_type="server_error",
        code="shutting_down" if draining else "model_not_ready",
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        # The declared length may be absent (chunked) or wrong: count what actually arrives.
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise _too_large(limit)
    except ClientDisconnect:
        raise APIError(CLIENT_CLOSED_REQUEST, "The client closed the connection.") from None
    return bytes(body)


def _too_large(limit: int) -> APIError:
    # The rest of the body stays unread: the connection cannot carry another request.
    return APIError(413, f"The request body exceeds {limit} bytes.", code="request_too_large", headers=_CLOSE)


def _parse(body: bytes) -> CompletionRequest:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"The request body is not valid UTF-8 ({error.reason})."
        raise APIError(400, message, code="invalid_utf8") from None
    try:
        return CompletionRequest.model_validate_json(text)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            raise APIError(400, "The request body is not valid JSON.", code="invalid_json") from None
        raise from_validation_error(error) from None


def _failure(error: TimeoutError | GenerationFailed) -> APIError:
    if isinstance(error, TimeoutError):
        # 408, not 504: this server is the origin, and the budget is the request's, not an upstream's.
        return APIError(408, "The request did not finish within the server's time limit.", code="timeout")
    if error.reason == "shutdown":
        message = "The server shut down before the request finished."
        return APIError(503, message, error_type="server_error", code="shutting_down")
    return internal_error()


async def _complete(
    request: Request, submission: Submission, deadline: float, identity: _Response, prompt_tokens: int
) -> JSONResponse:
    choices = len(submission.sequences)
    texts = [""] * choices
    finish_reasons: list[FinishReason | None] = [None] * choices
    tokens = [0] * choices

    async def collect() -> None:
        async for chunk in submission.chunks(deadline):
            texts[chunk.choice] += chunk.text
            tokens[chunk.choice] = chunk.completion_tokens
            finish_reasons[chunk.choice] = chunk.finish_reason

    collector = asyncio.create_task(collect())
    watcher = asyncio.create_task(_wait_for_disconnect(request))
    try:
        await asyncio.wait({collector, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if not collector.done():
            raise APIError(CLIENT_CLOSED_REQUEST, "The client closed the connection.")
        collector.result()
    except (TimeoutError, GenerationFailed) as error:
        raise _failure(error) from None
    finally:
        for task in (collector, watcher):
            task.cancel()
        submission.cancel()
    result = [
        CompletionChoice(text=text, index=index, finish_reason=reason)
        for index, (text, reason) in enumerate(zip(texts, finish_reasons, strict=True))
    ]
    usage = _usage(prompt_tokens, sum(tokens))
    return JSONResponse(identity.completion(result, usage).model_dump(mode="json"))


def _usage(prompt_tokens: int, completion_tokens: int) -> Usage:
    """Tokens of a request: each prompt counted once (whatever ``n``), every choice's completion."""
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )


class _UsageCounter:
    """The tokens a stream has generated so far, per choice, for its final usage event."""

    def __init__(self, prompt_tokens: int, choices: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.tokens = [0] * choices

    def count(self, chunk: Chunk) -> None:
        self.tokens[chunk.choice] = chunk.completion_tokens

    def usage(self) -> Usage:
        return _usage(self.prompt_tokens, sum(self.tokens))


async def _wait_for_disconnect(request: Request) -> None:
    # The body has been read: the next message the server sends is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        continue


async def _stream(
    submission: Submission, deadline: float, identity: _Response, usage_of: _UsageCounter | None
) -> AsyncIterator[str]:
    """The events of a stream; with ``usage_of`` (``stream_options.include_usage``), OpenAI's last event
    before ``[DONE]``: no choices, and the usage of the whole request."""
    try:
        async for chunk in submission.chunks(deadline):
            if usage_of is not None:
                usage_of.count(chunk)
            if chunk.text or chunk.finish_reason is not None:
                yield _event(identity.completion([_choice(chunk)]).model_dump_json())
        if usage_of is not None:
            yield _event(identity.completion([], usage_of.usage()).model_dump_json())
        yield "data: [DONE]\n\n"
    except (TimeoutError, GenerationFailed) as error:
        # Headers (200) are gone already: report in-band, as OpenAI does, and omit [DONE].
        yield _event(ErrorResponse(error=_failure(error).detail).model_dump_json())
    finally:
        submission.cancel()


def _choice(chunk: Chunk) -> CompletionChoice:
    return CompletionChoice(text=chunk.text, index=chunk.choice, finish_reason=chunk.finish_reason)


def _event(data: str) -> str:
    return f"data: {data}\n\n"
