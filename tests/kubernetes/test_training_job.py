"""The training job as a user needs it: ranks wired, GPUs on the right pool, failures handled sensibly."""

from __future__ import annotations

from manifest_helpers import Manifests, env_of, main_container, pod_spec
from plan_helpers import config_plan, stack_config, without_teams

from lepton_infra.components.gpu_nodes import GPU_RESOURCE


def test_index_0_hosts_the_rendezvous_and_ranks_come_from_it(onprem: Manifests) -> None:
    job = onprem.one("Job", "pretrain")
    service = onprem.one("Service", "pretrain")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == 2
    container = main_container(job)
    args = container["args"]
    assert container["command"] == ["torchrun"]
    # c10d assigns node ranks in join order; torchrun ignores --node_rank (torch/distributed/run.py).
    assert not any(a.startswith("--node_rank") for a in args)
    assert "--nnodes=$(NNODES)" in args and env_of(container)["NNODES"]["value"] == "2"
    assert "--nproc_per_node=8" in args
    # <job>-0.<service> resolves only through a headless Service named as the pods' subdomain.
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert pod_spec(job)["subdomain"] == service["metadata"]["name"]
    assert "--rdzv_endpoint=pretrain-0.pretrain:29500" in args
    assert service["spec"]["selector"].items() <= job["spec"]["template"]["metadata"]["labels"].items()
    assert args[args.index("-m") + 1] == "workloads.train"
    assert args[args.index("--checkpoint-dir") + 1] == "$(CHECKPOINT_DIR)"


def test_gpus_are_requested_and_limited_alike_on_the_pools_nodes(onprem: Manifests) -> None:
    job = onprem.one("Job", "pretrain")
    resources = main_container(job)["resources"]
    assert resources["requests"] == resources["limits"]
    assert resources["limits"][GPU_RESOURCE] == "8"
    spec = pod_spec(job)
    assert spec["nodeSelector"] == {
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "lepton.ai/pool": "h100",
    }
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    ]


def test_preemption_is_retried_for_free_and_code_errors_fail_fast(onprem: Manifests) -> None:
    spec = onprem.one("Job", "pretrain")["spec"]
    # In this order: rules apply to failed pods only, and the first that matches decides.
    disrupted, preempted, fail = spec["podFailurePolicy"]["rules"]
    assert disrupted == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    # The trainer checkpoints and exits 75 on SIGTERM on every node, not 0: a pod that succeeds
    # completes its index for good, and the run would end early.
    assert preempted == {
        "action": "Ignore",
        "onExitCodes": {"containerName": "trainer", "operator": "In", "values": [75]},
    }
    assert env_of(main_container(onprem.one("Job", "pretrain")))["LEPTON_PREEMPTED_EXIT_CODE"] == {
        "name": "LEPTON_PREEMPTED_EXIT_CODE",
        "value": "75",
    }
    assert fail["action"] == "FailJob"
    # Not 1: torchrun exits 1 on a rendezvous timeout too (a late peer), which a retry heals (issue 12, 9).
    assert fail["onExitCodes"] == {"containerName": "trainer", "operator": "In", "values": [2]}
    assert pod_spec(onprem.one("Job", "pretrain"))["restartPolicy"] == "Never"
    assert spec["backoffLimit"] == 3
    assert spec["activeDeadlineSeconds"] == 604800
    # No TTL by default: a Job the TTL controller deleted is recreated by the next `up` after a refresh.
    assert "ttlSecondsAfterFinished" not in spec
    assert spec["podReplacementPolicy"] == "Failed"
    assert pod_spec(onprem.one("Job", "pretrain"))["terminationGracePeriodSeconds"] == 300


def test_shared_memory_and_checkpoints_are_mounted(onprem: Manifests) -> None:
    job = onprem.one("Job", "pretrain")
    volumes = {v["name"]: v for v in pod_spec(job)["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "65536Mi"}
    assert volumes["checkpoints"]["persistentVolumeClaim"] == {
        "claimName": "pretrain-checkpoints",
        "readOnly": False,
    }
    mounts = {m["name"]: m["mountPath"] for m in main_container(job)["volumeMounts"]}
    assert mounts["dshm"] == "/dev/shm"
    assert env_of(main_container(job))["CHECKPOINT_DIR"]["value"] == mounts["checkpoints"]
    claim = onprem.one("PersistentVolumeClaim", "pretrain-checkpoints")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == "cephfs"
    [resource] = [
        r for r in onprem.plan.of_type("kubernetes:core/v1:PersistentVolumeClaim") if "pretrain" in r.name
    ]
    assert resource.protect


def test_bucket_checkpoints_go_under_the_sites_artifact_bucket(aws_dev: Manifests) -> None:
    container = main_container(aws_dev.one("Job", "pretrain"))
    directory = env_of(container)["CHECKPOINT_DIR"]["value"]
    assert directory.startswith("s3://") and directory.endswith("/checkpoints/pretrain")


def test_the_environment_a_site_needs_for_its_bucket_reaches_every_container_that_uses_it() -> None:
    config = stack_config("existing-cluster")
    site = config["sites"][0]
    site["artifact_bucket_uri"] = "s3://ml-artifacts"
    site["artifact_env"] = {"AWS_ENDPOINT_URL": "https://minio.ml.example.internal"}
    for workload in config["workloads"]:
        workload["checkpoint"] = {"kind": "bucket"}

    manifests = Manifests(config_plan(config))

    for kind, name in (("Job", "pretrain"), ("Deployment", "serve")):
        env = env_of(main_container(manifests.one(kind, name)))
        assert env["CHECKPOINT_DIR"]["value"] == f"s3://ml-artifacts/checkpoints/{name}"
        assert env["AWS_ENDPOINT_URL"]["value"] == "https://minio.ml.example.internal"


def test_job_pods_reach_each_other_and_prometheus_reaches_their_metrics(onprem: Manifests) -> None:
    policy = onprem.one("NetworkPolicy", "pretrain")["spec"]
    peers = policy["podSelector"]
    assert {"from": [{"podSelector": peers}]} in policy["ingress"]
    metrics = next(rule for rule in policy["ingress"] if rule.get("ports"))
    assert metrics["ports"] == [{"protocol": "TCP", "port": 9102}]
    assert metrics["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert {"to": [{"podSelector": peers}]} in policy["egress"]


def test_no_progress_alert_watches_the_trainers_step_gauge(onprem: Manifests) -> None:
    rule = onprem.one("PrometheusRule", "pretrain-alerts")["spec"]["groups"][0]["rules"][0]
    assert rule["alert"] == "TrainingNoProgress"
    assert "lepton_train_last_step_timestamp_seconds" in rule["expr"]
    assert rule["expr"].endswith("> 1800")
    monitor = onprem.one("ServiceMonitor", "pretrain")["spec"]
    assert monitor["endpoints"][0]["port"] == "metrics"


def test_pulumi_waits_for_the_job_to_start_never_for_it_to_finish() -> None:
    # Issue 12 item 2. pulumi-kubernetes awaits a Job's Complete condition for 10 minutes and again on each
    # update (registry docs of kubernetes.batch/v1.Job): a 100,000-step run fails every `pulumi up`.
    # `pulumi.com/waitFor` replaces that wait (pulumi/pulumi-kubernetes#3134, #3329) with the Job controller
    # having started the Job; unlike skipAwait it keeps the wait on delete, which a replacement needs.
    # (A queued Job waits for Kueue instead: tests/kubernetes/test_kueue.py.)
    onprem = Manifests(config_plan(without_teams(stack_config("existing-cluster"))))
    job = onprem.one("Job", "pretrain")
    annotations = job["metadata"]["annotations"]
    assert annotations == {"pulumi.com/waitFor": "jsonpath={.status.startTime}"}
    assert "pulumi.com/skipAwait" not in annotations
    [resource] = [r for r in onprem.plan.of_type("kubernetes:batch/v1:Job") if "pretrain" in r.name]
    # The old Job goes first (same name), and its deletion may take the pods' grace period to checkpoint.
    assert resource.options["deleteBeforeReplace"] is True
    grace = pod_spec(job)["terminationGracePeriodSeconds"]
    assert resource.options["customTimeouts"]["delete"] == f"{grace + 300}s"


def test_rendezvous_timeouts_outlast_a_scale_up_and_an_image_pull(onprem: Manifests) -> None:
    # Issue 12 item 9: torch's defaults (read 60 s, join 600 s) fail a job whose second pod starts minutes
    # after the first. read_timeout is also how long an agent tries to reach the store on pod 0.
    args = main_container(onprem.one("Job", "pretrain"))["args"]
    assert "--rdzv_conf=join_timeout=1800,read_timeout=1800" in args


def test_the_rendezvous_timeout_is_the_specs_to_tune() -> None:
    config = stack_config("existing-cluster")
    config["workloads"][0]["rendezvous_timeout_seconds"] = 3600
    args = main_container(Manifests(config_plan(config)).one("Job", "pretrain"))["args"]
    assert "--rdzv_conf=join_timeout=3600,read_timeout=3600" in args
