"""A package workload under a team waits in its team's Kueue queue, and a job placed any is split between a
MultiKueue manager and its workers, exactly as the Platform's Kubernetes layer builds them: each construct
over gRPC registers what the Python components register for the same workload."""

from __future__ import annotations

from typing import Any

import pytest
from parity import aws_h100_handle, children, python_children
from provider_harness import FakeEngine, secret

from lepton_infra.blueprint.queueing import local_queue_name, priority_class_name
from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.components.kubernetes.kueue import (
    MULTIKUEUE_MANAGED_BY,
    PRIORITY_CLASS_LABEL,
    QUEUE_LABEL,
    queue_labels,
)
from lepton_infra.plan.model import PlanResource

DIGEST = "sha256:" + "ab" * 32
KUBECONFIG = "apiVersion: v1\nkind: Config\n"
REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
BUCKET = "s3://lepton-artifacts"
POOL = {"name": "h100", "accelerator": "H100", "gpusPerNode": 8.0, "instanceType": "p5.48xlarge"}
TRAINING = {
    "name": "pretrain",
    "accelerator": "H100",
    "image": {"repository": "lepton/train", "digest": DIGEST},
    "nodes": 2.0,
    "gpusPerNode": 8.0,
    "maxSteps": 1000.0,
    "team": "research",
}


def _cluster(site: str, **facts: Any) -> dict[str, Any]:
    target = {"name": site, "registry": REGISTRY, "artifactBucketUri": BUCKET, "cloud": "aws"}
    return {**target, "gpuPools": [POOL], **facts}


def _training_spec(**fields: Any) -> TrainingWorkloadSpec:
    return TrainingWorkloadSpec.model_validate(
        {
            "kind": "training",
            "name": "pretrain",
            "accelerator": "H100",
            "sites": ["any"],
            "image": {"repository": "lepton/train", "digest": DIGEST},
            "nodes": 2,
            "gpus_per_node": 8,
            "max_steps": 1000,
            "team": "research",
            **fields,
        }
    )


def _job(resources: list[PlanResource]) -> PlanResource:
    (job,) = [r for r in resources if r.type == "kubernetes:batch/v1:Job"]
    return job


@pytest.mark.parametrize(
    ("role", "placement", "queued_as"),
    [
        (None, "each", {"queue_labels"}),
        ("manager", "any", {"queue_labels", "managed_by"}),
        ("worker", "any", {"queue_labels", "create_job"}),
    ],
)
def test_a_team_job_over_grpc_builds_what_the_platform_builds_on_that_cluster(
    engine: FakeEngine, role: str | None, placement: str, queued_as: set[str]
) -> None:
    from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs

    site = f"aws-{role or 'usw2'}"
    built = engine.construct(
        "lepton-infra:index:TrainingJob",
        "pretrain",
        {
            "kubeconfig": secret(KUBECONFIG),
            "cluster": _cluster(site, **({"multikueue": role} if role else {})),
            "workload": {**TRAINING, "placement": placement},
        },
    )

    workload = _training_spec(placement=placement)
    # As the site's Kubernetes layer (placement each, or a worker) and the MultiKueue manager build it.
    kueue: dict[str, Any] = {
        "queue_labels": queue_labels(workload),
        "managed_by": MULTIKUEUE_MANAGED_BY,
        "create_job": False,
    }

    def python_program() -> None:
        handle = aws_h100_handle("pretrain", site, kubeconfig=KUBECONFIG, registry=REGISTRY, bucket=BUCKET)
        args = TrainingJobArgs(handle, workload, **{k: v for k, v in kueue.items() if k in queued_as})
        TrainingJob("pretrain", args)

    expected = python_children(python_program, "lepton:kubernetes:TrainingJob")
    assert children(built.resources, "lepton:kubernetes:TrainingJob") == expected
    if role == "worker":
        # The dispatched copy arrives from the manager; the worker has what it needs to run.
        assert not [r for r in built.resources if r.type == "kubernetes:batch/v1:Job"]
        assert built.state["jobName"] == ""
        return
    labels = _job(built.resources).inputs["metadata"]["labels"]
    # The team's own queue, or its dispatch queue for a job placed any, at the team's training priority.
    assert labels[QUEUE_LABEL] == local_queue_name("research", placement)
    assert labels[PRIORITY_CLASS_LABEL] == priority_class_name("research", "training")
    assert (_job(built.resources).inputs["spec"].get("managedBy") == MULTIKUEUE_MANAGED_BY) == (
        role == "manager"
    )


def test_a_team_server_over_grpc_queues_each_replica_as_the_platform_does(engine: FakeEngine) -> None:
    from lepton_infra.components.kubernetes.inference_service import InferenceService, InferenceServiceArgs

    built = engine.construct(
        "lepton-infra:index:InferenceService",
        "serve",
        {
            "kubeconfig": secret(KUBECONFIG),
            "cluster": _cluster("aws-usw2"),
            "workload": {
                "name": "serve",
                "accelerator": "H100",
                "image": {"repository": "lepton/serve", "digest": DIGEST},
                "team": "research",
            },
        },
    )
    workload = InferenceWorkloadSpec.model_validate(
        {
            "kind": "inference",
            "name": "serve",
            "accelerator": "H100",
            "sites": ["aws-usw2"],
            "image": {"repository": "lepton/serve", "digest": DIGEST},
            "team": "research",
        }
    )

    def python_program() -> None:
        handle = aws_h100_handle("serve", "aws-usw2", kubeconfig=KUBECONFIG, registry=REGISTRY, bucket=BUCKET)
        InferenceService("serve", InferenceServiceArgs(handle, workload, queue_labels(workload)))

    expected = python_children(python_program, "lepton:kubernetes:InferenceService")
    assert children(built.resources, "lepton:kubernetes:InferenceService") == expected
    (deployment,) = [r for r in built.resources if r.type == "kubernetes:apps/v1:Deployment"]
    labels = deployment.inputs["metadata"]["labels"]
    assert labels[QUEUE_LABEL] == local_queue_name("research", "each")
    assert labels[PRIORITY_CLASS_LABEL] == priority_class_name("research", "inference")
