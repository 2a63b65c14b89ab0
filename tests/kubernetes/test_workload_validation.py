"""Bad workload and existing-site specs are refused before anything runs, each with its field path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from plan_helpers import problems, stack_config, without_teams

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec

Config = dict[str, Any]


def base() -> Config:
    return copy.deepcopy(stack_config("existing-cluster"))


def serve(config: Config) -> Config:
    workload: Config = config["workloads"][1]
    return workload


def train(config: Config) -> Config:
    workload: Config = config["workloads"][0]
    return workload


P = "lepton-infra:platform"
CASES: list[tuple[str, Callable[[Config], None], str, str]] = [
    (
        "more GPUs per pod than a node of the pool has",
        lambda c: serve(c).update(gpus_per_replica=8),
        f"{P}.workloads[1].gpus_per_replica",
        "at most 4",
    ),
    (
        "an accelerator no targeted site offers",
        lambda c: train(c).update(accelerator="A100-80GB"),
        f"{P}.workloads[0].accelerator",
        "no GPU pool of A100-80GB",
    ),
    (
        "more replicas at least than at most",
        lambda c: serve(c).update(min_replicas=9),
        f"{P}.workloads[1].min_replicas",
        "must not exceed max_replicas (8)",
    ),
    (
        "an image by tag only without the opt-out",
        lambda c: serve(c)["image"].pop("digest"),
        f"{P}.workloads[1].image.digest",
        "pin the image by `digest",
    ),
    (
        "a malformed digest",
        lambda c: serve(c)["image"].update(digest="sha256:abc"),
        f"{P}.workloads[1].image.digest",
        "should match pattern",
    ),
    (
        "shared memory as large as the pod's memory",
        lambda c: train(c).update(shared_memory_mib=1048576),
        f"{P}.workloads[0].shared_memory_mib",
        "must be smaller",
    ),
    (
        "the preempted exit code among those that fail the job",
        lambda c: train(c).update(fail_fast_exit_codes=[1, 75]),
        f"{P}.workloads[0].fail_fast_exit_codes",
        "75 is the trainer's exit status after a preemption checkpoint",
    ),
    (
        "a server that would create an empty model claim",
        lambda c: serve(c)["checkpoint"].update(size_gib=10, storage_class="cephfs"),
        f"{P}.workloads[1].checkpoint.size_gib",
        "reads an existing claim",
    ),
    (
        "a claim to create without a storage class",
        lambda c: train(c)["checkpoint"].pop("storage_class"),
        f"{P}.workloads[0].checkpoint.storage_class",
        "together",
    ),
    (
        "bucket checkpoints on a cluster without a bucket",
        lambda c: train(c).update(checkpoint={"kind": "bucket"}),
        f"{P}.workloads[0].checkpoint",
        "no artifact_bucket_uri",
    ),
    (
        "a kubeconfig from a file and from secret config at once",
        lambda c: c["sites"][0]["kubeconfig"].update(secret_config_key="kc"),
        f"{P}.sites[0].kubeconfig",
        "exactly one of",
    ),
    (
        "an unsupported Kubernetes version",
        lambda c: c["sites"][0].update(kubernetes_version="1.29"),
        f"{P}.sites[0].kubernetes_version",
        "not supported",
    ),
    (
        "a pool without node labels to select",
        lambda c: c["sites"][0]["gpu_pools"][0].update(node_labels={}),
        f"{P}.sites[0].gpu_pools[0].node_labels",
        "at least 1",
    ),
    (
        "pods of a cluster the catalog does not know, with no size",
        lambda c: train(c).pop("resources"),
        f"{P}.workloads[0].resources",
        "set resources",
    ),
    (
        "a misspelled key in the autoscaling choice",
        lambda c: serve(c)["autoscaling"].update(metric="x"),
        f"{P}.workloads[1].autoscaling.metric",
        "unknown key",
    ),
]


@pytest.mark.parametrize(("case", "change", "path", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_spec_is_refused_at_its_field(
    case: str, change: Callable[[Config], None], path: str, message: str
) -> None:
    config = base()
    change(config)
    found = problems(config)
    assert path in found, f"{case}: {found}"
    assert message in found[path]


def test_pools_of_an_existing_cluster_are_not_checked_against_a_cloud_catalog() -> None:
    config = base()
    # No cloud sells a 16-GPU L40S node; an on-prem chassis may still have one.
    config["sites"][0]["gpu_pools"][1].update(gpus_per_node=16)
    serve(config).update(gpus_per_replica=16)
    config["teams"][0]["quotas"][1]["gpus"] = 9 * 16  # its team's quota grows with it
    spec = PlatformSpec.model_validate(config)
    site = spec.sites[0]
    assert isinstance(site, ExistingSiteSpec)
    assert site.gpu_pools[1].gpus_per_node == 16


def aws_dev() -> Config:
    return copy.deepcopy(stack_config("aws-dev"))


def test_pods_larger_than_any_node_of_a_managed_pool_are_refused() -> None:
    config = aws_dev()
    config["workloads"][1]["resources"] = {"cpu_millicores": 64000, "memory_mib": 8192}
    assert "64000m CPU" in problems(config)[f"{P}.workloads[1].resources.cpu_millicores"]


def test_aws_devs_old_trainer_is_refused_with_the_node_its_allocatable_and_the_fix() -> None:
    # Issue 12 item 5: 4 CPU / 16 GiB on a g6.xlarge (4 vCPU / 16 GiB) was accepted against the node's
    # capacity; its allocatable is 3920m / 13.8 GiB (nodeadm's reservations, Karpenter's published figure).
    config = aws_dev()
    config["workloads"][0]["resources"] = {"cpu_millicores": 4000, "memory_mib": 16384}
    found = problems(config)
    cpu = found[f"{P}.workloads[0].resources.cpu_millicores"]
    memory = found[f"{P}.workloads[0].resources.memory_mib"]
    for message in (cpu, memory):
        assert message.startswith("pretrain: ")
        assert "g6.xlarge node of site 'aws-usw2'" in message
        assert "would stay Pending" in message
        assert "leave `resources` out" in message and "pool 'l4' a larger instance_type" in message
    assert "4000m CPU is more than a g6.xlarge node of site 'aws-usw2' has for pods (3755m);" in cpu
    assert "allocatable 3920m less 165m of DaemonSets" in cpu
    assert "at most 3755m" in cpu
    assert "16.0 GiB memory is more than a g6.xlarge node" in memory and "has for pods (13.7 GiB)" in memory
    assert "allocatable 13.8 GiB less 84 MiB of DaemonSets" in memory


def test_dev_shm_counts_in_the_memory_a_pod_needs_of_its_node() -> None:
    config = aws_dev()
    # 13 GiB of memory fits a g6.xlarge, 13 GiB plus 2 GiB of /dev/shm beside it would not: shm must be part
    # of the memory, and is refused when it is not smaller.
    config["workloads"][0].update(
        resources={"cpu_millicores": 3000, "memory_mib": 13 * 1024}, shared_memory_mib=13 * 1024
    )
    assert "must be smaller" in problems(config)[f"{P}.workloads[0].shared_memory_mib"]


def test_shared_memory_is_checked_against_each_sites_default_size() -> None:
    config = aws_dev()
    config["workloads"][0]["shared_memory_mib"] = 16 * 1024  # the default pod on a g6.xlarge has 13 GiB
    assert "(13312 MiB) and must be smaller" in problems(config)[f"{P}.workloads[0].shared_memory_mib"]


def test_a_pod_is_judged_on_the_pool_it_lands_on_not_the_roomiest() -> None:
    # Pods select the first pool of their accelerator whose nodes hold their GPUs (ClusterHandle.placement):
    # a larger pool listed after it does not make them fit.
    # Without teams: the team quota rules would judge the reversed pools too.
    config = without_teams(aws_dev())
    pools = config["sites"][0]["gpu_pools"]
    pools.append({"name": "l4-big", "accelerator": "L4", "instance_type": "g6.4xlarge", "max_nodes": 2})
    config["workloads"][1]["resources"] = {"cpu_millicores": 8000, "memory_mib": 8192}
    assert "g6.xlarge node" in problems(config)[f"{P}.workloads[1].resources.cpu_millicores"]
    pools.reverse()
    PlatformSpec.model_validate(config)
