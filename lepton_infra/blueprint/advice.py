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
    return [*_multi_node_training_over_tcp(spec), *_infiniband_needs_node_memlock(spec)]


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


def _infiniband_needs_node_memlock(spec: PlatformSpec) -> list[Advice]:
    """An InfiniBand pool works only once its nodes' containerd lets containers lock memory.

    NCCL pins its buffers for InfiniBand verbs against the container's RLIMIT_MEMLOCK, which containerd
    passes on from its systemd unit (``LimitMEMLOCK``; kubesphere/kubekey#2609). Kubernetes has no ulimit
    field (kubernetes/kubernetes#3595), and ``IPC_LOCK`` is refused by Pod Security "restricted" and never
    effective for a non-root container (kubernetes/kubernetes#56374, NVIDIA/nvidia-container-toolkit#2037).
    AKS's custom node configuration (linuxOSConfig: sysctls, transparent huge pages, swap) cannot set it.
    """
    found: list[Advice] = []
    for i, site in enumerate(spec.sites):
        if not isinstance(site, ManagedSiteSpec):
            continue
        for j, pool in enumerate(site.gpu_pools):
            if pool.fabric != "infiniband":
                continue
            found.append(
                (
                    f"sites[{i}].gpu_pools[{j}].infiniband",
                    f"pool {pool.name!r} of site {site.name!r}: NCCL over InfiniBand needs an unlimited "
                    "locked-memory limit, which pods cannot raise (Pod Security restricted, non-root) and "
                    "AKS has no setting for; until containerd on the pool's nodes runs with "
                    "LimitMEMLOCK=infinity, multi-node jobs there fail or fall back to TCP (README: "
                    "'Deploying to Azure', InfiniBand; `ulimit -l` in a pod must print unlimited)",
                )
            )
    return found
