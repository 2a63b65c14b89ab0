"""Prometheus Operator objects: ServiceMonitor (what to scrape) and PrometheusRule (what to alert on).

pulumi-kubernetes has no typed ``...Args`` for CRDs, so their ``spec`` is a plain mapping built here in one
place; the field names follow monitoring.coreos.com/v1 and the tests check them against its schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.contract import METRICS_PATH

MONITORING_API = "monitoring.coreos.com/v1"


def scrape_annotations(port: int, path: str = METRICS_PATH) -> dict[str, str]:
    """The de-facto annotations a plain Prometheus (no operator) discovers pods by."""
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": path,
    }


def monitor_workload(
    resource_name: str,
    *,
    namespace: str,
    workload: str,
    port_name: str,
    selector: Mapping[str, str],
    labels: Mapping[str, str],
    rules: Sequence[AlertRule],
    opts: pulumi.ResourceOptions,
    path: str = METRICS_PATH,
) -> None:
    """A ServiceMonitor of the workload's Service (port ``port_name``, ``path``) and a PrometheusRule of
    ``rules`` (none where there are none)."""
    k8s.apiextensions.CustomResource(
        f"{resource_name}-monitor",
        api_version=MONITORING_API,
        kind="ServiceMonitor",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=workload, namespace=namespace, labels=dict(labels)),
        spec={
            "selector": {"matchLabels": dict(selector)},
            "endpoints": [{"port": port_name, "path": path, "interval": "30s"}],
        },
        opts=opts,
    )
    if not rules:
        return
    prometheus_rule(
        f"{resource_name}-alerts",
        namespace=namespace,
        name=f"{workload}-alerts",
        rules=rules,
        labels=labels,
        opts=opts,
    )


@dataclass(frozen=True)
class AlertRule:
    alert: str
    expr: str
    for_minutes: int
    severity: str
    summary: str

    def to_spec(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": f"{self.for_minutes}m",
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary},
        }


def prometheus_rule(
    resource_name: str,
    *,
    namespace: str,
    name: str,
    rules: Sequence[AlertRule],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=MONITORING_API,
        kind="PrometheusRule",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        spec={"groups": [{"name": name, "rules": [r.to_spec() for r in rules]}]},
        opts=opts,
    )
