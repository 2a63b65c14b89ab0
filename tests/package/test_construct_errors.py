"""Bad inputs over gRPC fail with every problem against its property, as the engine shows them, never with
a traceback: Construct checks nothing beyond required inputs, so the package checks the rest before it
builds anything."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from provider_harness import FakeEngine, property_errors, secret

DIGEST = "sha256:" + "ab" * 32
CLUSTER = {
    "name": "onprem",
    "registry": "registry.example.internal/lepton",
    "gpuPools": [{"name": "h100", "accelerator": "H100", "gpusPerNode": 8.0}],
}
WORKLOAD = {
    "name": "pretrain",
    "accelerator": "H100",
    "image": {"repository": "lepton/train", "digest": DIGEST},
    "gpusPerNode": 8.0,
    "maxSteps": 100.0,
}
H100_POOL = {"name": "h100", "accelerator": "H100", "gpusPerNode": 8.0, "instanceType": "p5.48xlarge"}
NODE_GROUP = {
    "clusterName": "gpu-eks",
    "kubernetesVersion": "1.33",
    "nodeRoleArn": "arn:aws:iam::123456789012:role/nodes",
    "subnetIds": ["subnet-a"],
    "instanceType": "p5.48xlarge",
    "minNodes": 0.0,
    "maxNodes": 2.0,
    "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/k",
}


def refused(engine: FakeEngine, type_: str, inputs: dict[str, Any]) -> dict[str, str]:
    """The properties the provider refused, with its reason for each; fails if it accepted the inputs."""
    registered = len(engine.monitor.recorder.recorded)
    with pytest.raises(grpc.RpcError) as raised:
        engine.construct(f"lepton-infra:index:{type_}", "bad", inputs)
    # Refused before anything was registered, the component itself included.
    assert len(engine.monitor.recorder.recorded) == registered
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    errors = dict(property_errors(raised.value))
    assert errors, "the provider refused the inputs without naming a property"
    assert not any("Traceback" in reason for reason in errors.values())
    return errors


def test_every_mistyped_input_is_named_at_once_by_its_schema_name(engine: FakeEngine) -> None:
    errors = refused(
        engine,
        "AwsNetwork",
        {"cidr": "10.20.0.0/16", "zoneCount": "two", "natGatewayPerZone": "yes", "tags": {"team": 7.0}},
    )
    assert errors == {
        "zoneCount": "must be a whole number, not a string",
        "natGatewayPerZone": "must be true or false, not a string",
        "tags.team": "must be a string, not a number",
    }


def test_a_bad_network_range_is_refused_before_the_subnets_are_computed(engine: FakeEngine) -> None:
    errors = refused(engine, "AwsNetwork", {"cidr": "10.20.0.0/33"})
    assert list(errors) == ["cidr"]
    assert "CIDR" in errors["cidr"]


def test_an_empty_autoscaling_range_blames_min_nodes(engine: FakeEngine) -> None:
    errors = refused(engine, "AwsManagedNodeGroup", {**NODE_GROUP, "minNodes": 5.0})
    assert errors == {"minNodes": "min_nodes (5) must not exceed max_nodes (2)"}


def test_a_public_api_for_everyone_is_refused_by_the_clusters_own_rule(engine: FakeEngine) -> None:
    errors = refused(
        engine,
        "AwsEksCluster",
        {
            "clusterName": "gpu-eks",
            "kubernetesVersion": "1.33",
            "subnetIds": ["subnet-a"],
            "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/k",
            "apiAllowlist": ["0.0.0.0/0"],
        },
    )
    assert list(errors) == ["apiAllowlist"]
    # The allowlist is judged by CIDR arithmetic over its union (issue 15 item 2).
    assert "open to the whole internet" in errors["apiAllowlist"]


def test_an_args_sentence_that_starts_with_a_field_is_reported_against_it(engine: FakeEngine) -> None:
    errors = refused(
        engine,
        "AzureVaultKey",
        {"resourceGroupName": "rg", "location": "eastus2", "tenantId": "t", "rotationDays": 400.0},
    )
    assert list(errors) == ["rotationDays"]


def test_a_workload_is_checked_by_the_platform_spec_with_paths_in_schema_names(engine: FakeEngine) -> None:
    workload = {
        **WORKLOAD,
        "image": {"repository": "lepton/train", "tag": "latest"},
        "checkpoint": {"kind": "bucket", "claimName": "ckpt"},
    }
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("kubeconfig"), "cluster": CLUSTER, "workload": workload}
    )
    assert set(errors) == {"workload.image.digest", "workload.checkpoint.claimName"}
    assert "pin the image" in errors["workload.image.digest"]


def test_a_rule_across_fields_of_the_spec_names_its_field(engine: FakeEngine) -> None:
    resources = {"cpuMillicores": 8000.0, "memoryMib": 16384.0}
    workload = {**WORKLOAD, "resources": resources, "sharedMemoryMib": 20000.0}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": workload}
    )
    assert list(errors) == ["workload.sharedMemoryMib"]
    assert "counts against the pod's memory (16384 MiB)" in errors["workload.sharedMemoryMib"]


def test_a_workload_no_pool_can_hold_is_refused_before_anything_is_built(engine: FakeEngine) -> None:
    errors = refused(
        engine,
        "TrainingJob",
        {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": {**WORKLOAD, "accelerator": "L4"}},
    )
    assert list(errors) == ["workload.accelerator"]
    assert "no L4 pool" in errors["workload.accelerator"]


def test_pods_are_sized_by_the_node_only_where_the_pool_names_its_instance_type(engine: FakeEngine) -> None:
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": WORKLOAD}
    )
    assert list(errors) == ["workload.resources"]


def test_a_pod_larger_than_what_its_node_has_for_pods_is_refused(engine: FakeEngine) -> None:
    """It would stay Pending forever; the spec's own fit rule judges it on the pool's catalog type."""
    pools = [H100_POOL]
    workload = {**WORKLOAD, "resources": {"cpuMillicores": 400000.0, "memoryMib": 65536.0}}
    errors = refused(
        engine,
        "TrainingJob",
        {
            "kubeconfig": secret("k"),
            "cluster": {**CLUSTER, "cloud": "aws", "gpuPools": pools},
            "workload": workload,
        },
    )
    assert list(errors) == ["workload.resources.cpuMillicores"]


@pytest.mark.parametrize(
    ("cluster", "blamed"),
    [
        ({"gpuPools": [H100_POOL]}, "cluster.cloud"),
        (
            {"cloud": "aws", "gpuPools": [{**H100_POOL, "instanceType": "p9.huge"}]},
            "cluster.gpuPools[0].instanceType",
        ),
        (
            {"cloud": "aws", "gpuPools": [{**H100_POOL, "gpusPerNode": 4.0}]},
            "cluster.gpuPools[0].gpusPerNode",
        ),
    ],
)
def test_a_pools_instance_type_must_be_one_the_catalog_knows_on_the_clusters_cloud(
    engine: FakeEngine, cluster: dict[str, Any], blamed: str
) -> None:
    errors = refused(engine, "GpuRuntime", {"kubeconfig": secret("k"), "cluster": {**CLUSTER, **cluster}})
    assert list(errors) == [blamed]


def test_a_gpu_pool_is_checked_like_an_existing_sites_pool(engine: FakeEngine) -> None:
    pools = [{"name": "H100 pool", "accelerator": "H100", "gpusPerNode": 64.0}]
    errors = refused(
        engine, "GpuRuntime", {"kubeconfig": secret("k"), "cluster": {**CLUSTER, "gpuPools": pools}}
    )
    assert set(errors) >= {"cluster.gpuPools[0].name", "cluster.gpuPools[0].gpusPerNode"}


def test_an_unknown_gpu_model_is_refused_by_the_provider_host(engine: FakeEngine) -> None:
    errors = refused(
        engine,
        "TrainingJob",
        {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": {**WORKLOAD, "accelerator": "H200"}},
    )
    assert list(errors) == ["workload.accelerator"]


def test_a_secret_inside_an_object_input_gets_an_answer_instead_of_every_field_missing(
    engine: FakeEngine,
) -> None:
    """The SDK marks an object holding a plain secret as one secret value (pulumi/runtime/rpc.py,
    deserialize_property), which its host then reads as an object without fields."""
    cluster = {**CLUSTER, "artifactEnv": {"AWS_SECRET_ACCESS_KEY": secret("s3cr3t")}}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": cluster, "workload": WORKLOAD}
    )
    assert list(errors) == ["cluster"]
    assert "keep secrets out of object inputs" in errors["cluster"]


def test_the_platform_spec_is_validated_with_its_own_paths(engine: FakeEngine) -> None:
    platform = {
        "name": "lepton",
        "sites": [{"name": "usw2", "cloud": "aws", "region": "us-west-2", "kubernetes_version": "1.33"}],
    }
    errors = refused(engine, "Platform", {"platform": platform})
    assert errors and all(path.startswith("platform.sites[0]") for path in errors)
    assert "platform.sites[0].network" in errors


EFA = [
    {"networkCard": 0.0, "device": 0.0, "kind": "interface"},
    {"networkCard": 0.0, "device": 1.0, "kind": "efa-only"},
]


@pytest.mark.parametrize(
    ("interfaces", "blamed"),
    [
        # "You can't use an EFA-only network interface as the primary network interface" (EC2 User Guide,
        # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html).
        ([{**EFA[0], "kind": "efa-only"}, EFA[1]], {"networkInterfaces[0].kind"}),
        ([EFA[0], {**EFA[0]}], {"networkInterfaces[0]", "networkInterfaces[1]"}),
        ([EFA[0], {**EFA[1], "kind": "srd"}], {"networkInterfaces[1].kind"}),
    ],
)
def test_node_interfaces_ec2_would_refuse_are_refused_against_the_interface(
    engine: FakeEngine, interfaces: list[dict[str, Any]], blamed: set[str]
) -> None:
    inputs = {**NODE_GROUP, "networkInterfaces": interfaces, "securityGroupIds": ["sg-cluster"]}
    assert set(refused(engine, "AwsManagedNodeGroup", inputs)) == blamed


def test_nodes_with_their_own_interfaces_must_name_their_security_groups(engine: FakeEngine) -> None:
    """A launch template that names interfaces gets no cluster security group from EKS (EKS user guide,
    launch-templates): nodes without one could not reach the control plane."""
    errors = refused(engine, "AwsManagedNodeGroup", {**NODE_GROUP, "networkInterfaces": EFA})
    assert list(errors) == ["securityGroupIds"]


def test_the_role_the_kubeconfig_assumes_must_be_a_role_arn(engine: FakeEngine) -> None:
    cluster = {
        "clusterName": "gpu-eks",
        "kubernetesVersion": "1.33",
        "subnetIds": ["subnet-a"],
        "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/k",
        "assumeRoleArn": "arn:aws:iam::123456789012:user/deployer",
    }
    assert list(refused(engine, "AwsEksCluster", cluster)) == ["assumeRoleArn"]


def test_a_job_spanning_more_nodes_than_its_pool_has_is_refused(engine: FakeEngine) -> None:
    """Its pods beyond the pool's size would stay Pending, the others wait at the rendezvous until it times
    out."""
    pools = [{**H100_POOL, "maxNodes": 2.0}]
    cluster = {**CLUSTER, "cloud": "aws", "gpuPools": pools}
    workload = {**WORKLOAD, "nodes": 3.0}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": cluster, "workload": workload}
    )
    assert list(errors) == ["workload.nodes"]
    assert "at most 2" in errors["workload.nodes"]


def test_a_job_placed_any_names_its_team_the_bucket_and_which_cluster_this_is(engine: FakeEngine) -> None:
    """MultiKueue admits a job through its team's queue and copies it unchanged to a worker: a claim would
    stay behind (Kueue docs, concepts/multikueue)."""
    cluster = {**CLUSTER, "cloud": "aws", "gpuPools": [H100_POOL]}
    checkpoint = {"kind": "volume", "claimName": "ckpt"}
    workload = {**WORKLOAD, "placement": "any", "checkpoint": checkpoint}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": cluster, "workload": workload}
    )
    assert set(errors) == {"workload.team", "workload.checkpoint", "cluster.multikueue"}


def test_a_variable_the_platform_sets_is_refused_at_its_own_name(engine: FakeEngine) -> None:
    """A map's keys are the program's own (an environment variable keeps its underscores): the path names the
    variable as written, not as a property would be spelled."""
    workload = {**WORKLOAD, "args": ["train.py"], "env": {"CHECKPOINT_DIR": "/tmp", "NCCL_DEBUG": "WARN"}}
    workload.pop("maxSteps")
    cluster = {**CLUSTER, "artifactEnv": {"OSS_ENDPOINT": 7.0}}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": cluster, "workload": workload}
    )
    assert errors == {"cluster.artifactEnv.OSS_ENDPOINT": "must be a string, not a number"}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": workload}
    )
    assert list(errors) == ["workload.env.CHECKPOINT_DIR"]


def test_our_trainer_needs_its_steps_and_your_own_script_refuses_them(engine: FakeEngine) -> None:
    ours = {k: v for k, v in WORKLOAD.items() if k != "maxSteps"}
    errors = refused(engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": ours})
    assert list(errors) == ["workload.maxSteps"]
    yours = {**WORKLOAD, "args": ["train.py"], "trainerArgs": ["--n-layer", "12"]}
    errors = refused(
        engine, "TrainingJob", {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": yours}
    )
    assert set(errors) == {"workload.maxSteps", "workload.trainerArgs"}


SERVER = {
    "name": "chat",
    "accelerator": "H100",
    "image": {"repository": "vllm/vllm-openai", "digest": DIGEST},
    "resources": {"cpuMillicores": 8000.0, "memoryMib": 65536.0},
}


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({"kind": "vllm"}, {"workload.server.stagerImage": "required field is missing"}),
        (
            {"kind": "custom", "command": ["sglang"], "healthPath": "/health", "cacheDiskGib": 10.0},
            {
                "workload.server.cacheDiskGib": "unknown key; allowed: args, command, env, healthPath, kind, "
                "metricsPath, readinessPath, stagedModel"
            },
        ),
        (
            {"kind": "custom", "healthPath": "/health"},
            {"workload.server.command": "required field is missing"},
        ),
    ],
)
def test_a_servers_fields_are_held_to_its_kind_and_named_as_the_schema_spells_them(
    engine: FakeEngine, server: dict[str, Any], expected: dict[str, str]
) -> None:
    workload = {**SERVER, "server": server}
    inputs = {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": workload}
    assert refused(engine, "InferenceService", inputs) == expected


def test_vllm_flags_the_platform_sets_are_refused_at_their_index(engine: FakeEngine) -> None:
    stager = {"repository": "lepton/stage", "digest": DIGEST}
    server = {"kind": "vllm", "stagerImage": stager, "extraArgs": ["--max-model-len", "4096", "--port=9000"]}
    inputs = {"kubeconfig": secret("k"), "cluster": CLUSTER, "workload": {**SERVER, "server": server}}
    assert list(refused(engine, "InferenceService", inputs)) == ["workload.server.extraArgs[2]"]


def test_the_metrics_adapter_refuses_what_is_no_metric_name_and_a_bad_prometheus_url(
    engine: FakeEngine,
) -> None:
    errors = refused(
        engine,
        "MetricsAdapter",
        {
            "kubeconfig": secret("k"),
            "cluster": CLUSTER,
            "metrics": ["vllm:num_requests_waiting", "queue depth"],
        },
    )
    assert errors == {"metrics[1]": "'queue depth' is not a Prometheus metric name"}
    assert list(
        refused(engine, "MetricsAdapter", {"kubeconfig": "k", "cluster": CLUSTER, "metrics": []})
    ) == ["metrics"]
    cluster = {**CLUSTER, "prometheusUrl": "prometheus:9090"}
    inputs = {"kubeconfig": secret("k"), "cluster": cluster, "metrics": ["lepton_serve_queue_depth"]}
    assert list(refused(engine, "MetricsAdapter", inputs)) == ["cluster.prometheusUrl"]


def test_a_gpu_operator_values_key_the_pinned_chart_lacks_is_refused_at_its_path(engine: FakeEngine) -> None:
    """Helm ignores a values key the chart never reads: `drivr` would install the chart's default driver
    without a word. Keys are checked against the chart's values.yaml at the pinned tag."""
    own = {"drivr": {"version": "570.172.08"}, "driver": {"repositry": "registry.example.internal"}}
    errors = refused(
        engine, "GpuRuntime", {"kubeconfig": secret("k"), "cluster": {**CLUSTER, "gpuOperatorValues": own}}
    )
    assert errors == {
        "cluster.gpuOperatorValues.drivr": "not a value of the GPU Operator chart v25.10.1",
        "cluster.gpuOperatorValues.driver.repositry": "not a value of the GPU Operator chart v25.10.1",
    }
