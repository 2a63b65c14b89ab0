"""A multi-node job on a pool with a fabric (EFA, InfiniBand) asks for its devices and gets NCCL's settings.

Without the request, NCCL on p5/p4d falls back to TCP over the pod network (issue 12 item 8; the EKS user
guide's NCCL example requests ``vpc.amazonaws.com/efa: 32`` next to ``nvidia.com/gpu: 8`` on a p5.48xlarge).
The site says what its pool's fabric is (``NodePlacement.fabric``); the TrainingJob only asks for it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from manifest_helpers import Manifests, env_of, main_container

from lepton_infra.blueprint import TrainingWorkloadSpec
from lepton_infra.catalog import Cloud, find_offering, node_room
from lepton_infra.components.gpu_nodes import GPU_RESOURCE
from lepton_infra.components.handle import ClusterHandle, Fabric, NodePlacement, ServiceAccountBinding
from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs
from lepton_infra.plan.engine import record

EFA = Fabric(
    name="efa",
    resources={"vpc.amazonaws.com/efa": 32},
    env={"FI_EFA_USE_DEVICE_RDMA": "1", "NCCL_SOCKET_IFNAME": "en"},
)
DIGEST = "sha256:" + "0" * 64


def _job(nodes: int, gpus_per_node: int, fabric: Fabric | None = EFA) -> dict[str, Any]:
    p5 = find_offering(Cloud.AWS, "p5.48xlarge")
    assert p5 is not None
    pool = NodePlacement.for_gpu_pool("h100", "H100", 8, room=node_room(Cloud.AWS, p5))
    workload = TrainingWorkloadSpec.model_validate(
        {
            "kind": "training",
            "name": "pretrain",
            "accelerator": "H100",
            "sites": ["aws"],
            "nodes": nodes,
            "gpus_per_node": gpus_per_node,
            "image": {"repository": "lepton/train", "digest": DIGEST},
            "max_steps": 10,
        }
    )

    def program() -> None:
        handle = ClusterHandle(
            site="aws",
            provider=k8s.Provider("k8s", kubeconfig="{}"),
            kubeconfig=pulumi.Output.from_input("{}"),
            registry=pulumi.Output.from_input("registry.example"),
            artifact_bucket_uri=pulumi.Output.from_input("s3://artifacts"),
            bind_service_account=lambda namespace, account: ServiceAccountBinding(),
            gpu_pools=(dataclasses.replace(pool, fabric=fabric),),
        )
        TrainingJob("aws-pretrain", TrainingJobArgs(handle, workload))

    return Manifests(record(program, project="test", stack="test")).one("Job", "pretrain")


def test_pods_of_a_multi_node_job_request_the_fabric_and_get_its_environment() -> None:
    container = main_container(_job(nodes=2, gpus_per_node=8))
    resources = container["resources"]
    assert resources["requests"]["vpc.amazonaws.com/efa"] == "32"
    assert resources["requests"][GPU_RESOURCE] == "8"
    # Device plugins' resources cannot be overcommitted: requests must equal limits.
    assert resources["requests"] == resources["limits"]
    env = env_of(container)
    assert env["FI_EFA_USE_DEVICE_RDMA"]["value"] == "1"
    assert env["NCCL_SOCKET_IFNAME"]["value"] == "en"


def test_a_pod_with_half_the_nodes_gpus_asks_for_half_its_fabric() -> None:
    resources = main_container(_job(nodes=4, gpus_per_node=4))["resources"]
    assert resources["limits"]["vpc.amazonaws.com/efa"] == "16"


def test_a_single_node_job_or_a_pool_without_fabric_asks_for_none() -> None:
    for job in (_job(nodes=1, gpus_per_node=8), _job(nodes=2, gpus_per_node=8, fabric=None)):
        container = main_container(job)
        assert "vpc.amazonaws.com/efa" not in container["resources"]["requests"]
        assert "NCCL_SOCKET_IFNAME" not in env_of(container)
