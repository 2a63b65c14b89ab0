"""What the platform knows of each model server it runs, for the version it pins, with where it was read.

A server's probes, metrics, alerts and the metric its autoscaler follows are only right for one version of
it: vLLM renamed metrics between releases (``vllm:gpu_cache_usage_perc`` became ``vllm:kv_cache_usage_perc``,
``vllm:time_per_output_token_seconds`` became ``vllm:request_time_per_output_token_seconds``), so every fact
here names the version it holds for. Plain data, importable by the spec and the components alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lepton_infra.contract import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    SERVE_LATENCY_METRIC,
    SERVE_QUEUE_DEPTH_METRIC,
    SERVE_REQUESTS_METRIC,
    SERVE_STATUS_LABEL,
)


@dataclass(frozen=True)
class ServingMetrics:
    """The series a server exports that the platform's alerts and autoscaler read."""

    # A histogram of whole-request latency, in seconds (its _bucket series feed the p99 alert).
    latency_histogram: str
    # A counter of finished requests (the exported name, with _total), and the label matcher that picks the
    # failed ones: the error-rate alert divides the second by the first.
    requests_total: str
    failed_matcher: str
    # A per-replica gauge of requests waiting for capacity: what a pods-metric autoscaler follows by default.
    queue_gauge: str


@dataclass(frozen=True)
class Engine:
    name: str
    version: str
    health_path: str
    ready_path: str
    metrics_path: str
    metrics: ServingMetrics
    # Where each fact above was read, for the version pinned.
    sources: tuple[str, ...]


LEPTON = Engine(
    name="lepton",
    version="this repository",
    health_path=HEALTH_PATH,
    ready_path=READY_PATH,
    metrics_path=METRICS_PATH,
    metrics=ServingMetrics(
        latency_histogram=SERVE_LATENCY_METRIC,
        requests_total=f"{SERVE_REQUESTS_METRIC}_total",
        failed_matcher=f'{SERVE_STATUS_LABEL}=~"5.."',
        queue_gauge=SERVE_QUEUE_DEPTH_METRIC,
    ),
    sources=("lepton_infra/contract.py",),
)

VLLM_VERSION: Final = "0.32.0"
VLLM = Engine(
    name="vllm",
    version=VLLM_VERSION,
    # GET /health answers 200 once the engine is up, 503 once it is dead; the OpenAI server starts listening
    # only after the model is loaded, so it also serves as readiness.
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    metrics=ServingMetrics(
        latency_histogram="vllm:e2e_request_latency_seconds",
        # Counted per finished request with its finished_reason: stop, length, abort, error, repetition;
        # "error" is a request-level internal error, always answered 500.
        requests_total="vllm:request_success_total",
        failed_matcher='finished_reason="error"',
        queue_gauge="vllm:num_requests_waiting",
    ),
    sources=(
        "https://docs.vllm.ai/en/v0.32.0/usage/metrics/",
        "vllm 0.32.0 wheel: vllm/v1/metrics/loggers.py, vllm/v1/engine/__init__.py (FinishReason), "
        "vllm/entrypoints/serve/instrumentator/health.py, vllm/engine/arg_utils.py, vllm/config/vllm.py",
    ),
)

# Flags of `vllm serve` the platform sets itself (vllm 0.32.0 vllm/engine/arg_utils.py and the serve CLI):
# the model comes from the staged export, the port and parallelism from the spec.
VLLM_PLATFORM_FLAGS = (
    "--model",
    "--served-model-name",
    "--port",
    "--host",
    "--tensor-parallel-size",
    "-tp",
    "--shutdown-timeout",
    "--download-dir",
)


def adapter_metric_name(series: str) -> str:
    """The name the metrics adapter serves a Prometheus series under: colons (vLLM's ``vllm:`` prefix), which
    recording-rule names use and Kubernetes resource names do not, become underscores (as vLLM's production
    stack names its adapter metric ``vllm_num_requests_waiting``)."""
    return series.replace(":", "_")
