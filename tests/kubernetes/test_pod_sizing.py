"""Pods the spec does not size get their share of the node their pool makes (issue 12 item 10).

An 8 x H100 trainer used to get 4 CPUs and 16 GiB of a p5.48xlarge (192 vCPUs, 2 TiB) by default, and the
same default did not even fit a g6.xlarge (item 5). Now a pod's default is its GPUs' share of what the
node has for pods: the cloud's allocatable less the DaemonSets on a GPU node (``catalog.node_room``).
"""

from __future__ import annotations

from typing import Any

import pytest
from manifest_helpers import Manifests, main_container, pod_spec
from plan_helpers import config_plan, stack_config, stack_plan, whole_config, whole_plan

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.platform import placement_pool
from lepton_infra.catalog import Cloud, Resources, find_offering, fits, node_room
from lepton_infra.catalog.daemonsets import CHART_DAEMONS, GPU_NODE_CHARTS, chart_name
from lepton_infra.components.gpu_nodes import GPU_RESOURCE

STACKS = ["aws-dev", "aws-prod", "azure-prod", "alicloud-prod", "multicloud", "existing-cluster"]


def _mebibytes(quantity: str) -> int:
    assert quantity.endswith("Mi"), quantity
    return int(quantity[:-2])


def _millicores(quantity: str) -> int:
    assert quantity.endswith("m"), quantity
    return int(quantity[:-1])


def _pod(obj: dict[str, Any]) -> Resources:
    requests = main_container(obj)["resources"]["requests"]
    return Resources(
        int(requests[GPU_RESOURCE]), _millicores(requests["cpu"]), _mebibytes(requests["memory"])
    )


def test_an_eight_gpu_trainer_gets_most_of_its_p5_48xlarge() -> None:
    job = Manifests(whole_plan("aws-prod")).one("Job", "pretrain")
    pod = _pod(job)
    p5 = find_offering(Cloud.AWS, "p5.48xlarge")
    assert p5 is not None
    assert pod.gpus == 8
    assert pod.cpu_millicores >= 0.99 * p5.vcpus * 1000  # was 4000m
    assert pod.memory_mib >= 0.9 * p5.memory_gib * 1024  # was 16 GiB
    assert fits(pod, node_room(Cloud.AWS, p5)) == []
    resources = main_container(job)["resources"]
    assert resources["requests"] == resources["limits"]
    # /dev/shm follows the pod's memory too: a quarter of it, in whole GiB.
    [shm] = [v for v in pod_spec(job)["volumes"] if v["name"] == "dshm"]
    assert _mebibytes(shm["emptyDir"]["sizeLimit"]) == pod.memory_mib // 4 // 1024 * 1024


@pytest.mark.parametrize("stack", STACKS)
def test_every_pod_of_every_stack_fits_the_node_its_pool_makes(stack: str) -> None:
    spec = PlatformSpec.model_validate(stack_config(stack))
    manifests = Manifests(whole_plan(stack))
    for workload in spec.workloads:
        kind = "Job" if workload.kind == "training" else "Deployment"
        pods = {_pod(o) for o in manifests.all(kind) if o["metadata"]["name"] == workload.name}
        for site_name in workload.sites:
            site = spec.site(site_name)
            node = placement_pool(site, workload)
            assert node is not None
            if node.room is None:  # an existing cluster: sized by the spec
                assert workload.resources is not None
                continue
            mine = [p for p in pods if not fits(p, node.room)]
            assert mine, f"{stack}: no pod of {workload.name} fits a {node.pool} node of {site_name}"


def test_one_workload_gets_each_sites_own_share_and_an_explicit_size_everywhere() -> None:
    manifests = Manifests(whole_plan("multicloud"))
    sizes = {_pod(d) for d in manifests.all("Deployment") if d["metadata"]["name"] == "serve"}
    # g4dn.xlarge on AWS, NC16as_T4_v3 on Azure, gn6i-c4g1.xlarge on ACK: three T4 nodes, three sizes.
    assert len(sizes) == 3
    platform = whole_config("multicloud")
    platform["workloads"][1]["resources"] = {"cpu_millicores": 2000, "memory_mib": 8192}
    fixed = Manifests(config_plan(platform))
    assert {_pod(d) for d in fixed.all("Deployment")} == {Resources(1, 2000, 8192)}


def test_the_namespace_quota_holds_the_pods_as_they_are_sized_on_the_site() -> None:
    manifests = Manifests(stack_plan("aws-dev"))
    quota = manifests.one("ResourceQuota", "workloads")["spec"]["hard"]
    job, deployment = manifests.one("Job", "pretrain"), manifests.one("Deployment", "serve")
    trainer, server = _pod(job), _pod(deployment)
    # Two trainer pods; max replicas (4) plus a rollout's surge of one.
    assert _millicores(quota["requests.cpu"]) == 2 * trainer.cpu_millicores + 5 * server.cpu_millicores
    assert _mebibytes(quota["requests.memory"]) == 2 * trainer.memory_mib + 5 * server.memory_mib


@pytest.mark.parametrize("stack", STACKS)
def test_the_catalog_counts_every_chart_a_site_runs_on_its_gpu_nodes(stack: str) -> None:
    # node_room subtracts the per-node pods of the charts GPU_NODE_CHARTS lists per cloud; a chart a site
    # installs with pods on every node but missing there would make the fit check pass pods that stay Pending.
    spec = PlatformSpec.model_validate(stack_config(stack))
    clouds = {s.name: s.cloud for s in spec.sites}
    for release in whole_plan(stack).of_type("kubernetes:helm.sh/v3:Release"):
        chart = chart_name(str(release.inputs.get("chart", "")))
        if chart not in CHART_DAEMONS:
            continue
        site = next(name for name in clouds if release.name.startswith(f"{name}-"))
        if clouds[site] == "existing":
            continue  # no catalog types, no room computed
        assert chart in GPU_NODE_CHARTS[Cloud(clouds[site])], (stack, release.name)
