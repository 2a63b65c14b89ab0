"""ClusterFacts and ClusterHandle: everything the Kubernetes layer needs from a site, nothing cloud-specific.

A cloud module builds its site and states its facts; the platform turns them into a handle (a Kubernetes
provider and a service-account binder on top), in memory or from another stack's outputs. Kubernetes
components take the handle and never ask which cloud is behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.catalog import Resources
from lepton_infra.components.gpu_nodes import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    gpu_node_labels,
)
from lepton_infra.components.services import ClusterService


@dataclass(frozen=True)
class Toleration:
    """A taint a pod tolerates, as a pod spec writes it."""

    key: str
    """The taint's key, e.g. ``nvidia.com/gpu``."""
    operator: str
    """``Equal`` (the taint's value must be ``value``) or ``Exists`` (any value)."""
    effect: str
    """The taint effect tolerated: ``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute``."""
    value: str | None = None
    """The taint's value, with ``Equal``; None with ``Exists``."""

    def to_values(self) -> dict[str, str]:
        """As a pod spec or Helm values write it (no value for ``Exists``)."""
        values = {"key": self.key, "operator": self.operator, "effect": self.effect}
        return values if self.value is None else {**values, "value": self.value}

    def to_kubernetes(self) -> k8s.core.v1.TolerationArgs:
        return k8s.core.v1.TolerationArgs(
            key=self.key, operator=self.operator, value=self.value, effect=self.effect
        )


GPU_TOLERATION = Toleration(
    key=GPU_TAINT_KEY, operator="Equal", value=GPU_TAINT_VALUE, effect=GPU_TAINT_EFFECT
)


@dataclass(frozen=True)
class Fabric:
    """A pool's multi-node network (EFA on AWS, InfiniBand on Azure): what a pod asks for to use it."""

    name: str
    """The fabric's name, e.g. ``efa`` or ``infiniband``."""
    resources: Mapping[str, int] = field(default_factory=dict)
    """Extended resources one pod that takes a whole node requests, e.g. ``{"vpc.amazonaws.com/efa": 32}``."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment NCCL and its transport need on this fabric (``FI_PROVIDER=efa`` ...)."""


@dataclass(frozen=True)
class NodePlacement:
    """How a pod lands on one GPU pool: the pool's labels to select and its taints to tolerate."""

    pool: str
    """The pool's name, as its nodes' pool label carries it."""
    accelerator: str
    """The GPU model of the pool's nodes, as the catalog names it (``H100``, ``L4`` ...): what a workload's
    ``accelerator`` is matched against."""
    gpus_per_node: int
    """GPUs on each node of the pool."""
    node_selector: Mapping[str, str]
    """Labels a pod selects to land on the pool's nodes."""
    tolerations: tuple[Toleration, ...] = (GPU_TOLERATION,)
    """Taints of the pool a pod must tolerate: the GPU taint, and any the cloud adds (AKS spot nodes)."""
    fabric: Fabric | None = None
    """The pool's fabric for multi-node training, or None where pods talk over the pod network (TCP)."""
    room: Resources | None = None
    """What one node has for workload pods (allocatable less the DaemonSets on it, ``catalog.node_room``):
    pods the spec does not size get their per-GPU share of it. None where the node's size is not known, and
    workloads on the pool must then state their ``resources``."""

    @classmethod
    def for_gpu_pool(
        cls,
        pool: str,
        accelerator: str,
        gpus_per_node: int,
        *extra_tolerations: Toleration,
        room: Resources | None = None,
    ) -> NodePlacement:
        """A pool the site labelled and tainted the standard way (``gpu_nodes``)."""
        return cls(
            pool=pool,
            accelerator=accelerator,
            gpus_per_node=gpus_per_node,
            node_selector=gpu_node_labels(pool, accelerator),
            tolerations=(GPU_TOLERATION, *extra_tolerations),
            room=room,
        )


@dataclass(frozen=True)
class ServiceAccountBinding:
    """Metadata that binds a Kubernetes ServiceAccount to a cloud identity (IRSA, Entra, RRSA)."""

    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations on the ServiceAccount, e.g. IRSA's ``eks.amazonaws.com/role-arn``."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the ServiceAccount."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels some clouds need on the pod itself (Azure workload identity's
    ``azure.workload.identity/use``)."""


class ServiceAccountBinder(Protocol):
    def __call__(self, namespace: str, service_account: str) -> ServiceAccountBinding:
        """Create (once) the cloud identity for ``namespace/service_account`` and say how to bind it."""
        ...


class GpuStack(StrEnum):
    """Who provides the NVIDIA driver, container toolkit, device plugin and DCGM exporter on GPU nodes."""

    OPERATOR_WITH_DRIVER = "operator-with-driver"
    """Bare nodes (on-prem): the GPU Operator installs the driver and toolkit as containers too."""
    OPERATOR = "operator"
    """The node image brings driver and toolkit (EKS accelerated AMIs, AKS GPU images); the operator the
    rest."""
    PREINSTALLED = "preinstalled"
    """The cluster already runs a GPU stack (ACK's managed one, someone else's operator): install nothing."""


@dataclass(frozen=True)
class ClusterAddons:
    """What the cluster offers beyond plain Kubernetes, so the Kubernetes layer never asks for the cloud."""

    gpu_stack: GpuStack = GpuStack.OPERATOR
    """Who provides the GPU driver, toolkit, device plugin and DCGM exporter on GPU nodes."""
    prometheus_operator: bool = False
    """Whether the Prometheus Operator's CRDs are installed: ServiceMonitors and PrometheusRules are made only
    then."""
    monitoring_namespace: str = "monitoring"
    """Namespace Prometheus scrapes from: network policies let it reach the workloads' metrics ports."""
    prometheus_url: str | None = None
    """The site's Prometheus, where it has one the platform did not install (the metrics adapter reads it)."""
    gpu_operator_values: Mapping[str, Any] = field(default_factory=dict)
    """The site's own GPU Operator chart values (its node image's runtime class, CDI ...), merged over the
    values every site gets; tolerations need none: the runtime tolerates every GPU pool's taints itself."""
    services: tuple[ClusterService, ...] = ()
    """Engines the site's cluster needs beyond the GPU runtime (autoscaler, device plugins ...), installed by
    the Kubernetes layer in order (``kubernetes/cluster_services.py``)."""


@dataclass(frozen=True)
class ApiEndpoint:
    """How a cluster's API endpoint is exposed: private to its network, or public to ``allowlist`` only."""

    public: bool
    """Whether the endpoint is reachable from the internet at all."""
    allowlist: tuple[str, ...] = ()
    """CIDRs the public endpoint admits; empty when private."""


@dataclass(frozen=True, kw_only=True)
class ClusterFacts:
    """What the Kubernetes layer needs to know of a site, as data: no live object, only values.

    A site builder states them (with outputs of the resources it made); ``layer: all`` hands them on in
    memory, a cloud layer exports them as stack outputs and a Kubernetes layer reads them back through a
    stack reference (``components/facts.py``). Workload identities are cloud resources, made by the cloud
    layer beforehand: ``service_accounts`` holds how each workload's ServiceAccount is bound to one.
    """

    site: str
    """The site's name, unique in the platform."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the cluster (a secret, exported on its own as one); the exec plugin it names fetches
    short-lived tokens."""
    registry: pulumi.Output[str]
    """Where the site's images are pulled from: a registry host, e.g.
    ``<account>.dkr.ecr.<region>.amazonaws.com``. A workload's image is
    ``<registry>/<repository>[:tag][@digest]``."""
    artifact_bucket_uri: pulumi.Output[str]
    """The artifact bucket as fsspec addresses it (``s3://``, ``az://``, ``oss://``): bucket checkpoints go
    under it."""
    gpu_pools: tuple[NodePlacement, ...] = ()
    """How pods land on each of the site's GPU pools."""
    addons: ClusterAddons = field(default_factory=ClusterAddons)
    """What the cluster offers beyond plain Kubernetes."""
    artifact_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """What a pod needs, besides its bound identity, to reach the artifact bucket through fsspec: the storage
    account of an ``az://`` URI, the endpoint of an S3-compatible store ... Set on every container given a
    bucket location (``kubernetes/checkpoints.py``)."""
    kubeconfig_context: str | None = None
    """The kubeconfig context to use (an existing cluster's file may hold several); None: its current one."""
    service_accounts: Mapping[str, ServiceAccountBinding] = field(default_factory=dict)
    """``<namespace>/<name>`` of each workload ServiceAccount, and how it is bound to its cloud identity."""
    api_endpoint: ApiEndpoint | None = None
    """How the cluster's API endpoint is exposed; None where the platform did not build the cluster (an
    existing one)."""

    def placement(self, accelerator: str, gpus_per_pod: int = 1) -> NodePlacement:
        """The first pool of ``accelerator`` whose nodes hold ``gpus_per_pod`` GPUs."""
        for pool in self.gpu_pools:
            if pool.accelerator == accelerator and pool.gpus_per_node >= gpus_per_pod:
                return pool
        raise ValueError(
            f"site {self.site!r} has no {accelerator} pool with {gpus_per_pod} GPUs per node; "
            f"pools: {', '.join(f'{p.pool} ({p.accelerator} x{p.gpus_per_node})' for p in self.gpu_pools)}"
        )


def service_account_key(namespace: str, service_account: str) -> str:
    """The key of ``namespace/service_account`` in :attr:`ClusterFacts.service_accounts`."""
    return f"{namespace}/{service_account}"


@dataclass(frozen=True, kw_only=True)
class ClusterHandle(ClusterFacts):
    """A site's facts and the live objects the Kubernetes layer deploys through: its Kubernetes provider,
    and the binder that hands each workload ServiceAccount its cloud identity."""

    provider: k8s.Provider
    """The Kubernetes provider every object of the Kubernetes layer is created through."""
    bind_service_account: ServiceAccountBinder
    """Called with ``(namespace, service account)``: says how that ServiceAccount is bound to its cloud
    identity (annotations, labels, pod labels), creating the identity once where the site makes them."""
    parent: pulumi.Resource | None = None
    """The component the site's Kubernetes provider hangs under."""
