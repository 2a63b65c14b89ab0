"""Alerts as code: the PromQL behind each alert the platform ships, built from the spec's thresholds.

GPU health reads the DCGM exporter's series; training progress and serving read the metrics the workloads
export, named by ``lepton_infra.contract``. ServiceMonitor targets carry ``namespace`` and ``service``
labels, which the expressions select on.
"""

from __future__ import annotations

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.components.kubernetes.monitoring import AlertRule
from lepton_infra.contract import (
    SERVE_LATENCY_METRIC,
    SERVE_REQUESTS_METRIC,
    SERVE_STATUS_LABEL,
    TRAIN_LAST_STEP_METRIC,
)


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


def serving_rules(workload: InferenceWorkloadSpec) -> list[AlertRule]:
    thresholds = workload.alerts
    selector = f'namespace="{workload.namespace}", service="{workload.name}"'
    # Prometheus exposes a counter with the suffix _total, a histogram's buckets with _bucket.
    requests = f"{SERVE_REQUESTS_METRIC}_total"
    return [
        AlertRule(
            alert="InferenceLatencyHigh",
            expr=(
                "histogram_quantile(0.99, sum by (le) "
                f"(rate({SERVE_LATENCY_METRIC}_bucket{{{selector}}}[5m]))) "
                f"> {thresholds.p99_latency_seconds:g}"
            ),
            for_minutes=thresholds.for_minutes,
            severity="warning",
            summary=f"{workload.name}: p99 latency above {thresholds.p99_latency_seconds:g}s",
        ),
        AlertRule(
            alert="InferenceErrorRateHigh",
            expr=(
                f'sum(rate({requests}{{{selector}, {SERVE_STATUS_LABEL}=~"5.."}}[5m])) / '
                f"sum(rate({requests}{{{selector}}}[5m])) > {thresholds.error_rate_ratio:g}"
            ),
            for_minutes=thresholds.for_minutes,
            severity="critical",
            summary=f"{workload.name}: more than {thresholds.error_rate_ratio:.0%} of requests fail",
        ),
    ]
