"""What a workload holds at its largest: the figure namespace quotas and team quotas are checked against."""

from __future__ import annotations

from lepton_infra.blueprint.workloads import TrainingWorkloadSpec, WorkloadSpec

# Extra replicas a rolling update of an inference service adds (its maxSurge): they need room in every quota,
# or a rollout at max replicas waits forever for them (maxUnavailable is 0).
ROLLOUT_SURGE_REPLICAS = 1


def peak_pods(workload: WorkloadSpec) -> int:
    """Pods at once: every node of a job, or max replicas plus a rollout's surge."""
    if isinstance(workload, TrainingWorkloadSpec):
        return workload.nodes
    return workload.max_replicas + ROLLOUT_SURGE_REPLICAS


def peak_gpus(workload: WorkloadSpec) -> int:
    """GPUs at once: a job's must all be admitted together (Kueue admits a Job's pods as one workload)."""
    return peak_pods(workload) * workload.gpus_needed_per_node
