"""Every workload pod of every example stack is hardened the same way, on every site."""

from __future__ import annotations

import re

import pytest
from manifest_helpers import Manifests, Obj, main_container, pod_spec
from plan_helpers import KUBERNETES_STACKS, stack_plan

DIGEST = re.compile(r"@sha256:[a-f0-9]{64}$")


def workload_pods(stack: str) -> list[Obj]:
    manifests = Manifests(stack_plan(stack))
    return manifests.all("Deployment") + manifests.all("Job")


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_containers_are_non_root_read_only_and_without_capabilities(stack: str) -> None:
    for workload in workload_pods(stack):
        pod = pod_spec(workload)
        # Init containers (the vLLM model stager) are held to the same profile as the main one.
        for container in [*pod.get("initContainers", []), main_container(workload)]:
            assert {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            }.items() <= container["securityContext"].items()
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_tmp_is_a_writable_empty_dir_since_the_root_is_read_only(stack: str) -> None:
    for workload in workload_pods(stack):
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in main_container(workload)["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_images_are_pinned_by_digest_and_come_from_the_sites_registry(stack: str) -> None:
    for workload in workload_pods(stack):
        for container in [*pod_spec(workload).get("initContainers", []), main_container(workload)]:
            image = container["image"]
            assert DIGEST.search(image), image
            assert image.split("/", 1)[0] != "docker.io"


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_cpu_and_memory_requests_equal_limits(stack: str) -> None:
    for workload in workload_pods(stack):
        resources = main_container(workload)["resources"]
        assert resources["requests"] == resources["limits"]
        assert {"cpu", "memory", "nvidia.com/gpu"} <= set(resources["limits"])


def test_the_existing_sites_registry_prefixes_the_image() -> None:
    deployment = Manifests(stack_plan("existing-cluster")).one("Deployment", "serve")
    assert main_container(deployment)["image"].startswith(
        "210987654321.dkr.ecr.eu-central-1.amazonaws.com/lepton/serve:0.1.0@sha256:"
    )
