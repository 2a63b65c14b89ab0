"""Cluster services a site asks for (an autoscaler, a device plugin, a metrics adapter ...), as plain data.

A cloud site knows *which* engines its cluster needs and how to configure them (Karpenter's queue and
roles, the EFA device plugin's tolerations); the Kubernetes layer only installs what the handle lists
(``kubernetes/cluster_services.py``), in order, without knowing the cloud. Being plain data, a site's list
can also travel between stacks (the cloud layer exports it, the Kubernetes layer installs it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HelmChart:
    """A pinned chart from a repository (``https://...``) or an OCI registry (``oci://...``)."""

    chart: str
    version: str
    repository: str
    values: Mapping[str, Any] = field(default_factory=dict)
    # Leave the chart's crds/ uninstalled: another chart of the service owns those CRDs (Helm never
    # upgrades a chart's crds/, so such CRDs come in a chart of their own).
    skip_crds: bool = False
    # Seconds Helm may take; an atomic release rolls back when its pods do not become ready in time.
    timeout_seconds: int = 600


@dataclass(frozen=True)
class CustomObject:
    """A custom resource the service's chart defines (a Karpenter NodePool, a Kueue ClusterQueue ...)."""

    api_version: str
    kind: str
    name: str
    spec: Mapping[str, Any] | None
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # Top-level fields of kinds that keep their settings beside (or instead of) a spec, such as a Kueue
    # WorkloadPriorityClass's `value` and `description`.
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterService:
    """One engine in its own namespace: a Helm release, then the custom objects that configure it."""

    name: str
    namespace: str
    chart: HelmChart | None = None
    objects: tuple[CustomObject, ...] = ()
    # "privileged" for services that mount host paths or devices (device plugins), else "restricted".
    pod_security: str = "restricted"
    # Services whose release must exist first (e.g. a CRD-installing chart before objects of its kinds).
    after: tuple[str, ...] = ()
    # kube-system and other namespaces the cluster already has are used, not created.
    create_namespace: bool = True
