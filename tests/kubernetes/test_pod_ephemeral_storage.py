"""Every pod we emit asks the scheduler for the node disk its emptyDirs and logs take, on the right container.

The failure this guards: the inference servers' emptyDirs (the model the stager copies in, vLLM's compile
cache, /tmp) had a sizeLimit but no ``ephemeral-storage`` request, so a replica could land on a node whose
disk could not hold its model and be evicted under disk pressure, or at once when the emptyDir passed its
sizeLimit ("emptyDir volumes, except tmpfs emptyDir volumes" count as the pod's local ephemeral storage:
https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage;
https://kubernetes.io/docs/concepts/storage/ephemeral-storage/).

Which container carries it: the scheduler takes a pod's request as the higher of its app containers' sum
and its highest init container request (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/
#resource-sharing-within-containers), and the kubelet evicts a pod whose emptyDirs, logs and writable layers
pass "the total limit of containers" (substratusai/runbooks#246 shows the kubelet's message). So the main
container, which runs all along, carries every emptyDir of the pod, and the stager's own request (the
volumes it writes) is below it and adds nothing.

tmpfs (/dev/shm, ``medium: Memory``) is charged to memory instead ("files you write count against your
container's memory limit", https://kubernetes.io/docs/concepts/storage/volumes/#emptydir): it asks no disk,
and the pod's memory request is larger than it (``catalog.fit`` counts it there).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from manifest_helpers import Manifests, main_container, pod_spec
from plan_helpers import config_plan, problems, spec_issues, stack_config

from lepton_infra.catalog import pod_ephemeral_gib, scratch_room_gib
from lepton_infra.policies.operability.pods import mebibytes, pod_ephemeral_mib, pod_request

Obj = dict[str, Any]


def _disk_gib(spec: Obj) -> int:
    """What the pod's disk-backed emptyDirs may hold, in GiB, read from the manifest itself."""
    return sum(
        int(v["emptyDir"]["sizeLimit"].removesuffix("Gi"))
        for v in spec["volumes"]
        if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"
    )


def _gib(container: Obj) -> int:
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert requests["ephemeral-storage"] == limits["ephemeral-storage"]  # limited alike: Guaranteed disk
    return int(requests["ephemeral-storage"].removesuffix("Gi"))


def test_a_vllm_replica_asks_for_its_model_cache_and_tmp_on_its_main_container(byo: Manifests) -> None:
    deployment = byo.one("Deployment", "chat")
    spec = pod_spec(deployment)
    names = {
        v["name"] for v in spec["volumes"] if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"
    }
    assert {"model", "cache", "tmp"} <= names
    assert _gib(main_container(deployment)) == pod_ephemeral_gib(_disk_gib(spec))


def test_the_stager_asks_for_what_it_writes_and_adds_nothing_to_the_pod(byo: Manifests) -> None:
    deployment = byo.one("Deployment", "chat")
    spec = pod_spec(deployment)
    [stager] = spec["initContainers"]
    mounted = {m["name"] for m in stager["volumeMounts"]}
    written = _disk_gib({"volumes": [v for v in spec["volumes"] if v["name"] in mounted]})
    assert "model" in mounted and _gib(stager) == pod_ephemeral_gib(written)
    # The scheduler's view of the pod (init max vs app sum): exactly the main container's figure.
    assert _gib(stager) <= _gib(main_container(deployment))
    assert pod_ephemeral_mib(spec) == _gib(main_container(deployment)) * 1024


@pytest.mark.parametrize(("kind", "name"), [("Job", "pretrain"), ("Deployment", "serve")])
def test_every_pod_of_a_cloud_stack_asks_for_its_disk(aws_dev: Manifests, kind: str, name: str) -> None:
    obj = aws_dev.one(kind, name)
    spec = pod_spec(obj)
    assert _gib(main_container(obj)) == pod_ephemeral_gib(_disk_gib(spec))


@pytest.mark.parametrize(("kind", "name"), [("Job", "pretrain"), ("Deployment", "serve")])
def test_shared_memory_asks_no_disk_and_fits_in_the_pods_memory(
    aws_dev: Manifests, kind: str, name: str
) -> None:
    spec = pod_spec(aws_dev.one(kind, name))
    shm = [v for v in spec["volumes"] if v.get("emptyDir", {}).get("medium") == "Memory"]
    containers_memory = sum(mebibytes(c["resources"]["limits"]["memory"]) for c in spec["containers"])
    for volume in shm:
        # Written files are charged to the writer's memory: /dev/shm full must leave the process room.
        assert mebibytes(volume["emptyDir"]["sizeLimit"]) < containers_memory
    # The scheduler-side memory of the pod is never below its tmpfs (catalog.fit.PodRequest).
    assert pod_request(spec).memory_mib >= sum(mebibytes(v["emptyDir"]["sizeLimit"]) for v in shm)


STAGER = {
    "repository": "lepton/stage",
    "tag": "0.1.0",
    "digest": "sha256:73dc4b6aca775f0603559b5d01e9b826e19b36373344edb007a53a3c35eae082",
}


def _aws_dev_with_server(server: Obj, resources: Obj | None = None) -> tuple[Obj, int]:
    platform = copy.deepcopy(stack_config("aws-dev"))
    index, workload = next((i, w) for i, w in enumerate(platform["workloads"]) if w["kind"] == "inference")
    workload["server"] = server
    if resources is not None:
        workload["resources"] = resources
    return platform, index


def test_a_servers_shared_memory_as_large_as_its_memory_is_refused() -> None:
    """A full /dev/shm as large as the memory limit leaves the server nothing: it is OOM-killed."""
    staged = {"stager_image": STAGER, "shared_memory_mib": 16384}
    custom = {"kind": "custom", "command": ["serve"], "health_path": "/healthz", "staged_model": staged}
    platform, _ = _aws_dev_with_server(custom, {"cpu_millicores": 2000, "memory_mib": 16384})
    [(path, message)] = [i for i in spec_issues(platform) if "shm" in i[1]]
    assert path.endswith("server.staged_model.shared_memory_mib") and "16384 MiB" in message


def test_with_per_site_resources_the_platform_refuses_it_on_the_sites_size() -> None:
    server = {"kind": "vllm", "stager_image": STAGER, "shared_memory_mib": 1 << 20}
    platform, index = _aws_dev_with_server(server)
    found = problems(platform)
    message = found[f"lepton-infra:platform.workloads[{index}].server.shared_memory_mib"]
    assert "/dev/shm counts against the pod's memory" in message


@pytest.mark.parametrize("kind", ["vllm", "custom"])
def test_a_staged_model_larger_than_the_pools_disk_can_hold_is_refused(kind: str) -> None:
    """The replicas would be evicted while the model is staged; `validate` says so, naming the field."""
    staged = {"stager_image": STAGER, "model_disk_gib": 400}  # the pool's default disk_gib is 200
    server = (
        {"kind": "vllm", **staged}
        if kind == "vllm"
        else {"kind": "custom", "command": ["serve"], "health_path": "/healthz", "staged_model": staged}
    )
    platform, index = _aws_dev_with_server(server)
    field = "server" if kind == "vllm" else "server.staged_model"
    message = problems(platform)[f"lepton-infra:platform.workloads[{index}].{field}.model_disk_gib"]
    assert f"({scratch_room_gib(200)} GiB" in message and "pool 'l4'" in message
    # The remedy it names works.
    platform["sites"][0]["gpu_pools"][0]["disk_gib"] = int(message.rsplit(" ", 1)[1])
    config_plan(platform)
