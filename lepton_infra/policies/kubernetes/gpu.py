"""GPU workloads: whole GPUs that fit a node, pods that land on GPU nodes, and batch jobs that end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import kind_of, may_carry_pods, pods
from lepton_infra.policies.kubernetes.workloads import gpu_count, pod_gpus
from lepton_infra.policies.rule import Outcome, Subject, Undecided, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_unknown, number, read

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
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description=(
        "A container's nvidia.com/gpu limit must be set and equal its request; GPUs are not overcommitted."
    ),
    remediation=(
        "Set `resources.limits.nvidia.com/gpu` to the number of GPUs and either omit the request or "
        "make it equal."
    ),
)
def gpu_requests_equal_limits(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        for label, container in pod.containers():
            requested, limited = gpu_count(container, "requests"), gpu_count(container, "limits")
            if requested and requested != limited:
                yield f"{label} requests {number(requested)} GPU(s) but limits {number(limited)}"
            if limited and limited != int(limited):
                yield f"{label} asks for a fraction of a GPU ({number(limited)})"


@resource_policy(
    name="kubernetes-gpu-within-node-capacity",
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description="A pod must not ask for more GPUs than one node has, or it stays Pending forever.",
    remediation=(
        "Lower the pod's nvidia.com/gpu to the node's GPU count (8 on the largest hosts) and scale "
        "out with more pods."
    ),
    config=("maxGpusPerNode",),
)
def gpu_within_node_capacity(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        gpus = pod_gpus(pod.spec)
        if gpus > settings.max_gpus_per_node:
            limit = settings.max_gpus_per_node
            yield pod.label(f"pod asks for {number(gpus)} GPUs; nodes have at most {limit}")


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
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description="GPU pods must tolerate the nvidia.com/gpu taint and select GPU nodes by label.",
    remediation=(
        "Add a toleration `{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}` and a "
        "nodeSelector on the pool's accelerator label."
    ),
)
def gpu_pod_scheduling(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        if not pod_gpus(pod.spec) or pod.partial:
            continue
        if not _tolerates_gpu_taint(pod.spec):
            yield pod.label("GPU pod does not tolerate the nvidia.com/gpu taint")
        if not _selects_gpu_nodes(pod.spec):
            yield pod.label("GPU pod does not select GPU nodes (nodeSelector or required node affinity)")


@resource_policy(
    name="kubernetes-job-backoff-and-deadline",
    types=lambda t: (k := kind_of(t)) is not None and k.builtin and k.kind in ("Job", "CronJob"),
    unknowns="values",
    severity="medium",
    description="Jobs must bound their retries (backoffLimit) and their run time (activeDeadlineSeconds).",
    remediation=(
        "Set `spec.backoffLimit` and `spec.activeDeadlineSeconds` on the Job (for a CronJob, in "
        "`jobTemplate.spec`)."
    ),
)
def job_backoff_and_deadline(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    kind = kind_of(r.type)
    if kind is None or kind.patch:
        return
    cron = kind.kind == "CronJob"
    job_spec = read(r.props, "spec", "jobTemplate", "spec") if cron else read(r.props, "spec")
    if is_unknown(job_spec):
        yield Undecided("the Job's spec can't be read from the plan (unknown or secret)")
        return
    for field in ("backoffLimit", "activeDeadlineSeconds"):
        if get(job_spec, field) is None:
            yield f"Job sets no {field}"


POLICIES = (gpu_requests_equal_limits, gpu_within_node_capacity, gpu_pod_scheduling, job_backoff_and_deadline)
