"""What lets a server's HorizontalPodAutoscaler follow a metric of its own: prometheus-adapter, one per
cluster.

An InferenceService that scales on a pods metric (a vLLM server does by default, on its queue of waiting
requests) creates an HPA that asks ``custom.metrics.k8s.io`` for it; nothing in a cluster answers until an
adapter serves the metric. The Platform installs the adapter with the site's services; a program that builds
its servers from the package adds one MetricsAdapter per cluster, naming every series its servers scale on.
Read by Pulumi's analyzer: no ``from __future__ import annotations`` here.
"""

from types import SimpleNamespace
from typing import Any, TypedDict

import pulumi
from pydantic import TypeAdapter, ValidationError

from lepton_infra.blueprint.names import MetricName
from lepton_infra.components.kubernetes.cluster_services import ClusterServices
from lepton_infra.components.kubernetes.metrics_adapter import ADAPTER_SERVICE, adapter_services
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.cluster import ClusterTarget, cluster_handle, target_facts
from lepton_infra.validation import Problem, refuse

_METRIC_NAME: TypeAdapter[str] = TypeAdapter(MetricName)


class MetricsAdapterArgs(TypedDict):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster (e.g. a cluster component's kubeconfig output); kept a secret."""
    cluster: ClusterTarget
    """The cluster. The adapter reads its prometheusUrl; else, with prometheusOperator, the operator's
    prometheus-operated Service in monitoringNamespace; else a Prometheus installed for it there, which
    scrapes the pods by the prometheus.io annotations the servers carry."""
    metrics: list[str]
    """Every Prometheus series the cluster's servers scale on, each an InferenceService's
    autoscaling.metricName (vllm:num_requests_waiting for a vllm server left to its default): one adapter rule
    each, served to the HPA with colons turned to underscores."""


class MetricsAdapter(PackageComponent):
    """prometheus-adapter (a pinned chart, two replicas under a disruption budget) in its own namespace, with
    one discovery rule per metric and the chart's catch-all rules off (they relist every series each minute);
    where the cluster has no Prometheus, a Prometheus server for the adapter alone (restricted profile, a day
    of retention on an emptyDir). One per cluster: it registers the cluster's custom metrics API."""

    release_name: pulumi.Output[str]
    """Name of the adapter's Helm release."""
    prometheus_url: pulumi.Output[str]
    """The Prometheus the adapter reads."""

    def __init__(
        self, name: str, args: MetricsAdapterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        facts, series = self.prepare(args)
        child = self.start(name, opts)
        handle = cluster_handle(name, facts, self)
        services = adapter_services(series, handle.addons)
        installed = ClusterServices(name, services, handle.provider, child)
        adapter = services[-1].chart
        assert adapter is not None  # the adapter is a chart, and comes last
        self.publish(
            SimpleNamespace(
                release_name=installed.releases[ADAPTER_SERVICE].name,
                prometheus_url=pulumi.Output.from_input(adapter.values["prometheus"]["url"]),
            )
        )

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        facts = target_facts(values["cluster"], values["kubeconfig"])
        series: list[str] = values["metrics"]
        problems = [Problem("metrics", "name the series the servers scale on")] if not series else []
        for index, metric in enumerate(series):
            try:
                _METRIC_NAME.validate_python(metric)
            except ValidationError:
                problems.append(Problem(f"metrics[{index}]", f"{metric!r} is not a Prometheus metric name"))
        refuse(problems)
        return facts, sorted(set(series))


COMPONENTS: list[type[pulumi.ComponentResource]] = [MetricsAdapter]
