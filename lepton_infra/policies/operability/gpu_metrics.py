"""GPU metrics: alerts and autoscalers that read DCGM series need a DCGM exporter in their cluster.

An alert whose series nobody exports never fires, and says nothing about it: a GPU that reports XID errors
goes unnoticed. The GPU Operator runs the exporter unless a site turns it off (an existing site's
``gpu_operator.dcgm_exporter``); the plan then shows whether anything else exports the series.
"""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.catalog import cluster_services as svc
from lepton_infra.catalog.daemonsets import GPU_OPERATOR_CHART
from lepton_infra.policies.kubernetes.workloads import DAEMON_SET, HPA, pod_spec
from lepton_infra.policies.operability.topology import Cluster, topology
from lepton_infra.policies.rule import view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_true
from lepton_infra.policies.view import Finding, Resource, Stack

FAMILY = "operability-services"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _dcgm_readers(cluster: Cluster) -> list[tuple[Resource, str]]:
    """(object, what of it reads DCGM series): alert rules by name, HPAs by metric."""
    found: list[tuple[Resource, str]] = []
    for rule in cluster.of_type(PROMETHEUS_RULE):
        alerts = [
            str(get(r, "alert", default="?"))
            for group in as_list(get(rule.props, "spec", "groups"))
            for r in as_list(get(group, "rules"))
            if svc.DCGM_SERIES_PREFIX in str(get(r, "expr", default=""))
        ]
        if alerts:
            found.append((rule, f"alerts {', '.join(alerts)}"))
    for hpa in cluster.of_type(HPA):
        for metric in as_list(get(hpa.props, "spec", "metrics")):
            kind = str(get(metric, "type", default=""))
            name = str(get(metric, kind[:1].lower() + kind[1:], "metric", "name", default=""))
            if name.startswith(svc.DCGM_SERIES_PREFIX):
                found.append((hpa, f"scales on {name}"))
    return found


def _exports_dcgm(cluster: Cluster, operators: list[Resource]) -> bool:
    # The chart's default is on: only an explicit false (a bool, or a string from another tool) turns it off.
    if any(_on(get(r.props, "values", "dcgmExporter", "enabled")) for r in operators):
        return True
    if cluster.releases(svc.DCGM_EXPORTER_CHARTS):
        return True
    return any(
        svc.DCGM_EXPORTER_IMAGE in str(get(c, "image"))
        for d in cluster.of_type(DAEMON_SET)
        for c in as_list(get(pod_spec(DAEMON_SET, d.props), "containers"))
    )


def _on(enabled: object) -> bool:
    return enabled is None or is_true(enabled)


@view_policy(
    name="gpu-metrics-have-dcgm-exporter",
    family=FAMILY,
    severity="medium",
    description=(
        "Alerts and HPAs that read DCGM series (DCGM_FI_*) need a DCGM exporter in their cluster: where the "
        "stack installs the GPU Operator with its exporter off and nothing else exports them, the alerts "
        "never fire and the HPAs never scale."
    ),
    remediation=(
        "Keep the GPU Operator's DCGM exporter on (an existing site's gpu_operator.dcgm_exporter), or run "
        "NVIDIA's dcgm-exporter chart where Prometheus scrapes it."
    ),
)
def gpu_metrics_have_dcgm_exporter(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        operators = cluster.releases([GPU_OPERATOR_CHART])
        # Where the stack installs no GPU Operator, the cluster's own GPU stack is not the plan's to see.
        if not operators or _exports_dcgm(cluster, operators):
            continue
        for reader, what in _dcgm_readers(cluster):
            name = str(get(reader.props, "metadata", "name", default=reader.name))
            outside = "" if cluster.managed else " unless the cluster runs a DCGM exporter of its own"
            yield Finding(
                f"{name}: it {what}, but the GPU Operator in {cluster.describe()} runs without its DCGM "
                f"exporter and nothing else in the plan exports DCGM series ({svc.DCGM_EXPORTER.statement}); "
                f"it never fires or scales{outside}. Fix: turn the exporter on, or install one.",
                reader.urn,
            )


POLICIES = (gpu_metrics_have_dcgm_exporter,)
