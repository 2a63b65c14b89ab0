"""Bad workload and existing-site specs are refused before anything runs, each with its field path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from plan_helpers import problems, stack_config

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


def test_pods_larger_than_any_node_of_a_managed_pool_are_refused() -> None:
    config = copy.deepcopy(stack_config("aws-dev"))
    config["workloads"][1]["resources"] = {"cpu_millicores": 64000, "memory_mib": 8192}
    assert "vCPUs" in problems(config)[f"{P}.workloads[1].resources.cpu_millicores"]
