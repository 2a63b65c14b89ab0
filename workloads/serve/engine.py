"""Iteration-level (continuous) batching on one thread that owns the model.

Every iteration: sequences that finished or were cancelled leave, waiting sequences join (up to
``max_batch_size``), the joiners' prompts are prefilled in one forward pass, the running rows
decode one token in another, and each row samples its next token. A request therefore joins
at the next step and frees its row the step it ends, instead of waiting for a whole batch.

The HTTP side never touches torch: it submits prompts, and receives ``Chunk`` events on an
asyncio queue of its own loop, posted once per step with ``call_soon_threadsafe``.

The engine may start without a model (``install`` hands it one later: the server waits for the first
checkpoint) and may be handed a newer one of the same shape while it serves. It switches between steps
of the batch once the running sequences have finished, admitting none meanwhile, so that no sequence is
ever decoded by two models; requests that arrive meanwhile wait in the queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import torch

from workloads.model import GPT, ModelConfig
from workloads.serve.decoder import CachedDecoder
from workloads.serve.metrics import Metrics
from workloads.serve.sampling import sample
from workloads.serve.text import TextStream

log = logging.getLogger(__name__)

FinishReason = Literal["stop", "length"]
FailureReason = Literal["shutdown", "internal"]
# What /readyz reports: no model yet and none being read, one being read or warmed up, ready, draining,
# or the engine thread died (then /healthz fails too).
EngineState = Literal["waiting_for_checkpoint", "loading", "ready", "draining", "failed"]


@dataclass(frozen=True, slots=True)
class SamplingParams:
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    seed: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """New text of one choice; ``completion_tokens`` counts every token generated so far."""

    choice: int
    text: str
    completion_tokens: int
    finish_reason: FinishReason | None


@dataclass(frozen=True, slots=True)
class Failure:
    choice: int
    reason: FailureReason


class QueueFull(Exception):
    """The waiting queue has no room for all the sequences of a request."""


class NotAccepting(Exception):
    """The engine is still warming up, or is draining for shutdown."""


class GenerationFailed(Exception):
    def __init__(self, reason: FailureReason) -> None:
        super().__init__(reason)
        self.reason = reason


class _Sequence:
    """One choice of one request, from the queue to its last token."""

    __slots__ = (
        "budget",
        "cached",
        "cancelled",
        "choice",
        "generated",
        "generator",
        "params",
        "prompt_length",
        "row",
        "state",
        "submission",
        "submitted_at",
        "text",
        "tokens",
    )

    def __init__(
        self, submission: Submission, choice: int, prompt: list[int], params: SamplingParams, seq_len: int
    ) -> None:
        self.submission = submission
        self.choice = choice
        self.params = params
        self.tokens = list(prompt)
        self.prompt_length = len(prompt)
        # The whole text, prompt plus completion, must fit the model's context window.
        self.budget = min(params.max_tokens, seq_len - len(prompt))
        self.cached = 0  # tokens whose keys and values are in the cache
        self.generated = 0
        self.text = TextStream(params.stop)
        self.generator = torch.Generator().manual_seed(params.seed)
        self.row = -1
        self.state: Literal["waiting", "running", "done"] = "waiting"
        self.cancelled = False
        self.submitted_at = time.perf_counter()


class Submission:
    """The server side's handle on one request: its events, and a way to give up on it."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self._engine = engine
        self.loop = loop
        self.queue: asyncio.Queue[Chunk | Failure] = asyncio.Queue()
        self.sequences: list[_Sequence] = []

    async def chunks(self, deadline: float) -> AsyncIterator[Chunk]:
        """Chunks until every choice has finished.

        Raises ``TimeoutError`` once the loop's clock passes ``deadline`` and ``GenerationFailed``
        when the engine gives up on a choice.
        """
        unfinished = len(self.sequences)
        while unfinished:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                raise TimeoutError
            # Take what is already queued without wait_for, which costs a task per call on 3.11.
            event = (
                self.queue.get_nowait()
                if self.queue.qsize()
                else await asyncio.wait_for(self.queue.get(), remaining)
            )
            if isinstance(event, Failure):
                raise GenerationFailed(event.reason)
            if event.finish_reason is not None:
                unfinished -= 1
            yield event

    def cancel(self) -> None:
        """Free the queue places and batch rows of this request (no-op once it has finished)."""
        self._engine.cancel(self)


class Engine:
    """Owns the model on a background thread and batches all sequences through it."""

    def __init__(
        self,
        model: GPT | None,
        *,
        max_batch_size: int,
        max_queue: int,
        metrics: Metrics,
        device: torch.device | None = None,
        step: int = 0,
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_queue = max_queue
        self._metrics = metrics
        if device is None:
            device = next(model.parameters()).device if model is not None else torch.device("cpu")
        self._device = device
        self._decoder: CachedDecoder | None = None
        self._config: ModelConfig | None = None if model is None else model.config
        self._pending: tuple[GPT, int] | None = None if model is None else (model, step)
        self._loading: int | None = None  # the step being read, before it is installed
        self.served_step: int | None = None
        self._lock = threading.Condition()
        self._waiting: deque[_Sequence] = deque()
        self._running: list[_Sequence] = []  # _running[i] lives in cache row i
        self._outbox: list[tuple[_Sequence, Chunk | Failure]] = []
        self._ready = threading.Event()
        self._draining = False
        self._stopping = False
        self._dead = False
        self._thread = threading.Thread(target=self._run, name="serve-engine", daemon=True)

    # -- lifecycle, called from the server ------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()
        if self._thread.is_alive():
            self._thread.join()

    def loading(self, step: int | None) -> None:
        """A checkpoint of ``step`` is being read (None: no longer); /readyz then says "loading"."""
        self._loading = step

    def install(self, model: GPT, step: int) -> None:
        """Serve ``model`` (on the CPU; the engine moves it to its device), the checkpoint of ``step``: at
        once if none is served yet, else as soon as the running sequences have finished. A newer model must
        have the shape of the first: requests were checked against its context."""
        with self._lock:
            if self._config is not None and model.config != self._config:
                raise ValueError(f"a model of shape {model.config}, not {self._config}")
            self._config = model.config
            self._pending = (model, step)
            self._loading = None
            self._lock.notify()

    @property
    def model_config(self) -> ModelConfig | None:
        """The shape of the model served (None before one is installed)."""
        return self._config

    @property
    def seq_len(self) -> int:
        """The context of the model served (0 before one is installed)."""
        return 0 if self._config is None else self._config.seq_len

    @property
    def state(self) -> EngineState:
        if self._dead:
            return "failed"
        if self._draining:
            return "draining"
        if self._ready.is_set():
            return "ready"
        return (
            "loading" if self._config is not None or self._loading is not None else "waiting_for_checkpoint"
        )

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self._draining and not self._dead

    @property
    def draining(self) -> bool:
        return self._draining

    @property
    def alive(self) -> bool:
        """False once the engine thread has died: the process can no longer serve."""
        return not self._dead

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._waiting and not self._running

    def start_draining(self) -> None:
        """Refuse new requests from now on; those already accepted run to completion."""
        with self._lock:
            self._draining = True

    def abort_all(self) -> None:
        """Fail every accepted sequence now (the drain deadline has passed)."""
        with self._lock:
            for sequence in (*self._waiting, *self._running):
                if not sequence.cancelled:
                    sequence.cancelled = True
                    self._post(sequence, Failure(sequence.choice, "shutdown"))
            for sequence in self._waiting:
                sequence.state = "done"
            self._waiting.clear()
            self._metrics.queue_depth.set(0)
            self._flush()

    # -- requests, called from the event loop ---------------------------------------------------

    def submit(self, prompts: list[list[int]], params: list[SamplingParams]) -> Submission:
        """Queue one sequence per (prompt, params) pair, all or none."""
        submission = Submission(self, asyncio.get_running_loop())
        submission.sequences = [
            _Sequence(submission, choice, prompt, choice_params, self.seq_len)
            for choice, (prompt, choice_params) in enumerate(zip(prompts, params, strict=True))
        ]
        with self._lock:
            if self._draining or self._stopping:
                raise NotAccepting("the server is shutting down")
            if not self._ready.is_set():
                raise NotAccepting("no model is loaded yet")
            if len(self._waiting) + len(submission.sequences) > self.max_queue:
                raise QueueFull
            self._waiting.extend(submission.sequences)
            self._metrics.queue_depth.set(len(self._waiting))
            self._lock.notify()
        return submission

    def cancel(self, submission: Submission) -> None:
        with self._lock:
            for sequence in submission.sequences:
                if sequence.state == "done":
                    continue
                sequence.cancelled = True
                if sequence.state == "waiting":
                    self._waiting.remove(sequence)
                    sequence.state = "done"
            self._metrics.queue_depth.set(len(self._waiting))
        # Running rows are released by the engine thread at its next step.

    # -- the engine thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                model, step = self._pending  # type: ignore[misc]
                self._pending = None
            self._switch_to(model, step)
            self._ready.set()
            log.info("engine ready: max batch %d, context %d tokens", self.max_batch_size, self.seq_len)
            self._serve_forever()
        except BaseException:
            self._dead = True
            log.exception("the engine thread died; /healthz now fails so that the pod is restarted")

    def _switch_to(self, model: GPT, step: int) -> None:
        """Decode with ``model`` from now on; only with no sequence running."""
        # The old cache and weights go first, so that device memory never holds two of each.
        self._decoder = None
        if self._device.type == "cuda":
            torch.cuda.empty_cache()
        self._decoder = CachedDecoder(model.to(self._device).eval(), self.max_batch_size)
        self._warm_up()
        self.served_step = step
        self._metrics.checkpoint_step.set(step)

    def _serve_forever(self) -> None:
        while True:
            with self._lock:
                self._release_cancelled()
                while not (self._stopping or self._waiting or self._running or self._pending):
                    self._lock.wait()
                if self._stopping:
                    return
                switch = None
                if self._pending is not None and not self._running:
                    switch, self._pending = self._pending, None
                # While a newer model waits, the running sequences finish on the old one; none joins.
                joining = self._admit() if self._pending is None and switch is None else []
                self._flush()
            if switch is not None:
                log.info("serving step %d from now on, instead of step %s", switch[1], self.served_step)
                self._switch_to(*switch)
                continue
            if not self._running:
                continue  # every admitted sequence finished on admission (nothing left to generate)
            try:
                self._step(joining)
            except Exception:
                # A bug must not take the whole server down: fail this batch, keep serving.
                log.exception("decoding step failed; failing %d sequences", len(self._running))
                with self._lock:
                    for sequence in self._running:
                        if not sequence.cancelled:
                            self._post(sequence, Failure(sequence.choice, "internal"))
                        sequence.state = "done"
                    self._running.clear()
                    self._metrics.running.set(0)
                    self._flush()

    def _warm_up(self) -> None:
        # First calls allocate buffers and pick kernels; pay for that before reporting ready.
        decoder, rows = self._live_decoder(), self.max_batch_size
        decoder.forward(0, [0] * rows, [[0] * min(8, self.seq_len)] * rows)
        if self.seq_len > 8:
            decoder.forward(0, [8] * rows, [[0]] * rows)

    def _live_decoder(self) -> CachedDecoder:
        assert self._decoder is not None, "no model installed"
        return self._decoder

    def _release_cancelled(self) -> None:
        for sequence in [s for s in self._running if s.cancelled]:
            self._remove(sequence)

    def _admit(self) -> list[_Sequence]:
        joining: list[_Sequence] = []
        while self._waiting and len(self._running) < self.max_batch_size:
            sequence = self._waiting.popleft()
            if sequence.budget == 0:  # the prompt fills the whole context: nothing to generate
                sequence.state = "done"
                self._post(sequence, Chunk(sequence.choice, "", 0, "length"))
                continue
            sequence.state = "running"
            sequence.row = len(self._running)
            self._running.append(sequence)
            joining.append(sequence)
        self._metrics.queue_depth.set(len(self._waiting))
        self._metrics.running.set(len(self._running))
        return joining

    def _remove(self, sequence: _Sequence) -> None:
        """Take a sequence out of the batch, moving the last row into its place."""
        last = self._running.pop()
        if last is not sequence:
            self._live_decoder().move_row(last.row, sequence.row)
            last.row = sequence.row
            self._running[sequence.row] = last
        sequence.state = "done"
        self._metrics.running.set(len(self._running))

    def _step(self, joining: list[_Sequence]) -> None:
        running = list(self._running)
        decoding = running[: len(running) - len(joining)]
        logits: list[torch.Tensor] = []
        if decoding:
            cached = [s.cached for s in decoding]
            logits.append(self._live_decoder().forward(0, cached, [[s.tokens[-1]] for s in decoding]))
        if joining:
            prompts = [s.tokens for s in joining]
            logits.append(self._live_decoder().forward(len(decoding), [0] * len(joining), prompts))
            self._metrics.prompt_tokens.inc(sum(len(p) for p in prompts))
        tokens = sample(
            torch.cat(logits),
            [s.params.temperature for s in running],
            [s.params.top_p for s in running],
            [s.generator for s in running],
        )
        self._metrics.batch_size.observe(len(running))
        self._metrics.generated_tokens.inc(len(running))
        now = time.perf_counter()
        events: list[tuple[_Sequence, Chunk]] = []
        for sequence, token in zip(running, tokens, strict=True):
            if sequence.generated == 0:
                self._metrics.time_to_first_token.observe(now - sequence.submitted_at)
            sequence.cached = len(sequence.tokens)
            sequence.tokens.append(token)
            sequence.generated += 1
            text, stopped = sequence.text.push(token)
            reason: FinishReason | None = "stop" if stopped else None
            if reason is None and sequence.generated >= sequence.budget:
                reason = "length"
                text += sequence.text.finish()
            events.append((sequence, Chunk(sequence.choice, text, sequence.generated, reason)))
        with self._lock:
            for sequence, chunk in events:
                # A cancelled (or aborted) sequence has nobody left to read its events.
                if not sequence.cancelled:
                    self._post(sequence, chunk)
                if chunk.finish_reason is not None and sequence.state == "running":
                    self._remove(sequence)
            self._flush()

    def _post(self, sequence: _Sequence, event: Chunk | Failure) -> None:
        # Called with the lock held; _flush hands the batch over once per step.
        self._outbox.append((sequence, event))

    def _flush(self) -> None:
        """Hand this step's events to their event loops, one wake-up per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Sequence, Chunk | Failure]]] = {}
        for sequence, event in self._outbox:
            by_loop.setdefault(sequence.submission.loop, []).append((sequence, event))
        self._outbox = []
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # the loop has closed: nobody is waiting for these any more
                continue


def _deliver(items: list[tuple[_Sequence, Chunk | Failure]]) -> None:
    for sequence, event in items:
        sequence.submission.queue.put_nowait(event)
