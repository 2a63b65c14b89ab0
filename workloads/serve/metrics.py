"""Prometheus metrics of one server, in a registry of its own (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from lepton_infra.contract import (
    COMPLETIONS_PATH,
    HEALTH_PATH,
    METRICS_PATH,
    MODELS_PATH,
    READY_PATH,
    SERVE_ENDPOINT_LABEL,
    SERVE_LATENCY_METRIC,
    SERVE_QUEUE_DEPTH_METRIC,
    SERVE_REQUESTS_METRIC,
    SERVE_STATUS_LABEL,
)

# Only known routes become label values: a scanner requesting random paths must not be able
# to create unbounded time series.
ENDPOINTS = frozenset({COMPLETIONS_PATH, MODELS_PATH, HEALTH_PATH, READY_PATH, METRICS_PATH})

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The server's metrics, all prefixed ``lepton_serve_``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Label names are the ones the InferenceService's alert rules query.
        self.requests = Counter(
            SERVE_REQUESTS_METRIC,
            "HTTP requests by endpoint and status code (499: the client went away first).",
            [SERVE_ENDPOINT_LABEL, SERVE_STATUS_LABEL],
            registry=self.registry,
        )
        # Completions only: fast probe and scrape requests would otherwise hide a slow p99.
        self.latency = Histogram(
            SERVE_LATENCY_METRIC,
            "Time from a completion request's arrival to the last byte of its response.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.time_to_first_token = Histogram(
            "lepton_serve_time_to_first_token_seconds",
            "Time from admission to the queue to the first generated token of a sequence.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.generated_tokens = Counter(
            "lepton_serve_generated_tokens", "Tokens generated, over all sequences.", registry=self.registry
        )
        self.prompt_tokens = Counter(
            "lepton_serve_prompt_tokens", "Prompt tokens processed (prefill).", registry=self.registry
        )
        self.batch_size = Histogram(
            "lepton_serve_batch_size",
            "Sequences decoded together in one forward pass.",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            SERVE_QUEUE_DEPTH_METRIC, "Sequences waiting for a batch slot.", registry=self.registry
        )
        self.running = Gauge(
            "lepton_serve_running_sequences", "Sequences in the running batch.", registry=self.registry
        )
        self.checkpoint_step = Gauge(
            "lepton_serve_checkpoint_step",
            "Training step of the checkpoint being served (0 before one is loaded).",
            registry=self.registry,
        )

    def record_request(self, path: str, status: int, seconds: float) -> None:
        endpoint = path if path in ENDPOINTS else "other"
        self.requests.labels(endpoint, str(status)).inc()
        if endpoint == COMPLETIONS_PATH:
            self.latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
