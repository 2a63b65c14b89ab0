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
    """The chart's name in its repository, e.g. ``gpu-operator``."""
    version: str
    """The chart version, pinned: an upgrade is a deliberate change."""
    repository: str
    """Where the chart comes from: a Helm repository (``https://...``) or an OCI registry (``oci://...``)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The release's values, as the chart's ``values.yaml`` takes them."""
    skip_crds: bool = False
    """Leave the chart's ``crds/`` uninstalled: another chart of the service owns those CRDs (Helm never
    upgrades a chart's ``crds/``, so such CRDs come in a chart of their own)."""
    timeout_seconds: int = 600
    """Seconds Helm may take; the release is atomic, so it rolls back when its pods are not ready in time."""


@dataclass(frozen=True)
class CustomObject:
    """A custom resource the service's chart defines (a Karpenter NodePool, a Kueue ClusterQueue ...)."""

    api_version: str
    """The object's ``apiVersion``, e.g. ``karpenter.sh/v1``."""
    kind: str
    """The object's ``kind``, e.g. ``NodePool``."""
    name: str
    """The object's name."""
    spec: Mapping[str, Any] | None
    """The object's ``spec``; None for kinds that have none."""
    namespace: str | None = None
    """The object's namespace; None for cluster-scoped kinds."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the object."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Top-level fields of kinds that keep their settings beside (or instead of) a spec, such as a Kueue
    WorkloadPriorityClass's ``value`` and ``description``."""


@dataclass(frozen=True)
class ClusterService:
    """One engine in its own namespace: a Helm release, then the custom objects that configure it."""

    name: str
    """The service's name, unique on the site: its Helm release's name, and what ``after`` refers to."""
    namespace: str
    """The namespace the service runs in."""
    chart: HelmChart | None = None
    """The service's chart; None for a service of custom objects only."""
    objects: tuple[CustomObject, ...] = ()
    """Custom objects that configure it, created once its chart is installed."""
    pod_security: str = "restricted"
    """The Pod Security level of a namespace the service creates: ``privileged`` for services that mount host
    paths or devices (device plugins), ``restricted`` otherwise."""
    after: tuple[str, ...] = ()
    """Services whose release must exist first (e.g. a CRD-installing chart before objects of its kinds)."""
    create_namespace: bool = True
    """Create ``namespace``; False for ``kube-system`` and other namespaces the cluster already has."""
