"""Alerts as code: the PromQL behind each alert the platform ships, built from the spec's thresholds.

GPU health reads the DCGM exporter's series; training progress and serving read the metrics the workloads
export, named by ``lepton_infra.contract`` for ours and by ``lepton_infra.engines`` for each engine's pinned
version. ServiceMonitor targets carry ``namespace`` and ``service``
labels, which the expressions select on.
"""

from __future__ import annotations

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.components.kubernetes.monitoring import AlertRule
from lepton_infra.contract import TRAIN_LAST_STEP_METRIC
from lepton_infra.engines import LEPTON, ServingMetrics


def gpu_health_rules() -> list[AlertRule]:
    return [
        AlertRule(
            alert="GpuXidError",
            # Any XID code is a driver-reported fault (48: double-bit ECC, 79: fallen off the bus, ...).
            expr="max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS) > 0",
            for_minutes=1,
            severity="critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}",
        ),
        AlertRule(
            alert="GpuEccDoubleBitErrors",
            expr="increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0",
            for_minutes=1,
            severity="critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.Hostname }} has uncorrectable ECC errors",
        ),
    ]


def training_rules(workload: TrainingWorkloadSpec) -> list[AlertRule]:
    minutes = workload.no_progress_alert_minutes
    selector = f'namespace="{workload.namespace}", service="{workload.name}"'
    return [
        AlertRule(
            alert="TrainingNoProgress",
            expr=f"time() - max({TRAIN_LAST_STEP_METRIC}{{{selector}}}) > {minutes * 60}",
            for_minutes=5,
            severity="warning",
            summary=f"training job {workload.name} has finished no step for {minutes} minutes",
        )
    ]


def serving_rules(
    workload: InferenceWorkloadSpec, metrics: ServingMetrics = LEPTON.metrics
) -> list[AlertRule]:
    """p99 latency and error-rate alerts on the server's own series (``metrics``)."""
    thresholds = workload.alerts
    selector = f'namespace="{workload.namespace}", service="{workload.name}"'
    requests = metrics.requests_total
    return [
        AlertRule(
            alert="InferenceLatencyHigh",
            expr=(
                "histogram_quantile(0.99, sum by (le) "
                # A histogram's buckets are exposed with the suffix _bucket.
                f"(rate({metrics.latency_histogram}_bucket{{{selector}}}[5m]))) "
                f"> {thresholds.p99_latency_seconds:g}"
            ),
            for_minutes=thresholds.for_minutes,
            severity="warning",
            summary=f"{workload.name}: p99 latency above {thresholds.p99_latency_seconds:g}s",
        ),
        AlertRule(
            alert="InferenceErrorRateHigh",
            expr=(
                f"sum(rate({requests}{{{selector}, {metrics.failed_matcher}}}[5m])) / "
                f"sum(rate({requests}{{{selector}}}[5m])) > {thresholds.error_rate_ratio:g}"
            ),
            for_minutes=thresholds.for_minutes,
            severity="critical",
            summary=f"{workload.name}: more than {thresholds.error_rate_ratio:.0%} of requests fail",
        ),
    ]
