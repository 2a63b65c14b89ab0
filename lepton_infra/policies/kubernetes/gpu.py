"""GPU workloads: whole GPUs that fit a node, pods that land on GPU nodes, and batch jobs that end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.workloads import (
    BATCH_TYPES,
    CRON_JOB,
    WORKLOAD_TYPES,
    containers,
    gpu_count,
    pod_gpus,
    pod_spec,
)
from lepton_infra.policies.props import as_list, get
from lepton_infra.policies.rule import Subject, resource_policy

GPU_RESOURCE = "nvidia.com/gpu"
# Node labels that pin a pod to GPU nodes: ours, NVIDIA's GPU feature discovery, and each cloud's pool label.
GPU_NODE_LABELS = frozenset(
    {
        "lepton.ai/accelerator",
        "lepton.ai/pool",
        "nvidia.com/gpu.present",
        "nvidia.com/gpu.product",
        "node.kubernetes.io/instance-type",
        "eks.amazonaws.com/nodegroup",
        "karpenter.k8s.aws/instance-gpu-name",
        "kubernetes.azure.com/agentpool",
        "alibabacloud.com/nodepool-id",
        "aliyun.accelerator/nvidia_name",
    }
)


@resource_policy(
    name="kubernetes-gpu-requests-equal-limits",
    types=WORKLOAD_TYPES,
    severity="medium",
    description=(
        "A container's nvidia.com/gpu limit must be set and equal its request; GPUs are not overcommitted."
    ),
    remediation=(
        "Set `resources.limits.nvidia.com/gpu` to the number of GPUs and either omit the request or "
        "make it equal."
    ),
)
def gpu_requests_equal_limits(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        requested, limited = gpu_count(container, "requests"), gpu_count(container, "limits")
        if requested and requested != limited:
            yield f"{label} requests {requested:g} GPU(s) but limits {limited:g}"
        if limited and limited != int(limited):
            yield f"{label} asks for a fraction of a GPU ({limited:g})"


@resource_policy(
    name="kubernetes-gpu-within-node-capacity",
    types=WORKLOAD_TYPES,
    severity="medium",
    description="A pod must not ask for more GPUs than one node has, or it stays Pending forever.",
    remediation=(
        "Lower the pod's nvidia.com/gpu to the node's GPU count (8 on the largest hosts) and scale "
        "out with more pods."
    ),
    config=("maxGpusPerNode",),
)
def gpu_within_node_capacity(r: Subject) -> Iterator[str]:
    gpus = pod_gpus(pod_spec(r.type, r.props))
    if gpus > r.settings.max_gpus_per_node:
        yield f"pod asks for {gpus:g} GPUs; nodes have at most {r.settings.max_gpus_per_node}"


def _tolerates_gpu_taint(spec: Mapping[str, Any]) -> bool:
    for toleration in as_list(get(spec, "tolerations")):
        key, operator = get(toleration, "key"), get(toleration, "operator", default="Equal")
        if (key == GPU_RESOURCE or (key is None and operator == "Exists")) and get(toleration, "effect") in (
            None,
            "",
            "NoSchedule",
        ):
            return True
    return False


def _selects_gpu_nodes(spec: Mapping[str, Any]) -> bool:
    if GPU_NODE_LABELS & set(dict(get(spec, "nodeSelector", default={}))):
        return True
    terms = get(
        spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    return any(
        get(expression, "key") in GPU_NODE_LABELS
        for term in as_list(terms)
        for expression in as_list(get(term, "matchExpressions"))
    )


@resource_policy(
    name="kubernetes-gpu-pod-scheduling",
    types=WORKLOAD_TYPES,
    severity="medium",
    description="GPU pods must tolerate the nvidia.com/gpu taint and select GPU nodes by label.",
    remediation=(
        "Add a toleration `{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}` and a "
        "nodeSelector on the pool's accelerator label."
    ),
)
def gpu_pod_scheduling(r: Subject) -> Iterator[str]:
    spec = pod_spec(r.type, r.props)
    if not pod_gpus(spec):
        return
    if not _tolerates_gpu_taint(spec):
        yield "GPU pod does not tolerate the nvidia.com/gpu taint"
    if not _selects_gpu_nodes(spec):
        yield "GPU pod does not select GPU nodes (nodeSelector or required node affinity)"


@resource_policy(
    name="kubernetes-job-backoff-and-deadline",
    types=BATCH_TYPES,
    severity="medium",
    description="Jobs must bound their retries (backoffLimit) and their run time (activeDeadlineSeconds).",
    remediation=(
        "Set `spec.backoffLimit` and `spec.activeDeadlineSeconds` on the Job (for a CronJob, in "
        "`jobTemplate.spec`)."
    ),
)
def job_backoff_and_deadline(r: Subject) -> Iterator[str]:
    job_spec = get(r.props, "spec", "jobTemplate", "spec") if r.type == CRON_JOB else get(r.props, "spec")
    for field in ("backoffLimit", "activeDeadlineSeconds"):
        if get(job_spec, field) is None:
            yield f"Job sets no {field}"


POLICIES = (gpu_requests_equal_limits, gpu_within_node_capacity, gpu_pod_scheduling, job_backoff_and_deadline)
