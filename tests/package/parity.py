"""What a component registers beneath it, comparable between a gRPC Construct and a Python program."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.catalog import Cloud, find_offering, node_room
from lepton_infra.components.handle import (
    ClusterAddons,
    ClusterHandle,
    NodePlacement,
    ServiceAccountBinding,
)
from lepton_infra.plan.engine import record
from lepton_infra.plan.model import PlanResource

Child = tuple[str, str, bool, str]


def _chain(resource: PlanResource) -> str:
    return resource.urn.split("::")[2]


def children(resources: Sequence[PlanResource], component_type: str) -> list[Child]:
    """Every resource under the one component of ``component_type``: its type chain below that component, its
    name, whether it is protected, and its inputs and options (as sorted text, to compare whole)."""
    (root,) = [r for r in resources if r.type == component_type]
    prefix = _chain(root) + "$"
    return sorted(
        (
            _chain(r).removeprefix(prefix),
            r.name,
            r.protect,
            # URNs in options (an alias's parent) hold the chain above the component too: the package's own
            # component over gRPC, nothing in a Python program.
            json.dumps({**r.inputs, **r.options}, sort_keys=True, default=str).replace(
                f"::{prefix}", "::<component>$"
            ),
        )
        for r in resources
        if _chain(r).startswith(prefix)
    )


def python_children(program: Callable[[], Any], component_type: str) -> list[Child]:
    """What ``program``, a Python program importing our components, registers under ``component_type``."""
    return children(record(program, project="consumer", stack="dev").resources, component_type)


def aws_h100_handle(
    name: str,
    site: str,
    *,
    kubeconfig: str,
    registry: str,
    bucket: str,
    binding: ServiceAccountBinding | None = None,
    addons: ClusterAddons | None = None,
) -> ClusterHandle:
    """The handle a Python program gives our Kubernetes components for an EKS cluster with one p5.48xlarge
    pool: what a package component builds from its kubeconfig and cluster facts (``<name>-k8s`` provider)."""
    p5 = find_offering(Cloud.AWS, "p5.48xlarge")
    assert p5 is not None
    return ClusterHandle(
        site=site,
        provider=k8s.Provider(f"{name}-k8s", kubeconfig=pulumi.Output.secret(kubeconfig)),
        kubeconfig=pulumi.Output.secret(kubeconfig),
        registry=pulumi.Output.from_input(registry),
        artifact_bucket_uri=pulumi.Output.from_input(bucket),
        bind_service_account=lambda ns, sa: binding or ServiceAccountBinding(),
        gpu_pools=(NodePlacement.for_gpu_pool("h100", "H100", 8, room=node_room(Cloud.AWS, p5)),),
        addons=addons or ClusterAddons(),
    )
