"""Advice: what a valid spec will run, but not as its author likely expects. Never stops a plan.

Validation errors (``platform.py``) are for what cannot work; advice is for what works badly, such as a
multi-node training job whose gradients cross a plain TCP network. ``lepton-infra plan`` and ``validate``
print each as a warning with its line, and the Pulumi program logs it (``pulumi preview`` shows it).
"""

from __future__ import annotations

from lepton_infra.blueprint.platform import PlatformSpec, gpus_per_node
from lepton_infra.blueprint.site_base import GpuPoolSpec, ManagedSiteSpec
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec
from lepton_infra.catalog import Cloud

Advice = tuple[str, str]  # (field path in the platform spec, sentence)


def advice(spec: PlatformSpec) -> list[Advice]:
    """Every piece of advice on ``spec``, each with the field it is about."""
    return [*_multi_node_training_over_tcp(spec)]


def _pool_of(cloud: Cloud, site: ManagedSiteSpec, workload: TrainingWorkloadSpec) -> GpuPoolSpec | None:
    # The pool a site's handle places the job on: the first of its accelerator with room for its pods.
    for pool in site.gpu_pools:
        gpus = gpus_per_node(cloud, site.region, pool)
        if pool.accelerator == workload.accelerator and (gpus or 0) >= workload.gpus_per_node:
            return pool
    return None


def _multi_node_training_over_tcp(spec: PlatformSpec) -> list[Advice]:
    found: list[Advice] = []
    for i, workload in enumerate(spec.workloads):
        if not isinstance(workload, TrainingWorkloadSpec) or workload.nodes < 2:
            continue
        for site_name in workload.sites:
            site = spec.site(site_name)
            if not isinstance(site, ManagedSiteSpec):
                continue  # an existing cluster's network is not ours to know
            pool = _pool_of(Cloud(site.cloud), site, workload)
            if pool is None or pool.fabric is not None:
                continue
            found.append(
                (
                    f"workloads[{i}].nodes",
                    f"{workload.nodes} nodes of {workload.name!r} exchange gradients over TCP on site "
                    f"{site_name!r}: its pool {pool.name!r} has no fabric for NCCL; {pool.fabric_hint}",
                )
            )
    return found
