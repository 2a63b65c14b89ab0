"""Cluster services: what a site's handle lists is installed in order, charts before their objects."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest

from lepton_infra.components.kubernetes.cluster_services import ClusterServices
from lepton_infra.components.services import ClusterService, CustomObject, HelmChart
from lepton_infra.plan.engine import record
from lepton_infra.plan.model import Plan

CRDS = ClusterService(
    name="crds",
    namespace="kube-system",
    create_namespace=False,
    chart=HelmChart(chart="engine-crd", version="1.2.3", repository="oci://registry.example/charts"),
)
ENGINE = ClusterService(
    name="engine",
    namespace="engine",
    chart=HelmChart(
        chart="engine", version="1.2.3", repository="https://charts.example", values={"replicas": 2}
    ),
    objects=(CustomObject(api_version="example.com/v1", kind="Pool", name="gpu", spec={"limit": 4}),),
    after=("crds",),
)


def _plan(*services: ClusterService) -> Plan:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ClusterServices("site-services", services, provider)

    return record(program, project="test", stack="test")


def test_a_service_s_objects_wait_for_its_chart_and_a_chart_for_the_services_it_follows() -> None:
    plan = _plan(ENGINE, CRDS)  # listed out of order on purpose
    by_name = {r.name: r for r in plan.resources}
    crd_release = by_name["site-services-crds-release"]
    release = by_name["site-services-engine-release"]
    pool = by_name["site-services-engine-pool-gpu"]
    namespace = by_name["site-services-engine-ns"]
    assert crd_release.urn in release.dependencies
    assert {release.urn, namespace.urn} <= set(pool.dependencies)
    assert pool.type == "kubernetes:example.com/v1:Pool"
    assert pool.inputs["spec"] == {"limit": 4}
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "site-services-crds-ns" not in by_name  # kube-system exists already
    assert all(r.provider and "::k8s::" in r.provider for r in plan.custom_resources() if r.name != "k8s")


def test_charts_are_pinned_and_oci_charts_are_one_reference() -> None:
    by_name = {r.name: r for r in _plan(CRDS, ENGINE).resources}
    oci = by_name["site-services-crds-release"].inputs
    assert oci["chart"] == "oci://registry.example/charts/engine-crd"
    assert "repositoryOpts" not in oci
    classic = by_name["site-services-engine-release"].inputs
    assert classic["chart"] == "engine"
    assert classic["repositoryOpts"] == {"repo": "https://charts.example"}
    assert classic["version"] == "1.2.3"
    assert classic["values"] == {"replicas": 2}
    assert classic["atomic"] is True


def test_a_service_waiting_for_an_unknown_one_is_refused() -> None:
    lonely = ClusterService(name="lonely", namespace="x", after=("nobody",))
    with pytest.raises(Exception, match="unknown 'nobody'"):
        _plan(lonely)
