"""prometheus-adapter, and a Prometheus for it to read where the site has none: what an HPA on a pods metric
needs to ever scale.

An HPA asks ``custom.metrics.k8s.io`` for a pod metric; nothing in a cluster answers that until an adapter
registers the API. A site gets the adapter when any of its workloads autoscales on a pods metric, with one
discovery rule per metric (the adapter serves nothing by default: the chart's catch-all rules are switched
off, since they relist every series of the Prometheus each minute). The adapter reads the site's
Prometheus: the URL the site names; else, where the Prometheus Operator runs, its ``prometheus-operated``
Service in the monitoring namespace (the Service the operator creates for every Prometheus it runs); else
a Prometheus server installed here, which scrapes pods by the ``prometheus.io/*`` annotations our workload
pods carry where there is no operator. That last one is the autoscaler's source only: no alerting, no
node exporters, a day of retention in an emptyDir.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, PodsMetricAutoscalingSpec, WorkloadSpec
from lepton_infra.components.handle import ClusterAddons
from lepton_infra.components.services import ClusterService, HelmChart
from lepton_infra.engines import adapter_metric_name

COMMUNITY_CHARTS = "https://prometheus-community.github.io/helm-charts"
ADAPTER_SERVICE = "prometheus-adapter"
ADAPTER_NAMESPACE = "custom-metrics"
# prometheus-community/helm-charts tag prometheus-adapter-5.3.0 (the adapter v0.12.0).
ADAPTER_CHART_VERSION = "5.3.0"
PROMETHEUS_SERVICE = "prometheus"
# prometheus-community/helm-charts tag prometheus-29.27.0 (Prometheus v3.14.0).
PROMETHEUS_CHART_VERSION = "29.27.0"
PROMETHEUS_PORT = 9090
# The chart's server Service: <release>-server, port 80 (charts/prometheus templates/_helpers.tpl, values).
INSTALLED_PROMETHEUS_SERVICE = f"{PROMETHEUS_SERVICE}-server"
INSTALLED_PROMETHEUS_PORT = 80
# What restricted Pod Security asks of every container; the Prometheus chart sets none of it by default.
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pods_metrics(workloads: Sequence[WorkloadSpec]) -> list[str]:
    """The Prometheus series the site's HPAs follow as pods metrics, each once, in order."""
    series = [
        w.autoscaling.metric_name
        for w in workloads
        if isinstance(w, InferenceWorkloadSpec) and isinstance(w.autoscaling, PodsMetricAutoscalingSpec)
    ]
    return sorted(set(series))


def adapter_rule(series: str) -> dict[str, Any]:
    """One discovery rule (prometheus-adapter's config format, pkg/config/config.go at v0.12.0): the series
    of each pod, summed per pod, served under ``adapter_metric_name(series)``."""
    return {
        "seriesQuery": f'{{__name__="{series}",namespace!="",pod!=""}}',
        "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
        "name": {"matches": f"^{re.escape(series)}$", "as": adapter_metric_name(series)},
        # One replica may export several series of it (vLLM: one per engine); the HPA wants one per pod.
        "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    }


def metrics_adapter_services(
    workloads: Sequence[WorkloadSpec], addons: ClusterAddons
) -> tuple[ClusterService, ...]:
    """The adapter with a rule per pods metric (and a Prometheus where the site has none); nothing where no
    workload scales on a pods metric."""
    return adapter_services(pods_metrics(workloads), addons)


def adapter_services(series: Sequence[str], addons: ClusterAddons) -> tuple[ClusterService, ...]:
    """The adapter with a rule for each Prometheus series of ``series`` (and a Prometheus where the site has
    none); nothing for no series."""
    if not series:
        return ()
    installed: tuple[ClusterService, ...] = ()
    if addons.prometheus_url is not None:
        url = addons.prometheus_url
    elif addons.prometheus_operator:
        url = f"http://prometheus-operated.{addons.monitoring_namespace}.svc:{PROMETHEUS_PORT}"
    else:
        installed = (prometheus_service(addons.monitoring_namespace),)
        url = (
            f"http://{INSTALLED_PROMETHEUS_SERVICE}.{addons.monitoring_namespace}.svc:"
            f"{INSTALLED_PROMETHEUS_PORT}"
        )
    adapter = ClusterService(
        name=ADAPTER_SERVICE,
        namespace=ADAPTER_NAMESPACE,
        chart=HelmChart(
            chart="prometheus-adapter",
            version=ADAPTER_CHART_VERSION,
            repository=COMMUNITY_CHARTS,
            values=adapter_values(url, series),
        ),
        after=tuple(s.name for s in installed),
    )
    return (*installed, adapter)


def adapter_values(prometheus_url: str, series: Sequence[str]) -> dict[str, Any]:
    # The chart appends `:<port>` to the URL unless the port is empty; ours carries its own.
    return {
        "prometheus": {"url": prometheus_url, "port": ""},
        "replicas": 2,
        # The HPA controller cannot read any custom metric while the APIService's one pod is gone.
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "rules": {"default": False, "custom": [adapter_rule(s) for s in series]},
    }


def prometheus_service(namespace: str) -> ClusterService:
    """A Prometheus server that scrapes annotated pods, for the adapter alone."""
    values: dict[str, Any] = {
        "alertmanager": {"enabled": False},
        "kube-state-metrics": {"enabled": False},
        "prometheus-node-exporter": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
        "configmapReload": {"prometheus": {"containerSecurityContext": RESTRICTED_CONTAINER}},
        "server": {
            "retention": "1d",
            # A day of samples for the autoscaler: lost on restart, needs no storage class.
            "persistentVolume": {"enabled": False},
            "securityContext": {
                "runAsUser": 65534,
                "runAsNonRoot": True,
                "runAsGroup": 65534,
                "fsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containerSecurityContext": RESTRICTED_CONTAINER,
        },
    }
    return ClusterService(
        name=PROMETHEUS_SERVICE,
        namespace=namespace,
        chart=HelmChart(
            chart="prometheus", version=PROMETHEUS_CHART_VERSION, repository=COMMUNITY_CHARTS, values=values
        ),
    )
