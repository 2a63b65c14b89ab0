"""What rank 0 tells the outside world: one JSON line per logging interval, and Prometheus metrics.

``TRAIN_LAST_STEP_METRIC`` (``lepton_infra.contract``) moves on every optimizer step; the platform's "no
progress for N minutes" alert compares it with ``time()``. Loss and throughput are updated per logging
interval, where they are averaged over the interval's steps rather than sampled from one.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from lepton_infra.contract import TRAIN_LAST_STEP_METRIC
from workloads.train.throughput import mfu

log = logging.getLogger(__name__)


class TrainMetrics:
    """The Prometheus series of one training process, on their own registry."""

    def __init__(self, *, with_mfu: bool) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.step = Gauge("lepton_train_step", "Optimizer steps completed", registry=registry)
        self.last_step = Gauge(
            TRAIN_LAST_STEP_METRIC,
            "Unix time at which the last optimizer step finished",
            registry=registry,
        )
        # Start-up counts as progress: the stalled-job alert then measures from the start, not from 1970.
        self.last_step.set_to_current_time()
        self.tokens = Counter("lepton_train_tokens", "Tokens trained on by all ranks", registry=registry)
        self.loss = Gauge(
            "lepton_train_loss", "Mean training loss over the last logging interval", registry=registry
        )
        self.tokens_per_second = Gauge(
            "lepton_train_tokens_per_second", "Training throughput of all ranks together", registry=registry
        )
        self.learning_rate = Gauge("lepton_train_learning_rate", "Current learning rate", registry=registry)
        # Only where the GPU's peak is known: a series stuck at 0 would read as an idle GPU.
        self.mfu = (
            Gauge("lepton_train_mfu_ratio", "Model FLOPs utilisation, 0-1", registry=registry)
            if with_mfu
            else None
        )
        self.last_checkpoint = Gauge(
            "lepton_train_last_checkpoint_timestamp_seconds",
            "Unix time at which the last checkpoint was written",
            registry=registry,
        )
        self.last_checkpoint_step = Gauge(
            "lepton_train_last_checkpoint_step", "Step of the last checkpoint written", registry=registry
        )

    def serve(self, port: int) -> None:
        try:
            start_http_server(port, registry=self.registry)
        except OSError as error:
            # Losing the metrics endpoint must not cost the run; the missing series is itself visible.
            log.warning("metrics endpoint not started on port %d: %s", port, error)


class Progress:
    """Per-step bookkeeping on rank 0; other ranks get one that reports nothing."""

    def __init__(
        self,
        *,
        enabled: bool,
        log_every: int,
        tokens_per_step: int,
        flops_per_token: float,
        devices: int,
        peak_flops: float | None,
        metrics_port: int,
    ) -> None:
        self._log_every = log_every
        self._tokens_per_step = tokens_per_step
        self._flops_per_token = flops_per_token
        self._devices = devices
        self._peak_flops = peak_flops
        self._metrics = TrainMetrics(with_mfu=peak_flops is not None) if enabled else None
        if self._metrics is not None and metrics_port:
            self._metrics.serve(metrics_port)
        self._interval_start = time.perf_counter()
        self._interval_steps = 0
        self._interval_loss = 0.0

    def start_interval(self) -> None:
        """Restart the throughput clock, e.g. after a resume so loading time is not counted as training."""
        self._interval_start = time.perf_counter()
        self._interval_steps = 0
        self._interval_loss = 0.0

    def on_step(self, step: int, loss: float, lr: float) -> None:
        if self._metrics is None:
            return
        self._metrics.step.set(step)
        self._metrics.last_step.set_to_current_time()
        self._metrics.tokens.inc(self._tokens_per_step)
        self._interval_steps += 1
        self._interval_loss += loss
        if step % self._log_every != 0:
            return
        elapsed = time.perf_counter() - self._interval_start
        tokens_per_second = self._interval_steps * self._tokens_per_step / elapsed
        record: dict[str, float | int] = {
            "step": step,
            "loss": round(self._interval_loss / self._interval_steps, 6),
            "lr": float(f"{lr:.6g}"),
            "tokens_per_sec": round(tokens_per_second, 1),
        }
        self._metrics.loss.set(record["loss"])
        self._metrics.tokens_per_second.set(tokens_per_second)
        self._metrics.learning_rate.set(lr)
        if self._peak_flops is not None:
            record["mfu"] = round(
                mfu(tokens_per_second, self._flops_per_token, self._devices, self._peak_flops), 4
            )
            if self._metrics.mfu is not None:
                self._metrics.mfu.set(record["mfu"])
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        self.start_interval()

    def on_checkpoint(self, step: int) -> None:
        if self._metrics is not None:
            self._metrics.last_checkpoint.set_to_current_time()
            self._metrics.last_checkpoint_step.set(step)
