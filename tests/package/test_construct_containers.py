"""Bring your own container from a program in any language: a training job with its own launcher, script and
environment, a vLLM server on the staged export, and the metrics adapter its autoscaler needs, each built over
gRPC as a Python program builds it."""

from __future__ import annotations

from typing import Any

from parity import aws_h100_handle, children, python_children
from provider_harness import FakeEngine, secret

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.components.handle import ClusterAddons, ServiceAccountBinding
from lepton_infra.components.kubernetes.cluster_services import ClusterServices
from lepton_infra.components.kubernetes.metrics_adapter import adapter_services
from lepton_infra.engines import VLLM, adapter_metric_name

DIGEST = "sha256:" + "ab" * 32
STAGER = "sha256:" + "cd" * 32
REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
BUCKET = "s3://lepton-artifacts"
KUBECONFIG = "apiVersion: v1\nkind: Config\n"
ROLE = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/workload"}
CLUSTER = {
    "name": "aws-usw2",
    "registry": REGISTRY,
    "artifactBucketUri": BUCKET,
    "cloud": "aws",
    "gpuPools": [{"name": "h100", "accelerator": "H100", "gpusPerNode": 8.0, "instanceType": "p5.48xlarge"}],
}


def handle(name: str, addons: ClusterAddons | None = None) -> Any:
    binding = ServiceAccountBinding(annotations=ROLE)
    return aws_h100_handle(
        name,
        "aws-usw2",
        kubeconfig=KUBECONFIG,
        registry=REGISTRY,
        bucket=BUCKET,
        binding=binding,
        addons=addons,
    )


def container(resources: list[Any], kind: str, field: str = "containers") -> dict[str, Any]:
    (workload,) = [r for r in resources if r.type == f"kubernetes:{kind}"]
    (first, *_) = workload.inputs["spec"]["template"]["spec"][field]
    return dict(first)


def test_a_training_job_with_its_own_script_over_grpc_builds_what_python_builds(engine: FakeEngine) -> None:
    from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs

    built = engine.construct(
        "lepton-infra:index:TrainingJob",
        "finetune",
        {
            "kubeconfig": secret(KUBECONFIG),
            "cluster": CLUSTER,
            "workload": {
                "name": "finetune",
                "accelerator": "H100",
                "image": {"repository": "team/finetune", "digest": DIGEST},
                "nodes": 2.0,
                "gpusPerNode": 8.0,
                "command": ["python", "-m", "torch.distributed.run"],
                "args": ["train.py", "--lr", "3e-4", "--out", "$(CHECKPOINT_DIR)"],
                "env": {"HF_HUB_OFFLINE": "1", "NCCL_DEBUG": "WARN"},
            },
            "identity": {"annotations": ROLE},
        },
    )

    def python_program() -> None:
        workload = TrainingWorkloadSpec.model_validate(
            {
                "kind": "training",
                "name": "finetune",
                "accelerator": "H100",
                "sites": ["aws-usw2"],
                "image": {"repository": "team/finetune", "digest": DIGEST},
                "nodes": 2,
                "gpus_per_node": 8,
                "command": ["python", "-m", "torch.distributed.run"],
                "args": ["train.py", "--lr", "3e-4", "--out", "$(CHECKPOINT_DIR)"],
                "env": {"HF_HUB_OFFLINE": "1", "NCCL_DEBUG": "WARN"},
            }
        )
        TrainingJob("finetune", TrainingJobArgs(handle("finetune"), workload))

    expected = python_children(python_program, "lepton:kubernetes:TrainingJob")
    assert children(built.resources, "lepton:kubernetes:TrainingJob") == expected
    trainer = container(built.resources, "batch/v1:Job")
    # The team's launcher runs the team's script, under the platform's rendezvous and its own environment.
    assert trainer["command"] == ["python", "-m", "torch.distributed.run"]
    assert "--rdzv_endpoint=finetune-0.finetune:29500" in trainer["args"]
    assert trainer["args"][-5:] == ["train.py", "--lr", "3e-4", "--out", "$(CHECKPOINT_DIR)"]
    env = {e["name"]: e.get("value") for e in trainer["env"]}
    assert env["HF_HUB_OFFLINE"] == "1" and env["CHECKPOINT_DIR"] == f"{BUCKET}/checkpoints/finetune"


def test_a_vllm_server_over_grpc_builds_what_python_builds_staged_and_scaled_on_its_queue(
    engine: FakeEngine,
) -> None:
    from lepton_infra.components.kubernetes.inference_service import InferenceService, InferenceServiceArgs

    server = {"kind": "vllm", "stagerImage": {"repository": "lepton/stage", "digest": STAGER}}
    built = engine.construct(
        "lepton-infra:index:InferenceService",
        "chat",
        {
            "kubeconfig": secret(KUBECONFIG),
            "cluster": CLUSTER,
            "workload": {
                "name": "chat",
                "accelerator": "H100",
                "image": {"repository": "vllm/vllm-openai", "digest": DIGEST},
                "checkpoint": {"kind": "bucket", "prefix": "checkpoints/pretrain"},
                "gpusPerReplica": 8.0,
                "server": {
                    **server,
                    "extraArgs": ["--max-model-len", "4096"],
                    "env": {"VLLM_LOGGING_LEVEL": "INFO"},
                },
            },
            "identity": {"annotations": ROLE},
        },
    )

    def python_program() -> None:
        workload = InferenceWorkloadSpec.model_validate(
            {
                "kind": "inference",
                "name": "chat",
                "accelerator": "H100",
                "sites": ["aws-usw2"],
                "image": {"repository": "vllm/vllm-openai", "digest": DIGEST},
                "checkpoint": {"kind": "bucket", "prefix": "checkpoints/pretrain"},
                "gpus_per_replica": 8,
                "server": {
                    "kind": "vllm",
                    "stager_image": {"repository": "lepton/stage", "digest": STAGER},
                    "extra_args": ["--max-model-len", "4096"],
                    "env": {"VLLM_LOGGING_LEVEL": "INFO"},
                },
            }
        )
        InferenceService("chat", InferenceServiceArgs(handle("chat"), workload))

    expected = python_children(python_program, "lepton:kubernetes:InferenceService")
    assert children(built.resources, "lepton:kubernetes:InferenceService") == expected
    # The stager copies the export under the workload's identity before vLLM starts on it.
    stager = container(built.resources, "apps/v1:Deployment", "initContainers")
    assert stager["image"] == f"{REGISTRY}/lepton/stage@{STAGER}"
    assert (
        container(built.resources, "apps/v1:Deployment")["image"] == f"{REGISTRY}/vllm/vllm-openai@{DIGEST}"
    )
    # Left to its default, a vLLM server scales on its queue, under the name the adapter serves it by.
    (hpa,) = [r for r in built.resources if r.type.startswith("kubernetes:autoscaling/v2:Horizontal")]
    (metric,) = hpa.inputs["spec"]["metrics"]
    assert metric["pods"]["metric"]["name"] == adapter_metric_name(VLLM.metrics.queue_gauge)


def test_the_metrics_adapter_over_grpc_installs_what_python_installs_for_the_clusters_prometheus(
    engine: FakeEngine,
) -> None:
    url = "http://prometheus.observability.svc:9090"
    built = engine.construct(
        "lepton-infra:index:MetricsAdapter",
        "adapter",
        {
            "kubeconfig": secret(KUBECONFIG),
            "cluster": {**CLUSTER, "prometheusUrl": url},
            "metrics": [VLLM.metrics.queue_gauge, "lepton_serve_queue_depth", VLLM.metrics.queue_gauge],
        },
    )

    def python_program() -> None:
        addons = ClusterAddons(prometheus_url=url)
        series = sorted({VLLM.metrics.queue_gauge, "lepton_serve_queue_depth"})
        target = handle("adapter", addons)
        ClusterServices("adapter", adapter_services(series, addons), target.provider)

    expected = python_children(python_program, "lepton:kubernetes:ClusterServices")
    assert children(built.resources, "lepton:kubernetes:ClusterServices") == expected
    (release,) = [r for r in built.resources if r.type == "kubernetes:helm.sh/v3:Release"]
    values = release.inputs["values"]
    assert values["prometheus"]["url"] == url
    assert [rule["name"]["as"] for rule in values["rules"]["custom"]] == [
        "lepton_serve_queue_depth",
        "vllm_num_requests_waiting",
    ]
    assert built.state == {"releaseName": "prometheus-adapter", "prometheusUrl": url}


def test_without_a_prometheus_the_metrics_adapter_installs_one_to_read(engine: FakeEngine) -> None:
    built = engine.construct(
        "lepton-infra:index:MetricsAdapter",
        "adapter-own",
        {"kubeconfig": secret(KUBECONFIG), "cluster": CLUSTER, "metrics": [VLLM.metrics.queue_gauge]},
    )
    releases = {r.inputs["name"]: r for r in built.resources if r.type == "kubernetes:helm.sh/v3:Release"}
    assert set(releases) == {"prometheus", "prometheus-adapter"}
    assert releases["prometheus"].urn in releases["prometheus-adapter"].dependencies
    assert built.state["prometheusUrl"] == "http://prometheus-server.monitoring.svc:80"
