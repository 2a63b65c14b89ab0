"""Installs the cluster services a site's handle lists (``components/services.py``), each in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.components.kubernetes.labels import namespace_labels
from lepton_infra.components.kubernetes.tenancy import pod_security_labels
from lepton_infra.components.services import ClusterService, CustomObject


class ClusterServices(pulumi.ComponentResource):
    """Every service of ``services``, each after those it names in ``after``."""

    releases: dict[str, k8s.helm.v3.Release]
    """Each service's Helm release, by the service's name (services of custom objects only have none)."""

    def __init__(
        self,
        name: str,
        services: Sequence[ClusterService],
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param services: The services to install, each a pinned chart and the custom objects that configure
            it, in its own namespace; each is installed after the services it names in ``after``.
        :param provider: The Kubernetes provider of the cluster they are installed in.
        """
        super().__init__("lepton:kubernetes:ClusterServices", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.releases = {}
        installed: dict[str, list[pulumi.Resource]] = {}
        for service in _in_order(services):
            waits_for = [r for dependency in service.after for r in installed[dependency]]
            installed[service.name] = _install(f"{name}-{service.name}", service, child, waits_for)
            release = next((r for r in installed[service.name] if isinstance(r, k8s.helm.v3.Release)), None)
            if release is not None:
                self.releases[service.name] = release
        self.register_outputs({"services": sorted(installed)})


def _in_order(services: Sequence[ClusterService]) -> list[ClusterService]:
    """Services sorted so each comes after those it names; a missing or circular name is a bug."""
    by_name = {s.name: s for s in services}
    ordered: list[ClusterService] = []
    visiting: set[str] = set()

    def visit(service: ClusterService) -> None:
        if service in ordered:
            return
        if service.name in visiting:
            raise ValueError(f"cluster services wait on each other in a circle at {service.name!r}")
        visiting.add(service.name)
        for dependency in service.after:
            if dependency not in by_name:
                raise ValueError(f"cluster service {service.name!r} waits for unknown {dependency!r}")
            visit(by_name[dependency])
        ordered.append(service)

    for service in services:
        visit(service)
    return ordered


def _install(
    name: str, service: ClusterService, opts: pulumi.ResourceOptions, waits_for: list[pulumi.Resource]
) -> list[pulumi.Resource]:
    created: list[pulumi.Resource] = []
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=waits_for))
    if service.create_namespace:
        created.append(
            k8s.core.v1.Namespace(
                f"{name}-ns",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=service.namespace,
                    labels=namespace_labels(service.namespace) | pod_security_labels(service.pod_security),
                ),
                opts=after,
            )
        )
    if service.chart is not None:
        chart = service.chart
        # A Release takes an OCI chart as one reference (pulumi/pulumi-kubernetes#1892), others by repo.
        oci = chart.repository.startswith("oci://")
        created.append(
            k8s.helm.v3.Release(
                f"{name}-release",
                k8s.helm.v3.ReleaseArgs(
                    name=service.name,
                    chart=f"{chart.repository.rstrip('/')}/{chart.chart}" if oci else chart.chart,
                    version=chart.version,
                    repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                    namespace=service.namespace,
                    values=dict(chart.values),
                    skip_crds=chart.skip_crds or None,
                    atomic=True,
                    timeout=chart.timeout_seconds,
                ),
                opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=list(created))),
            )
        )
    for obj in service.objects:
        created.append(
            custom_object(
                f"{name}-{obj.kind.lower()}-{obj.name}",
                obj,
                # The objects' kinds come with the chart: they can only be created once it is installed.
                pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=list(created))),
            )
        )
    return created


class _FieldsResource(pulumi.CustomResource):
    """A custom resource with top-level fields besides `spec`, which pulumi-kubernetes' Python
    ``CustomResource`` cannot carry (its TypeScript twin takes them as "other fields")."""

    def __init__(self, resource_name: str, obj: CustomObject, opts: pulumi.ResourceOptions) -> None:
        body: dict[str, Any] = {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "metadata": _metadata(obj),
            **dict(obj.fields),
        }
        if obj.spec is not None:
            body["spec"] = dict(obj.spec)
        super().__init__(f"kubernetes:{obj.api_version}:{obj.kind}", resource_name, body, opts)


def custom_object(
    resource_name: str, obj: CustomObject, opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """``obj`` as a Pulumi resource of its kind."""
    if obj.fields:
        return _FieldsResource(resource_name, obj, opts)
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=obj.api_version,
        kind=obj.kind,
        metadata=_metadata(obj),
        spec=dict(obj.spec) if obj.spec is not None else None,
        opts=opts,
    )


def _metadata(obj: CustomObject) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=obj.name, namespace=obj.namespace, labels=dict(obj.labels) or None)
